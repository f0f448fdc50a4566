#!/usr/bin/env python3
"""handles.py - use stream handles against their direction, as a hostile client would.

usage: handles.py HOST:PORT ANCHOR

ANCHOR ("/XID/c") holds a channel.  The client opens its send file for writing and
reads on that handle, opens recv for reading and writes on that handle, and opens
send read-write; the message sent in between arrives intact; it prints one line per request with the server's answer, then stats
the root to show that the server still answers on the same connection.
"""
import sys

from frames import REQ, RELEASE, CLIENT_HELLO, HELLO, Conn, frame, head_of, msg


def ask(c, tag, head, body=b""):
    c.send(msg(REQ, tag, head, body))
    f = c.read_frame(timeout=10)
    if f in (None, "timeout"):
        return {"rc": "no answer: %s" % f}
    return head_of(f[2])


def main():
    addr, anchor = sys.argv[1], sys.argv[2]
    c = Conn(addr)
    c.send(CLIENT_HELLO)
    f = c.read_frame()
    assert f not in (None, "timeout") and f[0] == HELLO, f
    out = []
    h = ask(c, 1, {"op": "open", "path": anchor, "file": "send", "mode": 1})
    out.append("open send for writing: rc %s" % h["rc"])
    r = ask(c, 2, {"op": "read", "h": h.get("h", 0), "max": 10})
    out.append("read on the send handle: rc %s %s" % (r["rc"], r.get("msg", "")))
    r = ask(c, 3, {"op": "write", "h": h.get("h", 0)}, b"hello\n")
    out.append("write on the send handle: rc %s" % r["rc"])
    c.send(frame(RELEASE, h.get("h", 0)))
    h2 = ask(c, 4, {"op": "open", "path": anchor, "file": "recv", "mode": 0})
    out.append("open recv for reading: rc %s" % h2["rc"])
    r = ask(c, 5, {"op": "write", "h": h2.get("h", 0)}, b"hello")
    out.append("write on the recv handle: rc %s %s" % (r["rc"], r.get("msg", "")))
    c.send(msg(REQ, 51, {"op": "read", "h": h2.get("h", 0), "max": 100}))
    f = c.read_frame(timeout=10)
    if f in (None, "timeout"):
        out.append("read on the recv handle: no answer: %s" % f)
    else:
        out.append("read on the recv handle: %r" % (f[2][4 + int.from_bytes(f[2][:4], "big"):],))
    r = ask(c, 6, {"op": "open", "path": anchor, "file": "send", "mode": 2})
    out.append("open send read-write: rc %s" % r["rc"])
    r = ask(c, 7, {"op": "snap", "path": anchor, "file": "recv", "mode": 0})
    out.append("snapshot of recv: rc %s" % r["rc"])
    r = ask(c, 8, {"op": "open", "path": anchor, "file": "peek", "mode": 0})
    out.append("open of peek as a stream: rc %s" % r["rc"])
    r = ask(c, 9, {"op": "stat", "path": "/"})
    out.append("stat of the root: rc %s" % r["rc"])
    print("\n".join(out))


if __name__ == "__main__":
    main()
