#!/usr/bin/env python3
"""DNS over TCP against a server: python3 dns_tcp.py HOST PORT NAME.

Checks the framing and the connection bound of the DNS element, printing one line
per check ("pipelined 3", "split 1", "limit N", ...); NAME must have one A record.
  - three queries in one write get three answers, in order;
  - a query sent one byte at a time gets its answer;
  - of 80 connections held open, those past the server's limit are closed by it;
    after they all close, a new connection is answered again.
"""
import select
import socket
import struct
import sys
import time

host, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def query(qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.strip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 1, 1)
    return struct.pack(">H", len(q)) + q


def read_answer(s):
    head = b""
    while len(head) < 2:
        chunk = s.recv(2 - len(head))
        if not chunk:
            raise EOFError("closed")
        head += chunk
    n = struct.unpack(">H", head)[0]
    body = b""
    while len(body) < n:
        chunk = s.recv(n - len(body))
        if not chunk:
            raise EOFError("closed mid-answer")
        body += chunk
    qid, flags, qd, an = struct.unpack(">HHHH", body[:8])
    return qid, flags & 0xF, an


def conn():
    s = socket.create_connection((host, port), timeout=5)
    return s


s = conn()
s.sendall(query(1) + query(2) + query(3))
got = [read_answer(s) for _ in range(3)]
print("pipelined", sum(1 for i, a in enumerate(got) if a == (i + 1, 0, 1)))
s.close()

s = conn()
for b in query(7):
    s.sendall(bytes([b]))
    time.sleep(0.001)
print("split", 1 if read_answer(s) == (7, 0, 1) else 0)
s.close()

held, refused = [], 0
for i in range(80):
    held.append(conn())
# Those closed by the server turn readable (EOF); look at all at once, well within
# the server's 10 s idle time, which would close the others too.
deadline = time.time() + 2
closed = set()
while time.time() < deadline and len(closed) < len(held) - 64:
    ready, _, _ = select.select([s for s in held if s not in closed], [], [], 0.2)
    for s in ready:
        try:
            if s.recv(1) == b"":
                closed.add(s)
        except ConnectionResetError:
            closed.add(s)
refused = len(closed)
print("limit", 80 - refused)
for s in held:
    s.close()
time.sleep(0.5)
s = conn()
s.sendall(query(9))
print("after", 1 if read_answer(s) == (9, 0, 1) else 0)
s.close()
