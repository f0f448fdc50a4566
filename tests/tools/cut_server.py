#!/usr/bin/env python3
"""cut_server.py: a server (without a key) that dies in the middle of a stream.

  PYTHONPATH=tests/integration cut_server.py [later]   prints its port, then serves
        one connection: HELLO as X0000000000000001, any open as handle 1, the first
        read with the 5 bytes "hello"; right after those it resets the connection.
        With `later`: the second read gets "world", later reads nothing, and a stat
        gets its answer; then the end of what it sends, and the reset a moment later
        (a reset at once may drop bytes not yet sent).
        With `refuse`: the first request gets a REFUSE whose text has a line break in
        it and 300 more bytes, then the connection ends gently.

The client has received those bytes and must hand them over before it reports the
lost connection: bytes that came in are not dropped because a later request failed.
"""
import json
import socket
import struct
import sys
import time

from frames import HDR, HELLO, REFUSE, REP, REQ, msg

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
s.settimeout(30)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.settimeout(30)
buf = b""
later = sys.argv[1:] == ["later"]
refuse = sys.argv[1:] == ["refuse"]
reads = 0


def reset():
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    sys.exit(0)


def frame():
    global buf
    while True:
        if len(buf) >= HDR.size:
            n = HDR.unpack(buf[:HDR.size])[4]
            if len(buf) >= HDR.size + n:
                f, buf = buf[:HDR.size + n], buf[HDR.size + n:]
                return HDR.unpack(f[:HDR.size])[1], HDR.unpack(f[:HDR.size])[3], f[HDR.size:]
        d = c.recv(65536)
        if not d:
            sys.exit(0)
        buf += d


while True:
    typ, ident, payload = frame()
    if typ == HELLO:
        c.sendall(msg(HELLO, 0, {"id": "X0000000000000001"}))
        continue
    if typ != REQ:
        continue
    if refuse:
        c.sendall(msg(REFUSE, 0, {"msg": "cut_server.py: go away\nnow " + "x" * 300}))
        c.shutdown(socket.SHUT_WR)
        while c.recv(65536):
            pass
        sys.exit(0)
    hl = struct.unpack(">I", payload[:4])[0]
    op = json.loads(payload[4:4 + hl])["op"]
    if op == "open":
        c.sendall(msg(REP, ident, {"rc": 0, "h": 1}))
    elif op == "read":
        reads += 1
        if reads <= 2:
            c.sendall(msg(REP, ident, {"rc": 5}, b"hello" if reads == 1 else b"world"))
        if not later:
            reset()
    elif op == "stat" and later:
        c.sendall(msg(REP, ident, {"rc": 0, "json": {"kind": "server", "files": []}}))
        c.shutdown(socket.SHUT_WR)
        time.sleep(0.5)
        reset()
    else:
        c.sendall(msg(REP, ident, {"rc": -95, "msg": "cut_server.py: not here"}))
