#!/usr/bin/python3
"""MRT checks for the collector_*_addpath interop tests (bgpscribe run with real daemons).

    collector_mrt.py subtypes --addpath PEER... --plain PEER... [--notification] FILE...
        Reads the MRT headers itself (no bgpscribe code): BGP4MP/BGP4MP_ET UPDATEs of an
        --addpath peer must be MESSAGE(_AS4)_ADDPATH (RFC 8050), its OPEN/KEEPALIVE/NOTIFICATION
        the plain MESSAGE(_AS4); nothing of a --plain peer may use an ADDPATH subtype;
        TABLE_DUMP_V2 RIB entries of --addpath peers only in RIB_*_ADDPATH records and of
        --plain peers only in the plain ones. Each update file must hold OPEN, KEEPALIVE and
        UPDATE (and NOTIFICATION with --notification) records of every peer. Prints a summary.
    collector_mrt.py check --bin BGPSCRIBE --updates ET_FILE --classic BGP4MP_FILE
                           --rib1 DUMP --rib2 DUMP --exp1 LINES --exp2 LINES
                           --addpath PEER... --plain PEER...
        Everything the tests assert on the archive: the subtypes above (update files and both
        RIB dumps); bgpdump -m reads each file without a complaint and prints what
        `bgpscribe dump -m` prints; `bgpscribe dump --json` and the decoder here agree on
        every route, path id and next hop; the BGP4MP file holds what the BGP4MP_ET file does;
        per peer, RIB dump 1 (routes settled) and RIB dump 2 (after the daemon withdrew some
        paths) equal EXP1 and EXP2 (route lines of routes.py, built from what the daemon says
        it exported; path_id `-` for plain peers, the id itself or `?` when the daemon does
        not tell it), every announcement
        of the update file is one of those paths, dump 1's entries are announcements of the
        update file with their path ids, dump 2 is the update file replayed (path ids exact),
        ADD-PATH peers have distinct non-empty path ids and prefixes with two paths, and their
        withdrawals are exactly the (prefix, path_id) pairs gone between the dumps; plain
        peers have one path per prefix and no path id.
    collector_mrt.py status STATUS_JSON
        `routes peers_established settled` of the collector's status.json, settled = 1 when
        every exporter delivered what it was pushed.
"""
import argparse
import collections
import gzip
import ipaddress
import json
import struct
import subprocess
import sys

BGP4MP, BGP4MP_ET, TABLE_DUMP_V2 = 16, 17, 13
MSG_NAMES = {1: "OPEN", 2: "UPDATE", 3: "NOTIFICATION", 4: "KEEPALIVE", 5: "ROUTE-REFRESH"}
BGP4MP_SUBTYPES = {0: "STATE_CHANGE", 1: "MESSAGE", 4: "MESSAGE_AS4", 5: "STATE_CHANGE_AS4",
                   6: "MESSAGE_LOCAL", 7: "MESSAGE_AS4_LOCAL", 8: "MESSAGE_ADDPATH",
                   9: "MESSAGE_AS4_ADDPATH", 10: "MESSAGE_LOCAL_ADDPATH",
                   11: "MESSAGE_AS4_LOCAL_ADDPATH"}
RIB_SUBTYPES = {2: ("RIB_IPV4_UNICAST", 4, False), 3: ("RIB_IPV4_MULTICAST", 4, False),
                4: ("RIB_IPV6_UNICAST", 6, False), 5: ("RIB_IPV6_MULTICAST", 6, False),
                8: ("RIB_IPV4_UNICAST_ADDPATH", 4, True),
                9: ("RIB_IPV4_MULTICAST_ADDPATH", 4, True),
                10: ("RIB_IPV6_UNICAST_ADDPATH", 6, True),
                11: ("RIB_IPV6_MULTICAST_ADDPATH", 6, True)}


def records(path):
    """(type, subtype, body) of every MRT record of a plain or gzip file."""
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    data = (gzip.open if gz else open)(path, "rb").read()
    off = 0
    while off < len(data):
        if len(data) - off < 12:
            raise ValueError("%s: %d bytes after the last whole record" % (path, len(data) - off))
        _, typ, sub, ln = struct.unpack_from(">IHHI", data, off)
        if off + 12 + ln > len(data):
            raise ValueError("%s: record at %d overruns the file" % (path, off))
        yield typ, sub, data[off + 12:off + 12 + ln]
        off += 12 + ln


def addr(b):
    return str(ipaddress.ip_address(b))


def bgp4mp(typ, sub, body):
    """(peer, message type or None for a state change, BGP message) of a BGP4MP(_ET) record."""
    if typ == BGP4MP_ET:
        body = body[4:]
    as4 = sub in (4, 5, 7, 9, 11)
    o = 8 if as4 else 4
    ifindex_afi = struct.unpack_from(">HH", body, o)
    alen = 4 if ifindex_afi[1] == 1 else 16
    peer = addr(body[o + 4:o + 4 + alen])
    msg = body[o + 4 + 2 * alen:]
    if sub in (0, 5):
        return peer, None, b""
    return peer, msg[18], msg


def prefixes(b, afi, addpath):
    """(prefix, path_id) of an NLRI field (RFC 4271 4.3, RFC 7911 3)."""
    out, o, size = [], 0, 4 if afi == 1 else 16
    while o < len(b):
        pid = None
        if addpath:
            pid = struct.unpack_from(">I", b, o)[0]
            o += 4
        ln = b[o]
        n = (ln + 7) // 8
        raw = b[o + 1:o + 1 + n] + bytes(size - n)
        out.append(("%s/%d" % (addr(raw), ln), pid))
        o += 1 + n
    return out


def attributes(b):
    """{type: value} of a path attribute block (RFC 4271 4.3)."""
    out, o = {}, 0
    while o < len(b):
        flags, t = b[o], b[o + 1]
        if flags & 0x10:
            ln = struct.unpack_from(">H", b, o + 2)[0]
            o += 4
        else:
            ln = b[o + 2]
            o += 3
        out[t] = b[o:o + ln]
        o += ln
    return out


def mp_nh(v):
    """The global next hop of an MP_REACH_NLRI next hop field."""
    return addr(v[:16] if len(v) in (16, 32) else v[:4])


def update_routes(msg, addpath):
    """('A', prefix, pid, nh) and ('W', prefix, pid, None) of an UPDATE message."""
    body = msg[19:]
    wlen = struct.unpack_from(">H", body, 0)[0]
    out = [("W", p, i, None) for p, i in prefixes(body[2:2 + wlen], 1, addpath)]
    alen = struct.unpack_from(">H", body, 2 + wlen)[0]
    attrs = attributes(body[4 + wlen:4 + wlen + alen])
    if 15 in attrs:
        v = attrs[15]
        afi = struct.unpack_from(">H", v, 0)[0]
        out += [("W", p, i, None) for p, i in prefixes(v[3:], afi, addpath)]
    if 14 in attrs:
        v = attrs[14]
        afi, nhl = struct.unpack_from(">H", v, 0)[0], v[3]
        nh = mp_nh(v[4:4 + nhl])
        out += [("A", p, i, nh) for p, i in prefixes(v[5 + nhl:], afi, addpath)]
    nh = addr(attrs[3]) if 3 in attrs else None
    out += [("A", p, i, nh) for p, i in prefixes(body[4 + wlen + alen:], 1, addpath)]
    return out


def rib_entries(sub, body, peers):
    """(peer, prefix, pid, nh) of a TABLE_DUMP_V2 RIB record (RFC 6396 4.3.2, RFC 8050 4)."""
    _, fam, addpath = RIB_SUBTYPES[sub]
    size = 4 if fam == 4 else 16
    ln = body[4]
    n = (ln + 7) // 8
    prefix = "%s/%d" % (addr(body[5:5 + n] + bytes(size - n)), ln)
    o = 5 + n
    count = struct.unpack_from(">H", body, o)[0]
    o += 2
    out = []
    for _ in range(count):
        idx, _orig = struct.unpack_from(">HI", body, o)
        o += 6
        pid = None
        if addpath:
            pid = struct.unpack_from(">I", body, o)[0]
            o += 4
        alen = struct.unpack_from(">H", body, o)[0]
        attrs = attributes(body[o + 2:o + 2 + alen])
        o += 2 + alen
        if 14 in attrs:  # abbreviated form: next hop length and next hop only
            nh = mp_nh(attrs[14][1:1 + attrs[14][0]])
        else:
            nh = addr(attrs[3]) if 3 in attrs else None
        out.append((peers[idx], prefix, pid, nh))
    return out


def peer_index(body):
    o = 4
    vlen = struct.unpack_from(">H", body, o)[0]
    o += 2 + vlen
    count = struct.unpack_from(">H", body, o)[0]
    o += 2
    peers = []
    for _ in range(count):
        t = body[o]
        o += 5
        alen = 16 if t & 1 else 4
        peers.append(addr(body[o:o + alen]))
        o += alen + (4 if t & 2 else 2)
    return peers


def cmd_subtypes(argv):
    addpath, plain, files, need_notification = set(), set(), [], False
    it = iter(argv)
    for a in it:
        if a == "--addpath":
            addpath.add(next(it))
        elif a == "--plain":
            plain.add(next(it))
        elif a == "--notification":
            need_notification = True
        else:
            files.append(a)
    errors = []
    for path in files:
        seen = {}       # (peer, what) -> {subtype name: count}
        peers = []
        for typ, sub, body in records(path):
            if typ in (BGP4MP, BGP4MP_ET):
                peer, mt, msg = bgp4mp(typ, sub, body)
                what = "STATE" if mt is None else MSG_NAMES.get(mt, str(mt))
                name = "%s/%s" % ("BGP4MP_ET" if typ == BGP4MP_ET else "BGP4MP",
                                  BGP4MP_SUBTYPES.get(sub, str(sub)))
                if peer not in addpath | plain:
                    errors.append("%s: record of unknown peer %s" % (path, peer))
                    continue
                want_ap = peer in addpath and mt == 2
                if (sub in (8, 9, 10, 11)) != want_ap:
                    errors.append("%s: %s %s record with subtype %s" % (path, peer, what, name))
                if sub in (6, 7, 10, 11):
                    errors.append("%s: %s: unexpected _LOCAL subtype %s" % (path, peer, name))
            elif typ == TABLE_DUMP_V2:
                if sub == 1:
                    peers = peer_index(body)
                    continue
                name = "TABLE_DUMP_V2/" + RIB_SUBTYPES[sub][0]
                what = "RIB"
                for peer, prefix, _pid, _nh in rib_entries(sub, body, peers):
                    if peer not in addpath | plain:
                        errors.append("%s: RIB entry of unknown peer %s" % (path, peer))
                    elif (peer in addpath) != RIB_SUBTYPES[sub][2]:
                        errors.append("%s: %s entry of %s in a %s record" % (
                            path, peer, prefix, name))
                    seen.setdefault((peer, what), {}).setdefault(name, 0)
                    seen[(peer, what)][name] += 1
                continue
            else:
                errors.append("%s: unexpected MRT type %d subtype %d" % (path, typ, sub))
                continue
            seen.setdefault((peer, what), {}).setdefault(name, 0)
            seen[(peer, what)][name] += 1
        is_rib = any(w == "RIB" for _, w in seen)
        for peer in sorted(addpath | plain):
            kinds = ["RIB"] if is_rib else ["OPEN", "KEEPALIVE", "UPDATE"] + (
                ["NOTIFICATION"] if need_notification else [])
            for k in kinds:
                if (peer, k) not in seen:
                    errors.append("%s: no %s record of %s" % (path, k, peer))
        print("%s:" % path)
        for (peer, what), subs in sorted(seen.items()):
            print("  %-12s %-13s %s" % (peer, what, " ".join(
                "%s=%d" % kv for kv in sorted(subs.items()))))
    for e in errors[:20]:
        print("ERROR:", e)
    if len(errors) > 20:
        print("ERROR: ... %d more" % (len(errors) - 20))
    return 1 if errors else 0


def routes_of(path):
    """The routes of an MRT file decoded here: `A|peer|prefix|path_id|next_hop`,
    `W|peer|prefix|path_id` (UPDATEs, file order), `R|peer|prefix|path_id|next_hop` (RIB
    entries); path_id `-` in non-ADD-PATH records."""
    out, peers = [], []
    for typ, sub, body in records(path):
        if typ in (BGP4MP, BGP4MP_ET):
            peer, mt, msg = bgp4mp(typ, sub, body)
            if mt == 2:
                for kind, p, pid, nh in update_routes(msg, sub in (8, 9, 10, 11)):
                    f = [kind, peer, p, "-" if pid is None else str(pid)]
                    out.append("|".join(f + ([nh] if kind == "A" else [])))
        elif typ == TABLE_DUMP_V2 and sub == 1:
            peers = peer_index(body)
        elif typ == TABLE_DUMP_V2 and sub in RIB_SUBTYPES:
            for peer, p, pid, nh in rib_entries(sub, body, peers):
                out.append("|".join(["R", peer, p, "-" if pid is None else str(pid), nh]))
    return out


def json_lines(binary, path):
    """`bgpscribe dump --json` of a file as route lines in routes.py's format:
    `A|peer|as|prefix|path_id|as_path|origin|nh||med|comms|large|ext|AG|aggr`,
    `W|peer|as|prefix|path_id`, and the A format with `R` for RIB entries (path_id `-` when
    the record has none)."""
    out = []
    res = subprocess.run([binary, "dump", "--json", path], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, check=False)
    if res.returncode != 0 or res.stderr.strip():
        raise CheckError("bgpscribe dump --json %s: exit %d: %s" % (path, res.returncode,
                                                                 res.stderr.strip()[:300]))
    for raw in res.stdout.splitlines():
        j = json.loads(raw)
        if "error" in j:
            raise CheckError("bgpscribe dump --json %s reports an error: %s" % (path, raw[:300]))
        kind = {"announce": "A", "withdraw": "W", "rib": "R"}.get(j["kind"])
        if kind is None:
            continue
        pid = str(j["path_id"]) if "path_id" in j else "-"
        f = [kind, j["peer_ip"], str(j["peer_as"]), j["prefix"], pid]
        if kind != "W":
            aggr = j.get("aggregator")
            f += [j.get("as_path", ""), j.get("origin", ""),
                  j.get("mp_next_hop", j.get("next_hop", "")), "",
                  str(j["med"]) if "med" in j else "",
                  " ".join(j.get("communities", [])), " ".join(j.get("large_communities", [])),
                  " ".join(sorted(j.get("extended_communities", []))),
                  "AG" if j.get("atomic_aggregate") else "",
                  "%d %s" % (aggr["asn"], aggr["address"]) if aggr else ""]
        out.append("|".join(f))
    return out


class CheckError(Exception):
    pass


def same(what, want, got):
    """Fails with the first differences when the sorted lists differ."""
    w, g = sorted(want), sorted(got)
    if w != g:
        ws, gs = collections.Counter(w), collections.Counter(g)
        miss = sorted((ws - gs).elements())[:3]
        extra = sorted((gs - ws).elements())[:3]
        raise CheckError("%s: %d lines expected, %d found\n  missing: %s\n  unexpected: %s" % (
            what, len(w), len(g), "\n           ".join(miss) or "-",
            "\n           ".join(extra) or "-"))
    print("ok: %s: %d lines" % (what, len(g)))


def cmd_check(argv):
    ap = argparse.ArgumentParser(prog="collector_mrt.py check")
    ap.add_argument("--bin", required=True)
    for f in ("updates", "classic", "rib1", "rib2", "exp1", "exp2"):
        ap.add_argument("--" + f, required=True)
    ap.add_argument("--addpath", action="append", default=[])
    ap.add_argument("--plain", action="append", default=[])
    a = ap.parse_args(argv)
    peers = a.addpath + a.plain
    files = [a.updates, a.classic, a.rib1, a.rib2]
    try:
        # 1. subtypes, read from the MRT headers
        args = sum((["--addpath", p] for p in a.addpath), []) + sum(
            (["--plain", p] for p in a.plain), [])
        if cmd_subtypes(args + ["--notification", a.updates, a.classic]) != 0 or \
                cmd_subtypes(args + [a.rib1, a.rib2]) != 0:
            raise CheckError("MRT subtypes are wrong (above)")
        print("ok: subtypes: ADDPATH exactly for the UPDATEs and RIB entries of %s" %
              " ".join(a.addpath))
        # 2. bgpdump reads every file without a complaint, as our dump -m does
        for f in files:
            bd = subprocess.run(["bgpdump", "-m", f], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, check=False)
            err = [l for l in bd.stderr.splitlines() if "logging to syslog" not in l]
            if bd.returncode != 0 or err:
                raise CheckError("bgpdump -m %s: exit %d: %s" % (f, bd.returncode, err[:3]))
            ours = subprocess.run([a.bin, "dump", "-m", f], stdout=subprocess.PIPE,
                                  text=True, check=True).stdout
            if ours != bd.stdout:
                same("bgpdump -m vs bgpscribe dump -m of " + f, ours.splitlines(),
                     bd.stdout.splitlines())
                raise CheckError("bgpdump -m and bgpscribe dump -m differ in order on " + f)
            print("ok: bgpdump -m reads %s without errors, same %d lines as bgpscribe dump -m" %
                  (f, len(bd.stdout.splitlines())))
        # 3. our dump and the decoder here agree on every (peer, prefix, path_id, next hop)
        lines = {f: json_lines(a.bin, f) for f in files}
        for f in files:
            proj = ["|".join(x.split("|")[i] for i in ((0, 1, 3, 4) if x[0] == "W" else
                                                      (0, 1, 3, 4, 7))) for x in lines[f]]
            mine = routes_of(f)
            if proj != mine:
                same("routes of %s: bgpscribe dump --json vs the decoder here" % f, mine, proj)
                raise CheckError("dump --json and the decoder here differ in order on " + f)
        print("ok: bgpscribe dump --json and the decoder here agree on every route and path id")
        upd = lines[a.updates]
        if upd != lines[a.classic]:
            same("BGP4MP_ET vs BGP4MP update file", upd, lines[a.classic])
            raise CheckError("the BGP4MP_ET and BGP4MP files differ in order")
        print("ok: the BGP4MP file holds the same %d route lines as the BGP4MP_ET file" % len(upd))

        exp = {n: [l.rstrip("\n") for l in open(p) if l.strip()]
               for n, p in (("exp1", a.exp1), ("exp2", a.exp2))}
        # peers whose path ids the daemon does not tell (`?` in EXP): compared without them
        wild = set(x.split("|")[1] for x in exp["exp1"] + exp["exp2"] if x.split("|")[4] == "?")

        def norm(x):
            f = x.split("|")
            if f[0] == "R":
                f[0] = "A"
            if f[1] in wild:
                f[4] = "?"
            return "|".join(f)

        state = {}
        for x in upd:
            f = x.split("|")
            if f[0] == "A":
                state[(f[1], f[3], f[4])] = x
            elif f[0] == "W":
                state.pop((f[1], f[3], f[4]), None)
        ann = set(x for x in upd if x[0] == "A")
        for p in peers:
            r1 = [x for x in lines[a.rib1] if x.split("|")[1] == p]
            r2 = [x for x in lines[a.rib2] if x.split("|")[1] == p]
            mine = [x for x in exp["exp1"] if x.split("|")[1] == p]
            # 4. the RIB dumps hold what the daemon says it exported, before and after
            same("%s: RIB dump 1 vs the daemon's export" % p, mine, [norm(x) for x in r1])
            same("%s: RIB dump 2 vs the daemon's export after the withdrawal" % p,
                 [x for x in exp["exp2"] if x.split("|")[1] == p], [norm(x) for x in r2])
            # 5. every announcement in the update file is one of the paths exported
            same("%s: distinct announcements in the update file vs both exports" % p,
                 set(x for x in exp["exp1"] + exp["exp2"] if x.split("|")[1] == p),
                 set(norm(x) for x in ann if x.split("|")[1] == p))
            # 6. path ids: RIB dump 1 entries are announcements of the update file, path ids
            # included; RIB dump 2 is the update file replayed
            missing = [x for x in r1 if "A" + x[1:] not in ann]
            if missing:
                raise CheckError("%s: %d RIB dump 1 entries (with their path id) never announced"
                                 ", e.g. %s" % (p, len(missing), missing[0]))
            same("%s: RIB dump 2 vs the update file replayed (path ids exact)" % p,
                 ["A" + x[1:] for x in r2], [x for k, x in state.items() if k[0] == p])
            keys1 = collections.Counter((x.split("|")[3], x.split("|")[4]) for x in r1)
            paths = collections.Counter(x.split("|")[3] for x in r1)
            multi = sum(1 for n in paths.values() if n > 1)
            if any(n > 1 for n in keys1.values()):
                raise CheckError("%s: repeated (prefix, path_id) in RIB dump 1" % p)
            if p in a.addpath:
                if any(k[1] == "-" for k in keys1):
                    raise CheckError("%s: RIB entries without a path id" % p)
                if multi == 0 or max(paths.values()) != 2:
                    raise CheckError("%s: %d prefixes with several paths (max %d)" % (
                        p, multi, max(paths.values())))
                # 7. the withdrawals carry the path ids of the paths that went away
                wd = [(x.split("|")[3], x.split("|")[4]) for x in upd
                      if x[0] == "W" and x.split("|")[1] == p]
                gone = set(keys1) - set((x.split("|")[3], x.split("|")[4]) for x in r2)
                same("%s: withdrawals (prefix|path_id) vs the paths gone between the dumps" % p,
                     ["%s|%s" % k for k in gone], ["%s|%s" % k for k in wd])
                print("ok: %s: %d paths, %d prefixes with two path ids, %d withdrawn by path id" %
                      (p, len(r1), multi, len(wd)))
            else:
                if any(k[1] != "-" for k in keys1) or multi:
                    raise CheckError("%s: path ids or several paths on a plain session" % p)
                print("ok: %s: %d prefixes, one path each, no path ids" % (p, len(r1)))
    except (CheckError, ValueError, struct.error, IndexError) as e:
        print("ERROR:", e)
        return 1
    return 0


def cmd_status(path):
    s = json.load(open(path))
    settled = all(e["pushed"] == e["delivered"] and e["queued"] == 0 for e in s["exporters"])
    print(s["routes"], s["peers_established"], int(settled))
    return 0


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "subtypes":
        return cmd_subtypes(args)
    if cmd == "check":
        return cmd_check(args)
    if cmd == "status":
        return cmd_status(args[0])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
