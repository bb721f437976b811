#!/usr/bin/python3
"""A minimal BMP station for the end-to-end tests: listens on 127.0.0.1:PORT and writes the
bytes of each connection it accepts, as they come, to PREFIX.0, PREFIX.1, ... (RFC 7854 streams:
the station sends nothing). Runs until SIGTERM.

`bmp_station.py pcap STREAM OUT` writes STREAM as a pcap of TCP segments from port 40000 to port
1790 (raw IPv4, whole BMP messages per segment), for tshark's BMP dissector."""
import signal
import socket
import struct
import sys


def to_pcap(stream, out_path):
    data = open(stream, "rb").read()
    with open(out_path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        segments, start, at = [], 0, 0
        while at + 5 <= len(data):
            length = struct.unpack("!I", data[at + 1:at + 5])[0]
            if at + length - start > 1400 and at > start:
                segments.append(data[start:at])
                start = at
            at += max(length, 6)
        segments.append(data[start:at])
        seq = 1000
        for i, payload in enumerate(segments):
            tcp = struct.pack("!HHIIBBHHH", 40000, 1790, seq, 1, 5 << 4, 0x18, 65535, 0, 0)
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), i & 0xFFFF, 0x4000, 64,
                             6, 0, bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2]))
            pkt = ip + tcp + payload
            out.write(struct.pack("<IIII", i // 1000, (i % 1000) * 1000, len(pkt), len(pkt)))
            out.write(pkt)
            seq += len(payload)


def main():
    if sys.argv[1] == "pcap":
        to_pcap(sys.argv[2], sys.argv[3])
        return
    port, prefix = int(sys.argv[1]), sys.argv[2]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(4)
    n = 0
    while True:
        conn, _ = srv.accept()
        with conn, open(f"{prefix}.{n}", "wb", buffering=0) as out:
            while True:
                data = conn.recv(1 << 16)
                if not data:
                    break
                out.write(data)
        n += 1


if __name__ == "__main__":
    main()
