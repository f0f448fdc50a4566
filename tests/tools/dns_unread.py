#!/usr/bin/env python3
"""A DNS-over-TCP client that asks and does not read: dns_unread.py HOST PORT NAME N GO.

Sends N queries for NAME's TXT records in one write and prints "sent N"; then waits
(60 s at most) until the file GO exists, reads the answers and prints "answers K",
the whole answers read within 30 s.  Between the two, the server holds what it could
not send: the test looks at how much.
"""
import os
import socket
import struct
import sys
import time

host, port, name, n, go = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]


def query(qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.strip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 16, 1)
    return struct.pack(">H", len(q)) + q


s = socket.create_connection((host, port), timeout=30)
s.sendall(b"".join(query(i & 0xFFFF) for i in range(n)))
print("sent", n, flush=True)
end = time.time() + 60
while not os.path.exists(go) and time.time() < end:
    time.sleep(0.05)
buf, answers = b"", 0
try:
    while answers < n:
        d = s.recv(1 << 20)
        if not d:
            break
        buf += d
        while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
            buf = buf[2 + struct.unpack(">H", buf[:2])[0]:]
            answers += 1
except socket.timeout:
    pass
print("answers", answers, flush=True)
