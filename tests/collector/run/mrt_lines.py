"""Prints one line per route event of the BGP4MP UPDATEs in an MRT file, read with Debian's
mrtparse (an independent reader): "peer_ip peer_as A|W prefix/len", plus a last line
"records N errors N". Used by collector_e2e.sh to compare what the collector archived with
what replay sent."""
import sys

import mrtparse

records = errors = 0
for e in mrtparse.Reader(sys.argv[1]):
    records += 1
    m = e.mrt
    if m.err:
        errors += 1
        print("error", records, m.err_msg, file=sys.stderr)
        continue
    bgp = getattr(m, "bgp", None)
    if bgp is None or getattr(bgp, "msg", None) is None or not hasattr(bgp.msg, "nlri"):
        continue
    msg = bgp.msg
    who = "%s %s" % (bgp.peer_ip, bgp.peer_as)
    for n in msg.withdrawn or []:
        print(who, "W", "%s/%d" % (n.prefix, n.plen))
    for n in msg.nlri or []:
        print(who, "A", "%s/%d" % (n.prefix, n.plen))
    for a in msg.attr or []:
        if a.type == 14:
            for n in a.mp_reach.get("nlri", []):
                print(who, "A", "%s/%d" % (n.prefix, n.plen))
        elif a.type == 15:
            for n in a.mp_unreach.get("withdrawn", []):
                print(who, "W", "%s/%d" % (n.prefix, n.plen))
print("records %d errors %d" % (records, errors))
