#!/usr/bin/python3
"""Stand-in for bgpscribe-monitor, used only to develop and self-test the interop harness.

Implements the command line, stdout format and stdin commands of examples/monitor (see
tests/interop/README.md) with a small asyncio BGP speaker: passive/active peers, 4-octet ASNs,
multiprotocol IPv4/IPv6 unicast, ROUTE-REFRESH, ADD-PATH receive, graceful restart (helper),
TCP MD5 (Linux TCP_MD5SIG) and RFC 9003 shutdown communication. Run it with
MONITOR=tests/interop/mock_monitor.py. It is not the product: the real monitor is the reference.
"""
import argparse
import asyncio
import ipaddress
import socket
import struct
import sys
import time

TCP_MD5SIG = 14
STATES = ("Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established")
ORIGINS = {0: "IGP", 1: "EGP", 2: "INCOMPLETE"}
FAMILIES = {(1, 1): "ipv4/unicast", (2, 1): "ipv6/unicast"}
FAMILY_CODES = {v: k for k, v in FAMILIES.items()}
CAP_NAMES = {1: "multiprotocol", 2: "route-refresh", 64: "graceful-restart", 65: "four-octet-as",
             69: "add-path", 70: "enhanced-route-refresh", 71: "long-lived-gr", 73: "fqdn",
             5: "extended-next-hop", 6: "extended-message", 9: "role", 128: "route-refresh-old"}


def now():
    return "%.6f" % time.time()


def emit(*fields):
    sys.stdout.write("|".join(str(f) for f in fields) + "\n")
    sys.stdout.flush()


def md5_sockopt(sock, addr, secret):
    ip = ipaddress.ip_address(addr)
    if ip.version == 4:
        sa = struct.pack("=HH4s", socket.AF_INET, 0, ip.packed)
    else:
        sa = struct.pack("=HHI16sI", socket.AF_INET6, 0, 0, ip.packed, 0)
    key = secret.encode()
    buf = sa.ljust(128, b"\0") + struct.pack("=BBHI", 0, 0, len(key), 0) + key.ljust(80, b"\0")
    sock.setsockopt(socket.IPPROTO_TCP, TCP_MD5SIG, buf)


class Peer:
    def __init__(self, spec, mon):
        parts = spec.split(",")
        self.addr = str(ipaddress.ip_address(parts[0]))
        self.asn = int(parts[1])
        self.port = 179
        self.active = False
        self.addpath = False
        self.md5 = None
        self.gr = None
        self.local = None
        for kv in parts[2:]:
            k, _, v = kv.partition("=")
            if k == "port":
                self.port = int(v)
            elif k == "active":
                self.active = True
            elif k == "passive":
                self.active = False
            elif k == "addpath":
                self.addpath = True
            elif k == "md5":
                self.md5 = v
            elif k == "gr":
                self.gr = int(v)
            elif k == "local":
                self.local = v
            else:
                raise SystemExit("unknown peer key " + k)
        self.mon = mon
        self.state = "Idle"
        self.session = None
        self.enabled = True
        self.stale = {}          # family -> timer handle (GR helper)
        self.peer_gr = None      # peer's GR capability of the last session: {family: flags}, time

    def set_state(self, new):
        if new != self.state:
            emit("STATE", now(), self.addr, self.asn, self.state, new)
            self.state = new

    def idle_state(self):
        self.set_state("Idle")
        if self.enabled:
            self.set_state("Connect" if self.active else "Active")


class Session:
    def __init__(self, peer, reader, writer, mon):
        self.peer, self.reader, self.writer, self.mon = peer, reader, writer, mon
        self.families = set()
        self.addpath_rx = set()
        self.four = False
        self.hold = mon.hold
        self.closed = False
        self.ka_task = None
        self.last_rx = time.monotonic()

    # --- output
    def send(self, mtype, body=b""):
        self.writer.write(b"\xff" * 16 + struct.pack("!HB", 19 + len(body), mtype) + body)

    def open_msg(self):
        caps = b""
        for afi, safi in FAMILIES:
            caps += struct.pack("!BBHBB", 1, 4, afi, 0, safi)
        caps += struct.pack("!BB", 2, 0)
        caps += struct.pack("!BBI", 65, 4, self.mon.local_as)
        if self.peer.addpath:
            body = b"".join(struct.pack("!HBB", afi, safi, 1) for afi, safi in FAMILIES)
            caps += struct.pack("!BB", 69, len(body)) + body
        if self.peer.gr is not None:
            body = struct.pack("!H", self.peer.gr & 0x0FFF)
            body += b"".join(struct.pack("!HBB", afi, safi, 0) for afi, safi in FAMILIES)
            caps += struct.pack("!BB", 64, len(body)) + body
        params = b""
        # one capability per optional parameter, as most speakers do
        i = 0
        while i < len(caps):
            ln = caps[i + 1] + 2
            params += struct.pack("!BB", 2, ln) + caps[i:i + ln]
            i += ln
        my_as = self.mon.local_as if self.mon.local_as < 65536 else 23456
        rid = ipaddress.IPv4Address(self.mon.router_id).packed
        return struct.pack("!BHH4sB", 4, my_as, self.mon.hold, rid, len(params)) + params

    def notify(self, code, sub, data=b""):
        text = ""
        if code == 6 and sub in (2, 4) and data:
            text = data[1:1 + data[0]].decode("utf-8", "replace")
        emit("NOTIFICATION", now(), self.peer.addr, self.peer.asn, "sent", code, sub, text)
        self.send(3, struct.pack("!BB", code, sub) + data)

    # --- main loop
    async def run(self):
        peer = self.peer
        try:
            self.send(1, self.open_msg())
            await self.writer.drain()
            peer.set_state("OpenSent")
            while True:
                timeout = self.hold if self.hold else None
                if peer.state in ("OpenSent",):
                    timeout = 240
                try:
                    hdr = await asyncio.wait_for(self.reader.readexactly(19), timeout)
                except asyncio.TimeoutError:
                    self.notify(4, 0)
                    await self.writer.drain()
                    break
                length, mtype = struct.unpack("!HB", hdr[16:19])
                body = await self.reader.readexactly(length - 19)
                if not self.handle(mtype, body):
                    break
                await self.writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as e:
            if peer.state == "Established":
                emit("ERROR", now(), peer.addr, peer.asn, "connection lost: %s" % (e.__class__.__name__,))
        finally:
            self.close()

    def close(self):
        if self.closed:
            return
        self.closed = True
        peer = self.peer
        was_est = peer.state == "Established"
        if self.ka_task:
            self.ka_task.cancel()
        try:
            self.writer.close()
        except Exception:
            pass
        if peer.session is self:
            peer.session = None
            if was_est and peer.gr is not None and peer.peer_gr and not self.sent_notification_close:
                gr_fams, rtime, _ = peer.peer_gr
                for fam in sorted(gr_fams):
                    if fam in self.families and fam not in peer.stale:
                        emit("GR", now(), peer.addr, peer.asn, "stale", fam)
                        peer.stale[fam] = asyncio.get_event_loop().call_later(
                            rtime, self.mon.gr_expire, peer, fam)
            peer.idle_state()

    sent_notification_close = False

    async def keepalives(self):
        while True:
            await asyncio.sleep(max(self.hold / 3.0, 1))
            self.send(4)

    def handle(self, mtype, body):
        peer = self.peer
        if mtype == 1:
            return self.on_open(body)
        if mtype == 4:
            if peer.state == "OpenConfirm":
                peer.set_state("Established")
                fams = ",".join(f for f in ("ipv4/unicast", "ipv6/unicast") if f in self.families)
                ap = ",".join(f for f in ("ipv4/unicast", "ipv6/unicast") if f in self.addpath_rx)
                gr = ""
                if peer.gr is not None and peer.peer_gr:
                    gr = ",".join(sorted(peer.peer_gr[0]))
                emit("ESTABLISHED", now(), peer.addr, peer.asn, fams, ap, "yes" if self.four else "no", gr)
                if self.hold:
                    self.ka_task = asyncio.ensure_future(self.keepalives())
                # End-of-RIB for each family: the monitor has nothing to announce (RFC 4724)
                for fam in ("ipv4/unicast", "ipv6/unicast"):
                    if fam in self.families:
                        if fam == "ipv4/unicast":
                            self.send(2, b"\0\0\0\0")
                        else:
                            self.send(2, b"\0\0\0\x06\x80\x0f\x03\0\x02\x01")
                # stale families the peer no longer preserves are flushed now
                for fam in list(peer.stale):
                    if not peer.peer_gr or fam not in peer.peer_gr[0] or not peer.peer_gr[2].get(fam):
                        peer.stale.pop(fam).cancel()
                        emit("GR", now(), peer.addr, peer.asn, "expired", fam)
            return True
        if mtype == 2:
            if peer.state != "Established":
                self.notify(5, 0)
                return False
            return self.on_update(body)
        if mtype == 3:
            code, sub = body[0], body[1]
            data = body[2:]
            text = ""
            if code == 6 and sub in (2, 4) and data:
                text = data[1:1 + data[0]].decode("utf-8", "replace")
            emit("NOTIFICATION", now(), peer.addr, peer.asn, "received", code, sub, text)
            self.sent_notification_close = True
            return False
        if mtype == 5:
            afi, _, safi = struct.unpack("!HBB", body[:4])
            sub = body[2]
            emit("REFRESH", now(), peer.addr, peer.asn, FAMILIES.get((afi, safi), "%d/%d" % (afi, safi)), sub)
            return True
        emit("ERROR", now(), peer.addr, peer.asn, "unknown message type %d" % mtype)
        return True

    def on_open(self, body):
        peer = self.peer
        ver, my_as, hold, rid, plen = struct.unpack("!BHH4sB", body[:10])
        params = body[10:10 + plen]
        caps = []
        i = 0
        while i < len(params):
            ptype, ln = params[i], params[i + 1]
            if ptype == 2:
                j = i + 2
                while j < i + 2 + ln:
                    caps.append((params[j], params[j + 2:j + 2 + params[j + 1]]))
                    j += 2 + params[j + 1]
            i += 2 + ln
        peer_as = my_as
        mp = set()
        names = []
        gr_fams, gr_flags, gr_time = set(), {}, 0
        ap_tx = set()
        for code, val in caps:
            name = CAP_NAMES.get(code, "cap-%d" % code)
            if code == 1:
                afi, _, safi = struct.unpack("!HBB", val)
                fam = FAMILIES.get((afi, safi), "%d/%d" % (afi, safi))
                mp.add(fam)
                name += "(%s)" % fam
            elif code == 65:
                peer_as = struct.unpack("!I", val)[0]
                self.four = True
            elif code == 69:
                for k in range(0, len(val), 4):
                    afi, safi, sr = struct.unpack("!HBB", val[k:k + 4])
                    fam = FAMILIES.get((afi, safi), "%d/%d" % (afi, safi))
                    if sr & 2:
                        ap_tx.add(fam)
            elif code == 64:
                gr_time = struct.unpack("!H", val[:2])[0] & 0x0FFF
                detail = ["R" if val[0] & 0x80 else "-", str(gr_time)]
                for k in range(2, len(val), 4):
                    afi, safi, fl = struct.unpack("!HBB", val[k:k + 4])
                    fam = FAMILIES.get((afi, safi), "%d/%d" % (afi, safi))
                    gr_fams.add(fam)
                    gr_flags[fam] = bool(fl & 0x80)
                    detail.append(fam + (":F" if fl & 0x80 else ""))
                name += "(" + ",".join(detail) + ")"
            names.append(name)
        emit("OPEN", now(), peer.addr, peer.asn, hold, str(ipaddress.IPv4Address(rid)), " ".join(names))
        if peer_as != peer.asn:
            self.notify(2, 2)
            return False
        self.families = mp if mp else {"ipv4/unicast"}
        self.families &= {"ipv4/unicast", "ipv6/unicast"}
        if peer.addpath:
            self.addpath_rx = ap_tx & self.families
        self.hold = min(hold, self.mon.hold)
        if self.hold and self.hold < 3:
            self.notify(2, 6)
            return False
        if peer.gr is not None and (64 in [c for c, _ in caps]):
            peer.peer_gr = (gr_fams, gr_time, gr_flags)
        else:
            peer.peer_gr = None
        self.send(4)
        peer.set_state("OpenConfirm")
        return True

    # --- UPDATE decoding
    def nlri(self, data, v6, addpath):
        out = []
        i = 0
        while i < len(data):
            pid = 0
            if addpath:
                pid = struct.unpack("!I", data[i:i + 4])[0]
                i += 4
            ln = data[i]
            nb = (ln + 7) // 8
            raw = data[i + 1:i + 1 + nb]
            i += 1 + nb
            if v6:
                net = ipaddress.IPv6Network((raw.ljust(16, b"\0"), ln))
            else:
                net = ipaddress.IPv4Network((raw.ljust(4, b"\0"), ln))
            out.append((str(net), pid))
        return out

    def on_update(self, body):
        peer = self.peer
        wl = struct.unpack("!H", body[:2])[0]
        withdrawn = body[2:2 + wl]
        al = struct.unpack("!H", body[2 + wl:4 + wl])[0]
        attrs = body[4 + wl:4 + wl + al]
        nlri = body[4 + wl + al:]
        ap4 = "ipv4/unicast" in self.addpath_rx
        ap6 = "ipv6/unicast" in self.addpath_rx
        if not withdrawn and not attrs and not nlri:
            self.eor("ipv4/unicast")
            return True
        a = {"as_path": "", "origin": "", "nh": "", "lp": "", "med": "", "comm": "", "large": "",
             "ext": "", "atomic": "", "aggr": ""}
        mp_reach = None
        mp_unreach = None
        i = 0
        while i < len(attrs):
            flags, code = attrs[i], attrs[i + 1]
            if flags & 0x10:
                ln = struct.unpack("!H", attrs[i + 2:i + 4])[0]
                val = attrs[i + 4:i + 4 + ln]
                i += 4 + ln
            else:
                ln = attrs[i + 2]
                val = attrs[i + 3:i + 3 + ln]
                i += 3 + ln
            if code == 1:
                a["origin"] = ORIGINS.get(val[0], str(val[0]))
            elif code == 2:
                segs = []
                j = 0
                w = 4 if self.four else 2
                while j < len(val):
                    st, n = val[j], val[j + 1]
                    asns = [int.from_bytes(val[j + 2 + k * w:j + 2 + (k + 1) * w], "big") for k in range(n)]
                    j += 2 + n * w
                    if st == 1:
                        segs.append("{" + ",".join(map(str, asns)) + "}")
                    else:
                        segs.extend(map(str, asns))
                a["as_path"] = " ".join(segs)
            elif code == 3:
                a["nh"] = str(ipaddress.IPv4Address(val))
            elif code == 4:
                a["med"] = str(struct.unpack("!I", val)[0])
            elif code == 5:
                a["lp"] = str(struct.unpack("!I", val)[0])
            elif code == 6:
                a["atomic"] = "AG"
            elif code == 7:
                if len(val) == 8:
                    a["aggr"] = "%d %s" % (struct.unpack("!I", val[:4])[0], ipaddress.IPv4Address(val[4:]))
                else:
                    a["aggr"] = "%d %s" % (struct.unpack("!H", val[:2])[0], ipaddress.IPv4Address(val[2:]))
            elif code == 8:
                a["comm"] = " ".join("%d:%d" % struct.unpack("!HH", val[k:k + 4]) for k in range(0, len(val), 4))
            elif code == 16:
                a["ext"] = " ".join(val[k:k + 8].hex() for k in range(0, len(val), 8))
            elif code == 32:
                a["large"] = " ".join("%d:%d:%d" % struct.unpack("!III", val[k:k + 12]) for k in range(0, len(val), 12))
            elif code == 14:
                mp_reach = val
            elif code == 15:
                mp_unreach = val
        t = now()
        for p, pid in self.nlri(withdrawn, False, ap4):
            emit("W", t, peer.addr, peer.asn, p, pid)
        if mp_unreach is not None:
            afi, safi = struct.unpack("!HB", mp_unreach[:3])
            fam = FAMILIES.get((afi, safi))
            if len(mp_unreach) == 3:
                self.eor(fam or "%d/%d" % (afi, safi))
            elif fam:
                for p, pid in self.nlri(mp_unreach[3:], afi == 2, fam in self.addpath_rx):
                    emit("W", t, peer.addr, peer.asn, p, pid)

        def ann(prefix, pid, nh):
            emit("A", t, peer.addr, peer.asn, prefix, pid, a["as_path"], a["origin"], nh, a["lp"], a["med"],
                 a["comm"], a["large"], a["ext"], a["atomic"], a["aggr"])

        for p, pid in self.nlri(nlri, False, ap4):
            ann(p, pid, a["nh"])
        if mp_reach is not None:
            afi, safi, nhl = struct.unpack("!HBB", mp_reach[:4])
            nhb = mp_reach[4:4 + nhl]
            fam = FAMILIES.get((afi, safi))
            if nhl in (16, 32):
                nh = str(ipaddress.IPv6Address(nhb[:16]))
            elif nhl == 4:
                nh = str(ipaddress.IPv4Address(nhb))
            else:
                nh = nhb.hex()
            rest = mp_reach[5 + nhl:]
            if fam:
                for p, pid in self.nlri(rest, afi == 2, fam in self.addpath_rx):
                    ann(p, pid, nh)
        return True

    def eor(self, fam):
        peer = self.peer
        emit("EOR", now(), peer.addr, peer.asn, fam)
        h = peer.stale.pop(fam, None)
        if h:
            h.cancel()
            emit("GR", now(), peer.addr, peer.asn, "recovered", fam)


class Monitor:
    def __init__(self, args):
        self.local_as = args.local_as
        self.router_id = args.router_id
        self.hold = args.hold
        self.retry = args.connect_retry
        self.peers = [Peer(s, self) for s in args.peer]
        self.listens = args.listen

    def find(self, addr):
        addr = str(ipaddress.ip_address(addr.split("%")[0]))
        if addr.startswith("::ffff:"):
            addr = addr[7:]
        for p in self.peers:
            if p.addr == addr:
                return p
        return None

    def gr_expire(self, peer, fam):
        if peer.stale.pop(fam, None):
            emit("GR", now(), peer.addr, peer.asn, "expired", fam)

    def start_session(self, peer, reader, writer):
        s = Session(peer, reader, writer, self)
        peer.session = s
        asyncio.ensure_future(s.run())

    async def on_accept(self, reader, writer):
        host = writer.get_extra_info("peername")[0]
        peer = self.find(host)
        if peer is None or not peer.enabled or peer.session is not None:
            writer.close()
            return
        self.start_session(peer, reader, writer)

    async def connector(self, peer):
        while True:
            if peer.enabled and peer.session is None:
                fam = socket.AF_INET6 if ":" in peer.addr else socket.AF_INET
                sock = socket.socket(fam, socket.SOCK_STREAM)
                sock.setblocking(False)
                try:
                    if peer.md5:
                        md5_sockopt(sock, peer.addr, peer.md5)
                    if peer.local:
                        sock.bind((peer.local, 0))
                    await asyncio.wait_for(asyncio.get_event_loop().sock_connect(sock, (peer.addr, peer.port)), 5)
                    if peer.session is None and peer.enabled:
                        reader, writer = await asyncio.open_connection(sock=sock)
                        self.start_session(peer, reader, writer)
                    else:
                        sock.close()
                except (OSError, asyncio.TimeoutError):
                    sock.close()
            await asyncio.sleep(self.retry)

    async def stdin_loop(self):
        loop = asyncio.get_event_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = await reader.readline()
            if not line:
                return
            words = line.decode().strip().split(None, 2)
            if not words:
                continue
            cmd = words[0]
            if cmd == "quit":
                return
            peer = self.find(words[1]) if len(words) > 1 else None
            if peer is None:
                emit("ERROR", now(), words[1] if len(words) > 1 else "", 0, "unknown peer in: " + line.decode().strip())
                continue
            if cmd == "refresh":
                s = peer.session
                fam = FAMILY_CODES.get(words[2] if len(words) > 2 else "")
                if s and peer.state == "Established" and fam:
                    s.send(5, struct.pack("!HBB", fam[0], 0, fam[1]))
                else:
                    emit("ERROR", now(), peer.addr, peer.asn, "cannot refresh")
            elif cmd == "stop":
                peer.enabled = False
                s = peer.session
                if s:
                    text = (words[2] if len(words) > 2 else "").encode()[:255]
                    s.notify(6, 2, bytes([len(text)]) + text if text else b"")
                    s.sent_notification_close = True
                    try:
                        await s.writer.drain()
                    except OSError:
                        pass
                    s.close()
                peer.set_state("Idle")
            elif cmd == "start":
                if not peer.enabled:
                    peer.enabled = True
                    peer.idle_state()

    async def main(self):
        for spec in self.listens:
            host, _, port = spec.rpartition(":")
            host = host.strip("[]")
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(fam, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            for p in self.peers:
                if p.md5 and (":" in p.addr) == (fam == socket.AF_INET6):
                    md5_sockopt(sock, p.addr, p.md5)
            sock.bind((host, int(port)))
            sock.listen(16)
            sock.setblocking(False)
            await asyncio.start_server(self.on_accept, sock=sock)
        for p in self.peers:
            p.idle_state()
            if p.active:
                asyncio.ensure_future(self.connector(p))
        await self.stdin_loop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--local-as", type=int, required=True)
    ap.add_argument("--router-id", required=True)
    ap.add_argument("--listen", action="append", default=[])
    ap.add_argument("--peer", action="append", default=[])
    ap.add_argument("--hold", type=int, default=90)
    ap.add_argument("--connect-retry", type=int, default=5)
    args = ap.parse_args()
    try:
        asyncio.run(Monitor(args).main())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
