"""Compares the SQL archive with the MRT archive of the same collector run (postgres_e2e.sh).

Usage: pg_compare.py DSN BGPSCRIBE events MRT_FILE...   every UPDATE route event of the MRT
           files (read by `bgpscribe dump --json`) is in bgp.updates exactly once with the same
           time (µs), peer, prefix, path id and attributes, and nothing else is (the implicit
           withdrawals of sessions that went down are checked separately: one per route the
           peer held, at the time of the transition).
       pg_compare.py DSN BGPSCRIBE rib MRT_FILE...      bgp.rib equals the state the MRT
           events leave per (peer, prefix, path id), attributes included.
Prints a summary line; exits 1 with the first differences when they differ."""
import collections
import json
import subprocess
import sys

dsn, bgpscribe, mode, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]


def psql(sql):
    out = subprocess.run(["psql", dsn, "-X", "-q", "-A", "-t", "-F", "\t", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def attrs_of(j):
    """The attribute part of a route event as a comparable tuple."""
    nh = j.get("next_hop") or j.get("mp_next_hop") or ""
    agg = j.get("aggregator")
    return (j.get("origin", ""), j.get("as_path", ""), nh, j.get("mp_next_hop_link_local", ""),
            tuple(sorted(j.get("communities", []))), tuple(sorted(j.get("large_communities", []))),
            tuple(sorted(j.get("extended_communities", []))),
            "%s %s" % (agg["asn"], agg["address"]) if agg else "",
            bool(j.get("atomic_aggregate", False)), str(j.get("med", "")),
            str(j.get("local_pref", "")))


def mrt_events():
    out = subprocess.run([bgpscribe, "dump", "--json"] + files, check=True, capture_output=True,
                         text=True).stdout
    events = []
    for line in out.splitlines():
        j = json.loads(line)
        if j.get("kind") not in ("announce", "withdraw"):
            continue
        us = round(float(j["timestamp"]) * 1e6)
        a = attrs_of(j) if j["kind"] == "announce" else None
        events.append((us, j["peer_ip"], int(j["peer_as"]), j["prefix"], int(j.get("path_id", 0)),
                       j["kind"][0].upper(), a))
    return events


ATTR_SQL = """a.origin, a.as_path_text, host(a.next_hop), host(a.next_hop_link_local),
  array_to_string(a.communities, ','), array_to_string(a.large_communities, ','),
  array_to_string(a.extended_communities, ','), a.aggregator_as, host(a.aggregator_address), a.atomic_aggregate, a.med, a.local_pref"""


def attrs_sql(r):
    origin, path, nh, ll, comm, large, ext, agg_as, agg_addr, atomic, med, lp = r
    return (origin, path, nh, ll, tuple(sorted(c for c in comm.split(",") if c)),
            tuple(sorted(c for c in large.split(",") if c)),
            # One text form for both (codec/bgp/text.hpp): `ro:`, `rt:`, else 0x and hex.
            tuple(sorted(c for c in ext.split(",") if c)),
            "%s %s" % (agg_as, agg_addr) if agg_as else "", atomic == "t", med, lp)


def sql_events(implicit):
    # Implicit withdrawals: rows at the time of a transition out of Established of that peer.
    cond = "" if implicit else "NOT "
    rows = psql("""SELECT (extract(epoch FROM u.time) * 1000000)::bigint, host(p.address), p.asn,
        u.prefix, u.path_id, u.attr_id IS NULL, """ + ATTR_SQL + """
      FROM bgp.updates u JOIN bgp.peers p USING (peer_id) LEFT JOIN bgp.attr_sets a USING (attr_id)
      WHERE """ + cond + """EXISTS (SELECT 1 FROM bgp.peer_events e WHERE e.peer_id = u.peer_id
        AND e.time = u.time AND e.old_state = 'Established')""")
    events = []
    for r in rows:
        withdrawn = r[5] == "t"
        events.append((int(r[0]), r[1], int(r[2]), r[3], int(r[4]), "W" if withdrawn else "A",
                       None if withdrawn else attrs_sql(r[6:])))
    return events


def show_diff(name_a, a, name_b, b):
    ca, cb = collections.Counter(a), collections.Counter(b)
    only_a, only_b = ca - cb, cb - ca
    if not only_a and not only_b:
        return True
    print("differ: %d only in %s, %d only in %s" % (sum(only_a.values()), name_a,
                                                  sum(only_b.values()), name_b))
    for e in list(only_a)[:5]:
        print("  only in %s: %r" % (name_a, e))
    for e in list(only_b)[:5]:
        print("  only in %s: %r" % (name_b, e))
    return False


def final_state(events):
    state = {}
    for e in sorted(events, key=lambda e: e[0]):  # stable: same-time events keep file order
        key = (e[1], e[2], e[3], e[4])
        if e[5] == "A":
            state[key] = e[6]
        else:
            state.pop(key, None)
    return state


mrt = mrt_events()
if mode == "events":
    sql = sql_events(False)
    ok = show_diff("MRT", mrt, "SQL", sql)
    peers = collections.Counter((e[1], e[2]) for e in mrt)
    print("events: MRT %d, SQL %d, %d peers, %d prefixes" % (
        len(mrt), len(sql), len(peers), len({e[3] for e in mrt})))
    # Each session that went down withdrew exactly what it held just before.
    implicit = sql_events(True)
    held = collections.Counter()
    downs = psql("""SELECT (extract(epoch FROM e.time) * 1000000)::bigint, host(p.address), p.asn
      FROM bgp.peer_events e JOIN bgp.peers p USING (peer_id) WHERE e.old_state = 'Established'""")
    for t, ip, asn in downs:
        before = [e for e in mrt if e[0] <= int(t) and e[1] == ip and e[2] == int(asn)]
        expect = sorted((int(t), ip, int(asn), k[2], k[3], "W", None)
                        for k in final_state(before))
        held[(ip, asn)] = len(expect)
        got = sorted(e for e in implicit if e[0] == int(t) and e[1] == ip and e[2] == int(asn))
        ok = show_diff("expected implicit withdrawals", expect, "SQL", got) and ok
    print("implicit withdrawals: %d sessions down, %d rows" % (len(downs), len(implicit)))
    sys.exit(0 if ok else 1)
elif mode == "rib":
    want = final_state(mrt)
    rows = psql("""SELECT host(p.address), p.asn, r.prefix, r.path_id, """ + ATTR_SQL + """
      FROM bgp.rib r JOIN bgp.peers p USING (peer_id) JOIN bgp.attr_sets a USING (attr_id)""")
    got = {(r[0], int(r[1]), r[2], int(r[3])): attrs_sql(r[4:]) for r in rows}
    ok = show_diff("MRT state", list(want.items()), "bgp.rib", list(got.items()))
    print("rib: MRT state %d routes, bgp.rib %d" % (len(want), len(got)))
    sys.exit(0 if ok else 1)
sys.exit("unknown mode " + mode)
