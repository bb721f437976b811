#!/usr/bin/env python3
"""Compares what pmacct's pmbmpd logged (its JSON msglog) with the collector's MRT archive.

Usage: pmbmpd_check.py routes MSGLOG DUMP_JSON   -> exit 0 when every route pmbmpd logged as a
           Route Monitoring equals one route of the archive and the other way round: peer,
           prefix, path id, AS path, next hop and communities compared exactly
       pmbmpd_check.py count MSGLOG TYPE [PEER]  -> prints how many TYPE messages it logged
       pmbmpd_check.py stat MSGLOG PEER TYPE     -> prints the last value of counter TYPE for PEER

DUMP_JSON is `bgpscribe dump --json` of the MRT exporter's updates file of the same run.
"""
import json
import sys


def msglog(path):
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                yield json.loads(line)


# pmbmpd prints the well-known communities (RFC 1997, and 0:0) by name; the archive as numbers.
WELL_KNOWN = {"internet": "0:0", "no-export": "65535:65281", "no-advertise": "65535:65282",
              "local-AS": "65535:65283"}


def pmbmpd_routes(path):
    out = {}
    for j in msglog(path):
        if j.get("bmp_msg_type") != "route_monitor" or j.get("log_type") != "update":
            continue
        key = (j["peer_ip"], j["ip_prefix"], j.get("as_path_id", 0))
        out[key] = (j.get("as_path", ""), j.get("bgp_nexthop", ""),
                    " ".join(sorted(WELL_KNOWN.get(c, c) for c in j.get("comms", "").split())))
    return out


def archive_routes(path):
    out = {}
    with open(path) as f:
        for line in f:
            j = json.loads(line)
            if j.get("kind") == "announce":
                key = (j["peer_ip"], j["prefix"], j.get("path_id", 0))
                out[key] = (j.get("as_path", ""), j.get("next_hop") or j.get("mp_next_hop", ""),
                            " ".join(sorted(j.get("communities", []))))
            elif j.get("kind") == "withdraw":
                out.pop((j["peer_ip"], j["prefix"], j.get("path_id", 0)), None)
    return out


def main():
    what = sys.argv[1]
    if what == "routes":
        got, want = pmbmpd_routes(sys.argv[2]), archive_routes(sys.argv[3])
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        differ = sorted(k for k in set(got) & set(want) if got[k] != want[k])
        for name, keys in (("missing at pmbmpd", missing), ("only at pmbmpd", extra)):
            for k in keys[:3]:
                print("%s: %s" % (name, k))
        for k in differ[:3]:
            print("differs: %s pmbmpd %s archive %s" % (k, got[k], want[k]))
        print("%d routes in the archive, %d logged by pmbmpd, %d missing, %d extra, %d differ"
              % (len(want), len(got), len(missing), len(extra), len(differ)))
        return 0 if want and not missing and not extra and not differ else 1
    if what == "count":
        peer = sys.argv[4] if len(sys.argv) > 4 else None
        print(sum(1 for j in msglog(sys.argv[2]) if j.get("bmp_msg_type") == sys.argv[3]
                  and (peer is None or j.get("peer_ip") == peer)))
        return 0
    if what == "stat":
        value = -1
        for j in msglog(sys.argv[2]):
            if (j.get("bmp_msg_type") == "stats" and j.get("peer_ip") == sys.argv[3]
                    and j.get("counter_type") == int(sys.argv[4])):
                value = j.get("counter_value", -1)
        print(value)
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
