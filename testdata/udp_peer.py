#!/usr/bin/env python3
"""A plain UDP peer for sockmsg's interop test, written as the seed tutorial teaches:
socket.SOCK_DGRAM, sendto (which needs the address) and recvfrom (which returns the sender).

    udp_peer.py client HOST PORT   send "merhaba" to HOST:PORT, print the answer, say "EXİT"
    udp_peer.py server HOST        bind HOST on a free port, print HOST:PORT, answer every
                                   message in upper case until a close key comes
"""

import socket
import sys

CLOSE_KEYS = ("bye", "close", "quit", "q", "kapat", "exit")
TIMEOUT = 10  # seconds; the Go test bounds the whole run anyway


def client(host, port):
    server = (host, int(port))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    s.sendto("merhaba".encode(), server)
    data, sender = s.recvfrom(65507)
    where = "the address it sent to" if sender == server else "somewhere else: %r" % (sender,)
    print("got %r from %s" % (data.decode(), where))
    s.sendto("EXİT".encode(), server)
    s.close()


def server(host):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    s.bind((host, 0))
    print("%s:%d" % s.getsockname(), flush=True)
    while True:
        data, sender = s.recvfrom(65507)
        text = data.decode()
        if text.strip().lower() in CLOSE_KEYS:
            break
        s.sendto(text.upper().encode(), sender)
    s.close()


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "client" and len(sys.argv) == 4:
        client(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "server":
        server(sys.argv[2])
    else:
        sys.exit(__doc__)
