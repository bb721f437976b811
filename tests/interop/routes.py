#!/usr/bin/python3
"""Deterministic route sets for the interop tests, in each daemon's own syntax, plus the lines
the monitor must print for them.

    routes.py DAEMON OUTDIR --as DAEMON_AS --nh4 ADDR --nh6 ADDR --peer ADDR [--peer ADDR]...
              [--v4 N] [--v6 M] [--withdraw-mod W] [--dual-mod D] [--prepend "AS ..."]

DAEMON is bird, frr, gobgp or exabgp. Route i (per family) gets attribute profile i % 30
(AS path of 0..5 extra ASNs incl. 4-octet ones, origin, MED, communities, large and extended
communities, aggregator/atomic aggregate and AS_SET where the daemon can originate them).
Routes with i % W == W // 2 form the "withdraw" subset. With --dual-mod D, routes with
i % D == 0 get a second path with another profile (ADD-PATH tests).

Files written to OUTDIR:
  bird:   routes.conf        static protocols s4/s6 (kept), s4w/s6w (withdraw subset),
                             s4d/s6d (second paths)
  frr:    routemaps.conf, networks4.conf, networks6.conf, withdraw.vtysh (vtysh -c lines)
  gobgp:  add.txt, withdraw.txt   (argument lines for `gobgp -p PORT ...`)
  exabgp: announce.txt, withdraw.txt (API lines)
  expected-PEER.txt          A lines without the time field, one per (path of a) route,
  withdrawn-PEER.txt         W lines without time for the withdraw subset,
  kept-PEER.txt              the expected lines less the withdraw subset,
  dual-PEER.txt              A lines of the second paths (addpath: path_id field is "?" for
                             daemons that choose it, exact for exabgp)
  counts                     shell assignments N4=, N6=, W4=, W6=, D4=, D6=
Everything is sorted byte-wise (LC_ALL=C) so a test can compare with `sort`.
"""
import argparse
import ipaddress
import os

K = 30
POOL = [64496, 4200000100, 131072, 3356, 174, 4200000200, 65550, 6939, 64511, 4294967294]
ORIGIN = ["IGP", "EGP", "INCOMPLETE"]


def profile(k, daemon):
    """Attributes of profile k, as daemon-independent values."""
    n = k % 6
    path = [POOL[(k * 3 + j * 7) % len(POOL)] for j in range(n)]
    aset = []
    if daemon in ("gobgp", "exabgp") and k % 10 == 9:
        aset = [64500 + k, 4200000300 + k]
    med = None if k % 4 == 0 else (0 if k % 4 == 3 else 100 * k)
    if med is None and daemon == "frr":
        med = 0     # bgpd gives `network` routes MED 0 (the IGP metric) unless a route-map sets it
    comms = [(64496, k), (64497, 1000 + k), (65000, 65000)][: k % 4]
    large = []
    if k % 3 == 1:
        large = [(4200000100, k, 1)]
    elif k % 3 == 2:
        large = [(4200000100, k, 1), (4200000200, 7, k)]
    ext = []
    if k % 5 == 2:
        ext = [(64496, k)]
    elif k % 5 == 4 and daemon != "gobgp":
        ext = [(64496, k), (64497, 1)]
    aggr = None
    atomic = False
    if k % 7 == 3 and daemon in ("frr", "gobgp", "exabgp"):
        # bgpd 8.4.4's `set aggregator as N A.B.C.D` sends a wrong ASN (4200000100 became
        # 3817052000, 131100 became 192): FRR gets only ATOMIC_AGGREGATE
        aggr = None if daemon == "frr" else (4200000100, "192.0.2.200")
        atomic = daemon != "gobgp"
    return dict(path=path, aset=aset, origin=ORIGIN[k % 3], med=med, comms=sorted(comms),
                large=sorted(large), ext=sorted(ext), aggr=aggr, atomic=atomic)


def ext_text(asn, val):
    """A two-octet-AS route target as the monitor prints it (examples/README.md, EXT)."""
    return "rt:%d:%d" % (asn, val)


def prefixes4(n):
    out = []
    for i in range(n):
        # one /23 block per route at 10.0.0.0 + i*512; length varies 23..32
        ln = [24, 23, 24, 25, 26, 28, 32, 24, 27, 24][i % 10]
        out.append(ipaddress.IPv4Network(((10 << 24) + i * 512, ln)))
    return out


def prefixes6(n):
    out = []
    for i in range(n):
        ln = [48, 56, 64, 48, 49, 60, 128, 48][i % 8]
        base = (0x20010db8 << 96) + (i << 80)
        out.append(ipaddress.IPv6Network((base, ln)))
    return out


class Gen:
    def __init__(self, a):
        self.a = a
        self.d = a.daemon
        self.nh = {4: a.nh4, 6: a.nh6}
        self.peer_as = a.peer_as if a.peer_as is not None else a.asn
        self.prepend = [int(x) for x in a.prepend.split()] if a.prepend is not None else (
            [] if self.d == "exabgp" else [a.asn])
        self.routes = []      # (fam, prefix, profile k, set name) set: main | wd | dual
        for fam, nets in ((4, prefixes4(a.v4)), (6, prefixes6(a.v6))):
            for i, net in enumerate(nets):
                k = i % K
                wd = a.withdraw_mod and i % a.withdraw_mod == a.withdraw_mod // 2
                self.routes.append((fam, net, k, "wd" if wd else "main"))
                if a.dual_mod and i % a.dual_mod == 0:
                    self.routes.append((fam, net, (k + 7) % K, "dual"))

    # the path as sent by the daemon (exabgp: the own AS is part of the configured path)
    def cfg_path(self, p):
        return ([self.a.asn] if self.d == "exabgp" else []) + p["path"]

    def a_line(self, peer, fam, net, k, pid):
        p = profile(k, self.d)
        path = " ".join(str(x) for x in self.prepend + self.cfg_path(p))
        if p["aset"]:
            path += (" " if path else "") + "{" + ",".join(map(str, p["aset"])) + "}"
        f = ["A", peer, str(self.peer_as), str(net), pid, path, p["origin"], self.nh[fam], "",
             "" if p["med"] is None or self.a.strip_med else str(p["med"]),
             " ".join("%d:%d" % c for c in p["comms"]),
             " ".join("%d:%d:%d" % c for c in p["large"]),
             " ".join(ext_text(*e) for e in p["ext"]),
             "AG" if p["atomic"] else "",
             "%d %s" % p["aggr"] if p["aggr"] else ""]
        return "|".join(f)

    def write_expected(self, out):
        addpath = bool(self.a.dual_mod)
        for peer in self.a.peer:
            exp, wd, dual, kept = [], [], [], []
            for fam, net, k, s in self.routes:
                pid = "0"
                if addpath:
                    pid = (("2" if s == "dual" else "1") if self.d == "exabgp" else "?")
                line = self.a_line(peer, fam, net, k, pid)
                (dual if s == "dual" else exp).append(line)
                if s == "main":
                    kept.append(line)
                if s == "wd":
                    wd.append("|".join(["W", peer, str(self.peer_as), str(net), pid]))
            safe = peer.replace(":", "_")
            for name, lines in (("expected", exp), ("withdrawn", wd), ("dual", dual), ("kept", kept)):
                with open(os.path.join(out, "%s-%s.txt" % (name, safe)), "w") as f:
                    f.write("".join(x + "\n" for x in sorted(lines, key=lambda s: s.encode())))
        with open(os.path.join(out, "counts"), "w") as f:
            for fam in (4, 6):
                f.write("N%d=%d\n" % (fam, sum(1 for r in self.routes if r[0] == fam and r[3] != "dual")))
                f.write("W%d=%d\n" % (fam, sum(1 for r in self.routes if r[0] == fam and r[3] == "wd")))
                f.write("D%d=%d\n" % (fam, sum(1 for r in self.routes if r[0] == fam and r[3] == "dual")))

    # ---- BIRD: static protocols, attributes set per route
    def bird(self, out):
        groups = {}
        for fam, net, k, s in self.routes:
            groups.setdefault((fam, s), []).append((net, k))
        with open(os.path.join(out, "routes.conf"), "w") as f:
            for fam in (4, 6):
                for s, suffix in (("main", ""), ("wd", "w"), ("dual", "d")):
                    f.write("protocol static s%d%s {\n  ipv%d;\n" % (fam, suffix, fam))
                    for net, k in groups.get((fam, s), []):
                        p = profile(k, "bird")
                        cmds = ["bgp_path.prepend(%d);" % x for x in reversed(p["path"])]
                        cmds.append("bgp_origin = ORIGIN_%s;" % p["origin"])
                        if p["med"] is not None:
                            cmds.append("bgp_med = %d;" % p["med"])
                        cmds += ["bgp_community.add((%d,%d));" % c for c in p["comms"]]
                        cmds += ["bgp_large_community.add((%d,%d,%d));" % c for c in p["large"]]
                        cmds += ["bgp_ext_community.add((rt,%d,%d));" % e for e in p["ext"]]
                        f.write("  route %s blackhole { %s };\n" % (net, " ".join(cmds)))
                    f.write("}\n")

    # ---- FRR: one route-map per profile, `network P route-map RM_k`
    def frr(self, out):
        with open(os.path.join(out, "routemaps.conf"), "w") as f:
            for k in range(K):
                p = profile(k, "frr")
                f.write("route-map RM_%d permit 10\n" % k)
                if p["path"]:
                    f.write(" set as-path prepend %s\n" % " ".join(map(str, p["path"])))
                f.write(" set origin %s\n" % p["origin"].lower())
                if p["med"] is not None:
                    f.write(" set metric %d\n" % p["med"])
                if p["comms"]:
                    f.write(" set community %s\n" % " ".join("%d:%d" % c for c in p["comms"]))
                if p["large"]:
                    f.write(" set large-community %s\n" % " ".join("%d:%d:%d" % c for c in p["large"]))
                if p["ext"]:
                    f.write(" set extcommunity rt %s\n" % " ".join("%d:%d" % e for e in p["ext"]))
                if p["atomic"]:
                    f.write(" set atomic-aggregate\n")
                if p["aggr"]:
                    f.write(" set aggregator as %d %s\n" % p["aggr"])
                f.write("exit\n!\n")
        for fam in (4, 6):
            with open(os.path.join(out, "networks%d.conf" % fam), "w") as f:
                for rf, net, k, s in self.routes:
                    if rf == fam and s != "dual":
                        f.write("  network %s route-map RM_%d\n" % (net, k))
        with open(os.path.join(out, "withdraw.vtysh"), "w") as f:
            f.write("configure terminal\nrouter bgp %d\n" % self.a.asn)
            for fam in (4, 6):
                f.write("address-family ipv%d unicast\n" % fam)
                for rf, net, k, s in self.routes:
                    if rf == fam and s == "wd":
                        f.write("no network %s route-map RM_%d\n" % (net, k))
                f.write("exit-address-family\n")
            f.write("end\n")

    # ---- GoBGP: CLI argument lines
    def gobgp(self, out):
        def args(fam, net, k, s):
            p = profile(k, "gobgp")
            w = ["global", "rib", "-a", "ipv%d" % fam, "add", str(net)]
            if self.a.dual_mod:
                w += ["identifier", "2" if s == "dual" else "1"]
            w += ["origin", p["origin"].lower(), "nexthop", self.nh[fam]]
            path = [str(x) for x in p["path"]]
            if p["aset"]:
                path.append("{" + ",".join(map(str, p["aset"])) + "}")
            if path:
                w += ["aspath", ",".join(path)]
            if p["med"] is not None:
                w += ["med", str(p["med"])]
            if p["comms"]:
                w += ["community", ",".join("%d:%d" % c for c in p["comms"])]
            if p["large"]:
                w += ["large-community", ",".join("%d:%d:%d" % c for c in p["large"])]
            if p["aggr"]:
                w += ["aggregator", "%d:%s" % p["aggr"]]
            if p["ext"]:
                w += ["rt", "%d:%d" % p["ext"][0]]
            return " ".join(w)

        with open(os.path.join(out, "add.txt"), "w") as f:
            for r in self.routes:
                f.write(args(*r) + "\n")
        with open(os.path.join(out, "withdraw.txt"), "w") as f:
            for fam, net, k, s in self.routes:
                if s == "wd":
                    w = ["global", "rib", "-a", "ipv%d" % fam, "del", str(net)]
                    if self.a.dual_mod:
                        w += ["identifier", "1"]
                    f.write(" ".join(w) + "\n")

    # ---- ExaBGP: API lines, one `announce route` per path
    def exabgp(self, out):
        def attrs(fam, k):
            p = profile(k, "exabgp")
            w = ["next-hop", self.nh[fam], "origin", p["origin"].lower()]
            path = [str(x) for x in self.cfg_path(p)]
            if p["aset"]:
                path += ["("] + [str(x) for x in p["aset"]] + [")"]
            w += ["as-path", "[", *path, "]"]
            if p["med"] is not None:
                w += ["med", str(p["med"])]
            if p["comms"]:
                w += ["community", "[", *("%d:%d" % c for c in p["comms"]), "]"]
            if p["large"]:
                w += ["large-community", "[", *("%d:%d:%d" % c for c in p["large"]), "]"]
            if p["ext"]:
                w += ["extended-community", "[", *("target:%d:%d" % e for e in p["ext"]), "]"]
            if p["atomic"]:
                w += ["atomic-aggregate"]
            if p["aggr"]:
                w += ["aggregator", "(", "%d:%s" % p["aggr"], ")"]
            return w

        with open(os.path.join(out, "announce.txt"), "w") as f:
            for fam, net, k, s in self.routes:
                w = ["announce", "route", str(net)]
                if self.a.dual_mod:
                    w += ["path-information", "2" if s == "dual" else "1"]
                f.write(" ".join(w + attrs(fam, k)) + "\n")
        with open(os.path.join(out, "withdraw.txt"), "w") as f:
            for fam, net, k, s in self.routes:
                if s == "wd":
                    w = ["withdraw", "route", str(net)]
                    if self.a.dual_mod:
                        w += ["path-information", "1"]
                    f.write(" ".join(w + ["next-hop", self.nh[fam]]) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("daemon", choices=["bird", "frr", "gobgp", "exabgp"])
    ap.add_argument("out")
    ap.add_argument("--as", dest="asn", type=int, required=True)
    ap.add_argument("--nh4", required=True)
    ap.add_argument("--nh6", required=True)
    ap.add_argument("--peer", action="append", default=[])
    ap.add_argument("--v4", type=int, default=2000)
    ap.add_argument("--v6", type=int, default=1000)
    ap.add_argument("--withdraw-mod", type=int, default=20)
    ap.add_argument("--dual-mod", type=int, default=0)
    ap.add_argument("--strip-med", action="store_true",
                    help="expect no MED (the routes pass an eBGP hop that does not propagate it)")
    ap.add_argument("--peer-as", type=int, default=None, help="peer_as in the expected lines (default --as)")
    ap.add_argument("--prepend", default=None,
                    help="ASNs the route passes through before the monitor (default: the daemon's own AS; none for exabgp)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    g = Gen(a)
    getattr(g, a.daemon)(a.out)
    g.write_expected(a.out)


if __name__ == "__main__":
    main()
