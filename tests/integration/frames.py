#!/usr/bin/env python3
"""frames.py - send malformed frames to a circuit server and report what it did.

usage: frames.py HOST:PORT

Each case dials the server, sends its bytes, and prints one line: `NAME: closed`
(the server dropped the connection), with `refused: MSG` when it said why first, or
`NAME: rc N open` for a request answered with an error while the connection stays.
The first case is a well-formed exchange, so that refusals are not the client's bugs.
"""
import json
import socket
import struct
import sys

HDR = struct.Struct(">BBHII")
HELLO, REQ, REP, CANCEL, RELEASE, MEMBERS, LEAVE, DEAD, REFUSE, AUTH = range(1, 11)


def frame(typ, ident, payload=b"", version=1, reserved=0):
    return HDR.pack(version, typ, reserved, ident, len(payload)) + payload


def msg(typ, ident, head, body=b""):
    h = json.dumps(head).encode() if not isinstance(head, bytes) else head
    return frame(typ, ident, struct.pack(">I", len(h)) + h + body)


CLIENT_HELLO = msg(HELLO, 0, {"client": "frames.py"})


class Conn:
    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)), timeout=5)
        self.buf = b""

    def send(self, data):
        try:
            self.s.sendall(data)
        except OSError:
            pass

    def read_frame(self, timeout=3.0):
        """One frame (type, id, payload), or None at EOF/reset, or 'timeout'."""
        self.s.settimeout(timeout)
        while True:
            if len(self.buf) >= HDR.size:
                v, t, r, i, n = HDR.unpack_from(self.buf)
                if len(self.buf) >= HDR.size + n:
                    p = self.buf[HDR.size:HDR.size + n]
                    self.buf = self.buf[HDR.size + n:]
                    return (t, i, p)
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                return "timeout"
            except OSError:
                return None
            if not d:
                return None
            self.buf += d


def head_of(payload):
    n = struct.unpack_from(">I", payload)[0]
    return json.loads(payload[4:4 + n])


def outcome(c):
    """Read until EOF: 'closed' (maybe with the refusal) or 'open'."""
    refused = None
    while True:
        f = c.read_frame()
        if f is None:
            return "closed" + (" refused: " + refused if refused else "")
        if f == "timeout":
            return "open"
        if f[0] == REFUSE:
            refused = head_of(f[2]).get("msg")


def after_hello(addr, data, shut=False):
    c = Conn(addr)
    c.send(CLIENT_HELLO)
    f = c.read_frame()
    assert f not in (None, "timeout") and f[0] == HELLO, f
    c.send(data)
    if shut:
        c.s.shutdown(socket.SHUT_WR)
    return c


def raw(addr, data, shut=False):
    c = Conn(addr)
    c.send(data)
    if shut:
        c.s.shutdown(socket.SHUT_WR)
    return c


def main():
    addr = sys.argv[1]
    out = []

    # A well-formed exchange: HELLO, then stat of the root.
    c = after_hello(addr, msg(REQ, 7, {"op": "stat", "path": "/"}))
    t, i, p = c.read_frame()
    h = head_of(p)
    out.append("good: %s tag %d rc %d kind %s" % ("rep" if t == REP else t, i, h["rc"],
               h["json"]["kind"]))
    # A bad request is an error reply; the connection stays.
    c.send(msg(REQ, 8, {"op": "frobnicate", "path": "/"}))
    t, i, p = c.read_frame()
    out.append("bad op: rc %d %s" % (head_of(p)["rc"], outcome(c)))
    c = after_hello(addr, msg(REQ, 9, {"op": "read", "h": 12345, "max": 10}))
    t, i, p = c.read_frame()
    out.append("unknown handle: rc %d %s" % (head_of(p)["rc"], outcome(c)))

    cases = [
        ("version 2", lambda: raw(addr, frame(HELLO, 0, version=2))),
        ("version 0, one byte", lambda: raw(addr, b"\x00")),
        ("http", lambda: raw(addr, b"GET / HTTP/1.0\r\n\r\n")),
        ("oversized length", lambda: raw(addr, HDR.pack(1, HELLO, 0, 0, 0xFFFFFFFF))),
        ("just over the limit", lambda: raw(addr, HDR.pack(1, HELLO, 0, 0, (1 << 20) + 65537))),
        ("unknown type", lambda: raw(addr, frame(0x7F, 0, b"x"))),
        ("type zero", lambda: raw(addr, frame(0, 0))),
        ("reserved bits", lambda: raw(addr, frame(HELLO, 0, reserved=1))),
        ("truncated header", lambda: raw(addr, CLIENT_HELLO[:7], shut=True)),
        ("truncated payload", lambda: raw(addr, CLIENT_HELLO[:-3], shut=True)),
        ("request before hello", lambda: raw(addr, msg(REQ, 1, {"op": "stat", "path": "/"}))),
        ("hello bad json", lambda: raw(addr, msg(HELLO, 0, b"{nope"))),
        ("hello head length past the end", lambda: raw(addr, frame(HELLO, 0, struct.pack(">I", 1000) + b"{}"))),
        ("hello empty payload", lambda: raw(addr, frame(HELLO, 0))),
        ("hello array", lambda: raw(addr, msg(HELLO, 0, b"[1,2]"))),
        ("hello as a server with a bad id", lambda: raw(addr, msg(HELLO, 0, {"id": "Xnope", "url": "circuit://127.0.0.1:1/Xnope"}))),
        ("second hello", lambda: after_hello(addr, CLIENT_HELLO)),
        ("request head not an object", lambda: after_hello(addr, msg(REQ, 1, b"\"stat\""))),
        ("request head length zero", lambda: after_hello(addr, frame(REQ, 1, struct.pack(">I", 0)))),
        ("reply to nothing", lambda: after_hello(addr, msg(REP, 99, {"rc": 0}))),
        ("cancel with a payload", lambda: after_hello(addr, frame(CANCEL, 1, b"xx"))),
        # A CANCEL may carry only -EHOSTDOWN (its caller's server shutting down).
        ("cancel with another errno", lambda: after_hello(addr, msg(CANCEL, 1, {"rc": -5}))),
        ("cancel with more than rc", lambda: after_hello(addr, msg(CANCEL, 1, {"rc": -112, "x": 1}))),
        ("members from a client", lambda: after_hello(addr, msg(MEMBERS, 0, {"members": []}))),
        ("garbage after hello", lambda: after_hello(addr, bytes(range(256)) * 4)),
    ]
    for name, run in cases:
        out.append("%s: %s" % (name, outcome(run())))
    print("\n".join(out))


if __name__ == "__main__":
    main()
