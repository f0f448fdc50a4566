#!/usr/bin/env python3
"""Send malformed DNS queries to a server: python3 dns_garbage.py HOST PORT COUNT.

Every kind of bad input an authoritative server meets: random bytes, short and
truncated headers, answers (QR set), huge section counts, compression pointers that
loop or point past the end, labels running off the message, bad opcodes, OPT records
with odd sizes; over UDP, and a few over TCP (bad lengths, partial messages, junk).
Prints "sent N" and how many UDP answers came back; a reply is never required.
"""
import random
import socket
import struct
import sys

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(20261130)


def header(qid, flags, qd, an, ns, ar):
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


def qname(name):
    out = b""
    for label in name.split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


GOOD_Q = qname("web.example") + struct.pack(">HH", 1, 1)


def malformed(i):
    k = i % 14
    qid = rng.randrange(65536)
    if k == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 600)))
    if k == 1:
        return header(qid, 0, 1, 0, 0, 0)[: rng.randrange(0, 12)]
    if k == 2:  # truncated question
        m = header(qid, 0x0100, 1, 0, 0, 0) + GOOD_Q
        return m[: rng.randrange(12, len(m))]
    if k == 3:  # huge counts
        return header(qid, 0, 65535, 65535, 65535, 65535) + GOOD_Q * 3
    if k == 4:  # a pointer to itself
        return header(qid, 0, 1, 0, 0, 0) + b"\xc0\x0c" + struct.pack(">HH", 1, 1)
    if k == 5:  # two pointers pointing at each other
        return header(qid, 0, 1, 0, 0, 0) + b"\x01a\xc0\x0e\xc0\x0c" + struct.pack(">HH", 1, 1)
    if k == 6:  # pointer past the end
        return header(qid, 0, 1, 0, 0, 0) + b"\xc3\xff" + struct.pack(">HH", 1, 1)
    if k == 7:  # a label longer than the message
        return header(qid, 0, 1, 0, 0, 0) + b"\x3fabc"
    if k == 8:  # an answer, not a query: must be dropped, never answered
        return header(qid, 0x8000, 1, 0, 0, 0) + GOOD_Q
    if k == 9:  # another opcode (UPDATE) with garbage
        return header(qid, 5 << 11, 1, 1, 1, 1) + bytes(rng.randrange(256) for _ in range(40))
    if k == 10:  # OPT with a bad rdlength
        opt = b"\0" + struct.pack(">HHIH", 41, 4096, 0, 500) + b"\0\1"
        return header(qid, 0, 1, 0, 0, 1) + GOOD_Q + opt
    if k == 11:  # a name longer than 255 bytes
        return header(qid, 0, 1, 0, 0, 0) + (b"\x3f" + b"a" * 63) * 5 + b"\0" + struct.pack(">HH", 1, 1)
    if k == 12:  # reserved label type bits
        return header(qid, 0, 1, 0, 0, 0) + b"\x41abc\0" + struct.pack(">HH", 1, 1)
    # bit flips of a good query
    m = bytearray(header(qid, 0x0100, 1, 0, 0, 0) + GOOD_Q)
    for _ in range(rng.randrange(1, 4)):
        m[rng.randrange(len(m))] ^= 1 << rng.randrange(8)
    return bytes(m)


udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.setblocking(False)
answers = 0
for i in range(count):
    udp.sendto(malformed(i), (host, port))
    try:
        while True:
            udp.recv(65536)
            answers += 1
    except BlockingIOError:
        pass

# TCP: a bad length, a partial message left hanging, junk, a zero length.
for junk in (b"\xff\xff" + b"x" * 10, b"\x00\x20abc", bytes(rng.randrange(256) for _ in range(300)),
             b"\x00\x00", struct.pack(">H", 12) + header(1, 0, 9, 9, 9, 9)):
    t = socket.create_connection((host, port), timeout=5)
    t.sendall(junk)
    t.close()
print("sent %d, %d answers" % (count, answers))
