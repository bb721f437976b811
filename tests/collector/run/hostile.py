"""Hostile and careless peers for hostile_e2e.sh: COUNT connections to the collector at PORT on
127.0.0.1, each from its own address of 127.16.0.0/12 (bound before connecting), WORKERS at a
time. Each connection does one of these, in turn:
  silent      connects and sends nothing until the collector closes it (open_timeout)
  garbage     sends 64 bytes that are no BGP header
  bad-marker  a BGP header whose marker is not all ones
  bad-version an OPEN of version 3
  hold-1      an OPEN with hold time 1 (RFC 4271 forbids 1 and 2)
  bad-id      an OPEN with BGP identifier 0
  short-open  an OPEN cut short (its length field promises more than is sent), then closes
  huge-len    a header announcing 65535 bytes on a session without extended messages
  open-flood  a valid OPEN, 200 KEEPALIVEs, then a header whose length is 18 (below 19)
  reset       connects and resets at once (SO_LINGER 0)
Prints one line: "connections N refused_or_closed N kinds ..." (a connection the collector
closed or refused, or that got a NOTIFICATION, counts as refused_or_closed). Bounded: every
socket has a 3 s timeout, the whole run at most DEADLINE seconds."""
import socket
import struct
import sys
import threading
import time

port, count, workers = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
deadline = time.time() + float(sys.argv[4]) if len(sys.argv) > 4 else time.time() + 120

MARKER = b"\xff" * 16


def open_msg(version=4, asn=64999, hold=90, bgp_id=0x0A000001, length=None):
    body = struct.pack(">BHHIB", version, asn, hold, bgp_id, 0)
    n = 19 + len(body) if length is None else length
    return MARKER + struct.pack(">HB", n, 1) + body


KEEPALIVE = MARKER + struct.pack(">HB", 19, 4)
KINDS = ["silent", "garbage", "bad-marker", "bad-version", "hold-1", "bad-id", "short-open",
         "huge-len", "open-flood", "reset"]
lock = threading.Lock()
stats = {"connections": 0, "refused_or_closed": 0}


def one(i):
    kind = KINDS[i % len(KINDS)]
    src = "127.%d.%d.%d" % (16 + (i >> 16) % 16, (i >> 8) % 256, 1 + i % 250)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3)
    closed = False
    try:
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        if kind == "silent":
            pass
        elif kind == "garbage":
            s.sendall(bytes(range(64)))
        elif kind == "bad-marker":
            s.sendall(b"\x00" * 16 + struct.pack(">HB", 19, 4))
        elif kind == "bad-version":
            s.sendall(open_msg(version=3))
        elif kind == "hold-1":
            s.sendall(open_msg(hold=1))
        elif kind == "bad-id":
            s.sendall(open_msg(bgp_id=0))
        elif kind == "short-open":
            s.sendall(open_msg(length=60)[:40])
            s.close()
            closed = True
        elif kind == "huge-len":
            s.sendall(MARKER + struct.pack(">HB", 65535, 2) + b"\x00" * 100)
        elif kind == "open-flood":
            s.sendall(open_msg() + KEEPALIVE * 200 + MARKER + struct.pack(">HB", 18, 4))
        elif kind == "reset":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            closed = True
        if not closed:
            # Read until the collector closes (or the timeout): a NOTIFICATION or a close.
            end = time.time() + (6 if kind == "silent" else 3)
            while time.time() < end:
                try:
                    if not s.recv(4096):
                        closed = True
                        break
                except socket.timeout:
                    break
                except OSError:
                    closed = True
                    break
    except OSError:
        closed = True
    finally:
        s.close()
    with lock:
        stats["connections"] += 1
        stats["refused_or_closed"] += 1 if closed else 0


def worker(w):
    i = w
    while i < count and time.time() < deadline:
        one(i)
        i += workers


threads = [threading.Thread(target=worker, args=(w,)) for w in range(workers)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("connections %d refused_or_closed %d kinds %s" % (stats["connections"],
                                                        stats["refused_or_closed"],
                                                        ",".join(KINDS)))
