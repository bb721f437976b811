#!/usr/bin/python3
"""A minimal BMP station for the end-to-end tests: listens on 127.0.0.1:PORT and writes the
bytes of each connection it accepts, as they come, to PREFIX.0, PREFIX.1, ... (RFC 7854 streams:
the station sends nothing). Runs until SIGTERM."""
import signal
import socket
import sys


def main():
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
