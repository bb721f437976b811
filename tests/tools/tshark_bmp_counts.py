#!/usr/bin/env python3
"""tshark's view of a BMP capture, for dump_bmp_pcap_test: decodes PCAP with tshark's BMP
dissector on the given TCP ports (-T pdml) and prints, one per line:
  rm N                      Route Monitoring messages
  announce AFI SAFI N       prefixes announced (NLRI field: 1 1; MP_REACH_NLRI: its AFI/SAFI)
  withdraw AFI SAFI N       prefixes withdrawn (Withdrawn Routes: 1 1; MP_UNREACH_NLRI)
for the unicast and multicast families (SAFI 1, 2), and for the other families, which
`bgpscribe dump --json` shows as one line per NLRI block (hex), the number of non-empty blocks:
  announce-blocks AFI SAFI N, withdraw-blocks AFI SAFI N
Usage: tshark_bmp_counts.py PCAP PORT..."""
import collections
import subprocess
import sys
import xml.etree.ElementTree as ET


def main():
    pcap, ports = sys.argv[1], sys.argv[2:]
    cmd = ["tshark", "-n", "-r", pcap, "-T", "pdml"]
    for p in ports:
        cmd += ["-d", f"tcp.port=={p},bmp"]
    pdml = subprocess.run(cmd, capture_output=True, check=True).stdout
    counts = collections.Counter()
    rm = 0
    for el in ET.fromstring(pdml).iter("field"):
        name = el.get("name")
        if name == "bmp.type" and el.get("show") == "0":
            rm += 1
        elif name == "bgp.update.nlri":
            counts[("announce", "1", "1")] += len(el)
        elif name == "bgp.update.withdrawn_routes":
            counts[("withdraw", "1", "1")] += len(el)
        elif name == "bgp.update.path_attribute":
            for kind, attr in (("announce", "mp_reach_nlri"), ("withdraw", "mp_unreach_nlri")):
                prefix = "bgp.update.path_attribute." + attr
                fields = {c.get("name"): c for c in el}
                if prefix + ".afi" in fields and prefix in fields:
                    afi = fields[prefix + ".afi"].get("show")
                    safi = fields[prefix + ".safi"].get("show")
                    nlri = len(fields[prefix])
                    if safi in ("1", "2"):
                        counts[(kind, afi, safi)] += nlri
                    elif nlri > 0:
                        counts[(kind + "-blocks", afi, safi)] += 1
    print("rm", rm)
    for (kind, afi, safi), n in sorted(counts.items()):
        if n:
            print(kind, afi, safi, n)


if __name__ == "__main__":
    main()
