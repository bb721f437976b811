#!/usr/bin/python3
"""Checks for the collector_bmp_* interop tests (issue 18: routers as BMP clients of bgpscribe).

Both inputs are `bgpscribe dump --json` lines: SENT is the `bgpscribe replay --record` file
(what replay sent to the router, peer = the replay session, local = the router), ARCHIVE the
collector's MRT update file (Route Monitoring of the router, peer = the monitored session).

    bmp_in_check.py routes SENT ARCHIVE --peer IP... --local-ip IP --local-as AS [--copies N]
        Per peer: the routes of ARCHIVE (its announcements and withdrawals in order) are those
        of SENT exactly: the same prefixes, and per prefix the same attributes (AS path,
        origin, next hop, MED, communities, large and extended communities, aggregator, atomic
        aggregate, other attributes: every member but the time); every archived UPDATE
        carries the peer's AS and the router's local address and AS (from the Peer Up); each
        prefix is announced N times (default 1: once per source, e.g. 2 for pre- and
        post-policy in one file). With --announced the archive's withdrawals are not applied
        (a router that withdraws what it reported before its Peer Down); the summary counts
        them. Prints one summary line per peer.
    bmp_in_check.py states ARCHIVE --peer IP
        The peer's state changes in ARCHIVE, one `OLD>NEW` line each, in order.
    bmp_in_check.py sql SENT SQL_LINES --peer IP
        SQL_LINES: `prefix|origin|as_path_text|next_hop|med|communities|large_communities|
        atomic_aggregate|aggregator_as|aggregator_address` of the peer's bgp.rib routes (psql
        -At, arrays joined by spaces, booleans t/f, NULL empty): equal to the peer's routes in
        SENT. Prints a summary line.
"""
import argparse
import collections
import ipaddress
import json
import sys

# JSON members that are not the route's (compared apart or not at all)
NOT_ROUTE = {"timestamp", "kind", "peer_ip", "peer_as", "local_ip", "local_as", "bmp"}


def lines(path):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as e:
                    raise SystemExit("%s:%d: not JSON: %s" % (path, n, e))


def canon_prefix(p):
    return str(ipaddress.ip_network(p, strict=False))


def table(path, peers, problems=None, local=None, announced=False):
    """{peer: {prefix: attrs}} after every announcement and withdrawal of PATH, in order (with
    ANNOUNCED: the announcements only), {peer: Counter(prefix: announcements)} and {peer:
    withdrawals}. With LOCAL (ip, as), UPDATE lines whose local end differs are reported in
    PROBLEMS."""
    rib = {p: {} for p in peers}
    count = {p: collections.Counter() for p in peers}
    withdrawn = collections.Counter()
    for o in lines(path):
        peer = o.get("peer_ip")
        if peer not in rib or o["kind"] not in ("announce", "withdraw"):
            continue
        if "prefix" not in o:
            problems.append("%s: a route without a prefix (other family): %s" % (peer, o))
            continue
        if local and problems is not None and (o.get("local_ip"), o.get("local_as")) != local:
            problems.append("%s %s: local end %s AS%s, the Peer Up said %s AS%s" % (
                peer, o["prefix"], o.get("local_ip"), o.get("local_as"), *local))
            local = None  # once is enough
        prefix = canon_prefix(o["prefix"])
        if o["kind"] == "withdraw":
            withdrawn[peer] += 1
            if not announced:
                rib[peer].pop(prefix, None)
            continue
        count[peer][prefix] += 1
        rib[peer][prefix] = {k: v for k, v in o.items() if k not in NOT_ROUTE}
        rib[peer][prefix]["peer_as"] = o.get("peer_as")
    return rib, count, withdrawn


def cmd_routes(a):
    problems = []
    sent, _, _ = table(a.sent, a.peer)
    got, count, withdrawn = table(a.archive, a.peer, problems, (a.local_ip, a.local_as),
                                  a.announced)
    summary = []
    for peer in a.peer:
        s, g = sent[peer], got[peer]
        if not s:
            problems.append("%s: replay sent no route" % peer)
            continue
        missing = sorted(set(s) - set(g))
        extra = sorted(set(g) - set(s))
        if missing:
            problems.append("%s: %d of %d routes missing from the archive, e.g. %s" % (
                peer, len(missing), len(s), missing[:5]))
        if extra:
            problems.append("%s: %d routes in the archive that were not sent, e.g. %s" % (
                peer, len(extra), extra[:5]))
        differ = [p for p in sorted(set(s) & set(g)) if s[p] != g[p]]
        if differ:
            p = differ[0]
            problems.append("%s: %d routes with other attributes, e.g. %s\n  sent:     %s\n"
                            "  archived: %s" % (peer, len(differ), p, json.dumps(s[p]),
                                                json.dumps(g[p])))
        wrong = [(p, n) for p, n in count[peer].items() if n != a.copies]
        if wrong:
            problems.append("%s: %d prefixes not announced %d time(s), e.g. %s" % (
                peer, len(wrong), a.copies, wrong[:5]))
        fams = collections.Counter(ipaddress.ip_network(p).version for p in g)
        attrs = collections.Counter(k for r in g.values() for k in r)
        summary.append("%s: %d routes (%d IPv4, %d IPv6) equal, %d announcements, %d "
                       "withdrawals; %s" % (
            peer, len(g), fams[4], fams[6], sum(count[peer].values()), withdrawn[peer],
            ", ".join("%s %d" % kv for kv in sorted(attrs.items()) if kv[0] != "prefix")))
    print("\n".join(summary))
    if problems:
        print("MISMATCH:\n" + "\n".join(problems))
        return 1
    return 0


def cmd_states(a):
    for o in lines(a.archive):
        if o["kind"] == "state" and o.get("peer_ip") == a.peer:
            print("%s>%s" % (o["old_state"], o["new_state"]))
    return 0


def sent_sql_line(prefix, r):
    agg = r.get("aggregator") or {}
    return "|".join([
        prefix, r.get("origin", ""), r.get("as_path", ""),
        r.get("next_hop") or r.get("mp_next_hop", ""),
        str(r["med"]) if "med" in r else "",
        " ".join(r.get("communities", [])), " ".join(r.get("large_communities", [])),
        "t" if r.get("atomic_aggregate") else "f",
        str(agg.get("asn", "")), agg.get("address", "")])


def cmd_sql(a):
    sent, _, _ = table(a.sent, [a.peer])
    want = sorted(sent_sql_line(p, r) for p, r in sent[a.peer].items())
    got = []
    with open(a.sql_lines) as f:
        for line in f:
            fields = line.rstrip("\n").split("|")
            if len(fields) != 10:
                raise SystemExit("%s: not 10 fields: %r" % (a.sql_lines, line))
            fields[0] = canon_prefix(fields[0])
            if fields[3]:
                fields[3] = str(ipaddress.ip_address(fields[3]))
            got.append("|".join(fields))
    got.sort()
    if got == want:
        print("%s: %d routes in bgp.rib equal what was sent" % (a.peer, len(got)))
        return 0
    w, g = set(want), set(got)
    print("MISMATCH: %s: bgp.rib holds %d routes, %d were sent; %d missing, e.g.\n  %s\n"
          "%d not sent, e.g.\n  %s" % (a.peer, len(got), len(want), len(w - g),
                                       "\n  ".join(sorted(w - g)[:3]), len(g - w),
                                       "\n  ".join(sorted(g - w)[:3])))
    return 1


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("routes")
    r.add_argument("sent")
    r.add_argument("archive")
    r.add_argument("--peer", nargs="+", required=True)
    r.add_argument("--local-ip", required=True)
    r.add_argument("--local-as", type=int, required=True)
    r.add_argument("--copies", type=int, default=1)
    r.add_argument("--announced", action="store_true")
    s = sub.add_parser("states")
    s.add_argument("archive")
    s.add_argument("--peer", required=True)
    q = sub.add_parser("sql")
    q.add_argument("sent")
    q.add_argument("sql_lines")
    q.add_argument("--peer", required=True)
    a = ap.parse_args()
    return {"routes": cmd_routes, "states": cmd_states, "sql": cmd_sql}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
