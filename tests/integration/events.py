#!/usr/bin/env python3
"""events.py - an event-driven reader: one poll(2) loop over several stream files.

usage: events.py FILE...

Opens every FILE with O_NONBLOCK, then polls them all until each has reached EOF
(30 s at most).  Prints, per file in the order given, the lines it read; then one
line "blocked: N" with the number of reads that took longer than 2 s (a read on an
O_NONBLOCK file must never wait) and "eagain: yes/no" (whether any read said EAGAIN:
the readers did wait for output in poll, not in read).
"""
import os
import select
import sys
import time

files = sys.argv[1:]
fds = {os.open(f, os.O_RDONLY | os.O_NONBLOCK): f for f in files}
got = {f: b"" for f in files}
p = select.poll()
for fd in fds:
    p.register(fd, select.POLLIN)
blocked = 0
eagain = False
end = time.monotonic() + 30
while fds and time.monotonic() < end:
    for fd, ev in p.poll(1000):
        t0 = time.monotonic()
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            eagain = True
            data = None
        if time.monotonic() - t0 > 2:
            blocked += 1
        if data is None:
            continue
        if data == b"":
            p.unregister(fd)
            os.close(fd)
            del fds[fd]
            continue
        got[fds[fd]] += data
for f in files:
    print("%s: %s" % (os.path.basename(os.path.dirname(f)) + "/" + os.path.basename(f),
                      got[f].decode().replace("\n", " ").strip()))
print("open at the end: %d" % len(fds))
print("blocked: %d" % blocked)
print("eagain: %s" % ("yes" if eagain else "no"))
