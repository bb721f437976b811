#!/usr/bin/env python3
"""Compares what pmacct's pmbmpd logged (its JSON msglog) with the collector's MRT archive.

Usage: pmbmpd_check.py routes MSGLOG DUMP_JSON   -> exit 0 when every route pmbmpd logged as a
           Route Monitoring equals one route of the archive and the other way round: peer,
           prefix, path id, AS path, next hop and communities compared exactly
       pmbmpd_check.py count MSGLOG TYPE [PEER]  -> prints how many TYPE messages it logged
       pmbmpd_check.py stat MSGLOG PEER TYPE     -> prints the last value of counter TYPE for PEER

       pmbmpd_check.py sessions MSGLOG AS2_PEER V6_PEER
                                                 -> exit 0 when the 2-octet AS session's Peer Up
           and routes came with its real AS and AS_PATHs pmbmpd read as 2-octet ones (the A flag:
           without it pmbmpd reads them as 4-octet and garbles them), and the IPv6 session's Peer
           Up and routes came with its IPv6 addresses (the V flag) and IPv6 prefixes
       pmbmpd_check.py speak TO PORT SOURCE AS ID FAMILY AS4 N
                                                 -> a minimal BGP speaker: connects from SOURCE to
           TO:PORT as AS (BGP Identifier ID), offers capability 65 when AS4 is 1 (else none: a
           2-octet AS session) and capability 1 for FAMILY (ipv4 or ipv6; ipv4 sends none), then
           announces N prefixes (4 per attribute set, AS_PATH of 2 or 4 octets as negotiated),
           End-of-RIB, prints "speaker SOURCE: N prefixes sent", keeps the session up, and at
           SIGTERM closes it with a Cease (6/2)

DUMP_JSON is `bgpscribe dump --json` of the MRT exporter's updates file of the same run.
`speak` exists because `bgpscribe replay` always offers 4-octet AS and binds its sources in
127.0.0.0/8, and these sessions need neither.
"""
import ipaddress
import json
import select
import signal
import socket
import struct
import sys
import time


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


def bgp_message(kind, body=b""):
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), kind) + body


def attribute(flags, kind, value):
    if len(value) > 255:
        return struct.pack("!BBH", flags | 0x10, kind, len(value)) + value
    return struct.pack("!BBB", flags, kind, len(value)) + value


def nlri(net):
    n = (net.prefixlen + 7) // 8
    return bytes([net.prefixlen]) + net.network_address.packed[:n]


def read_message(sock, buf):
    """One BGP message from sock (buf: bytes already read), as (type, body, rest)."""
    while len(buf) < 19 or len(buf) < struct.unpack("!H", buf[16:18])[0]:
        more = sock.recv(65536)
        if not more:
            raise EOFError("connection closed")
        buf += more
    size = struct.unpack("!H", buf[16:18])[0]
    return buf[18], buf[19:size], buf[size:]


def speak(to, port, source, asn, bgp_id, family, as4, count):
    v6 = family == "ipv6"
    caps = b""
    if v6:
        caps += bytes([1, 4]) + struct.pack("!HBB", 2, 0, 1)
    if as4:
        caps += bytes([65, 4]) + struct.pack("!I", asn)
    params = bytes([2, len(caps)]) + caps if caps else b""
    my_as = asn if asn <= 0xFFFF else 23456
    open_msg = bgp_message(1, struct.pack("!BHH4sB", 4, my_as, 90,
                                          ipaddress.IPv4Address(bgp_id).packed, len(params))
                           + params)
    af = socket.AF_INET6 if ":" in to else socket.AF_INET
    sock = socket.socket(af, socket.SOCK_STREAM)
    sock.bind((source, 0))
    sock.connect((to, port))
    sock.sendall(open_msg)
    buf = b""
    kind, _, buf = read_message(sock, buf)
    if kind != 1:
        sys.exit("speaker %s: expected an OPEN, got type %d" % (source, kind))
    sock.sendall(bgp_message(4))
    kind, _, buf = read_message(sock, buf)
    if kind != 4:
        sys.exit("speaker %s: expected a KEEPALIVE, got type %d" % (source, kind))
    width = "!I" if as4 else "!H"
    base = ipaddress.ip_network("2001:db8:4000::/48" if v6 else "100.64.0.0/24")
    for group in range(0, count, 4):
        path = [asn, 65020 + group // 4 % 1000, 64512 + group % 1000]
        as_path = bytes([2, len(path)]) + b"".join(struct.pack(width, a) for a in path)
        attrs = attribute(0x40, 1, b"\x00") + attribute(0x40, 2, as_path)
        attrs += attribute(0xC0, 8, struct.pack("!HH", 65010, group // 4 % 65536))
        nets = []
        for i in range(group, min(group + 4, count)):
            step = 1 << (base.max_prefixlen - base.prefixlen)
            nets.append(ipaddress.ip_network(
                (int(base.network_address) + i * step, base.prefixlen)))
        blob = b"".join(nlri(n) for n in nets)
        if v6:
            hop = ipaddress.IPv6Address("2001:db8::1").packed
            attrs += attribute(0x80, 14, struct.pack("!HBB", 2, 1, 16) + hop + b"\x00" + blob)
            body = struct.pack("!HH", 0, len(attrs)) + attrs
        else:
            attrs += attribute(0x40, 3, ipaddress.IPv4Address("192.0.2.33").packed)
            body = struct.pack("!HH", 0, len(attrs)) + attrs + blob
        sock.sendall(bgp_message(2, body))
    if v6:
        eor = attribute(0x80, 15, struct.pack("!HB", 2, 1))
        sock.sendall(bgp_message(2, struct.pack("!HH", 0, len(eor)) + eor))
    else:
        sock.sendall(bgp_message(2, struct.pack("!HH", 0, 0)))
    print("speaker %s: %d prefixes sent" % (source, count), flush=True)

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    last = time.monotonic()
    while not stopping:
        ready, _, _ = select.select([sock], [], [], 1.0)
        if ready and not sock.recv(65536):
            sys.exit("speaker %s: the collector closed the session" % source)
        if time.monotonic() - last > 20:
            sock.sendall(bgp_message(4))
            last = time.monotonic()
    sock.sendall(bgp_message(3, bytes([6, 2])))
    sock.close()
    return 0


def main():
    what = sys.argv[1]
    if what == "sessions":
        log, as2, v6 = sys.argv[2:5]
        ups = {j["peer_ip"]: j for j in msglog(log) if j.get("bmp_msg_type") == "peer_up"}
        routes = {as2: [], v6: []}
        for j in msglog(log):
            if j.get("bmp_msg_type") == "route_monitor" and j.get("peer_ip") in routes:
                routes[j["peer_ip"]].append(j)
        problems = []
        if as2 not in ups or ups[as2].get("peer_asn") != 65010:
            problems.append("no Peer Up of %s with AS 65010" % as2)
        paths = {r.get("as_path", "") for r in routes[as2]}
        if not routes[as2] or any(not p.startswith("65010 ") or
                                  any(int(a) > 0xFFFF for a in p.split()) for p in paths):
            problems.append("%s: AS paths %s" % (as2, sorted(paths)[:3]))
        if v6 not in ups or ":" not in ups[v6].get("local_ip", ""):
            problems.append("no Peer Up of %s with an IPv6 local address" % v6)
        if not routes[v6] or any(r.get("afi") != 2 for r in routes[v6]):
            problems.append("%s: %d routes, not all IPv6" % (v6, len(routes[v6])))
        print("; ".join(problems) or "%s: %d routes, 2-octet AS paths such as '%s'; %s: %d IPv6 "
              "routes" % (as2, len(routes[as2]), min(paths), v6, len(routes[v6])))
        return 1 if problems else 0
    if what == "speak":
        to, port, source, asn, bgp_id, family, as4, count = sys.argv[2:10]
        return speak(to, int(port), source, int(asn), bgp_id, family, as4 == "1", int(count))
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
