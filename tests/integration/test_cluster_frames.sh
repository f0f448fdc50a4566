# Malformed, truncated, oversized and unknown-version frames sent to a server's port:
# each connection is refused (with a reason where one fits) and dropped, with a log
# line; the server stays healthy and keeps serving its peers.
source "$(dirname "$0")/cluster.sh"
T_SERVER_FLAGS=-insecure	# raw frames from Python, in plaintext
start_cluster 2 || exit 1
addr=${S1_URL#circuit://}; addr=${addr%/*}
got=$(timeout 60 python3 "$(dirname "$0")/frames.py" "$addr" 2>&1)
want='good: rep tag 7 rc 0 kind root
bad op: rc -22 open
unknown handle: rc -9 open
version 2: closed refused: protocol version 2 not supported (this server speaks version 1)
version 0, one byte: closed refused: protocol version 0 not supported (this server speaks version 1)
http: closed refused: protocol version 71 not supported (this server speaks version 1)
oversized length: closed refused: oversized frame (limit 1114112 bytes)
just over the limit: closed refused: oversized frame (limit 1114112 bytes)
unknown type: closed refused: unknown frame type 127
type zero: closed refused: unknown frame type 0
reserved bits: closed refused: reserved header bits set
truncated header: closed
truncated payload: closed
request before hello: closed refused: req frame before HELLO
hello bad json: closed refused: malformed HELLO
hello head length past the end: closed refused: malformed HELLO
hello empty payload: closed refused: malformed HELLO
hello array: closed refused: malformed HELLO
hello as a server with a bad id: closed refused: HELLO refused: Invalid argument
second hello: closed refused: bad hello frame
request head not an object: closed refused: bad req frame
request head length zero: closed refused: bad req frame
reply to nothing: closed refused: bad rep frame
cancel with a payload: closed refused: bad cancel frame
cancel with another errno: closed refused: bad cancel frame
cancel with more than rc: closed refused: bad cancel frame
members from a client: closed refused: bad members frame
garbage after hello: closed refused: protocol version 0 not supported (this server speaks version 1)'
if [ "$got" == "$want" ]; then ok "every bad frame refused and dropped"; else
	not_ok "every bad frame refused and dropped" "diff:"
	diff <(echo "$want") <(echo "$got") | sed 's/^/   /'
fi
expect_eq "one log line per dropped connection" "$(grep -c ': dropped$' "$S1_ERR")" "23"

# Open streams a connection holds are bounded (65,536): one more open is EMFILE, and
# the connection lives on; a release makes room again.  It was unbounded (a client
# could make the server hold a few hundred bytes per OPEN frame, forever).
mkdir "$S1_MNT/$S1_ID/many" && echo 'mkproc {"Path":"/bin/sleep","Args":["300"]}' >"$S1_MNT/$S1_ID/many/ctl"
mkdir "$S1_MNT/$S1_ID/ch" && echo 'mkchan 5' >"$S1_MNT/$S1_ID/ch/ctl"
mkdir "$S1_MNT/$S1_ID/cat" && echo 'mkproc {"Path":"/bin/cat"}' >"$S1_MNT/$S1_ID/cat/ctl"
got=$(cd "$(dirname "$0")" && timeout 120 python3 -c '
import sys
from frames import REQ, RELEASE, CANCEL, HELLO, CLIENT_HELLO, Conn, frame, msg, head_of
c = Conn(sys.argv[1])
c.send(CLIENT_HELLO)
assert c.read_frame()[0] == HELLO
def opens(first, n):
    c.send(b"".join(msg(REQ, t, {"op": "open", "path": sys.argv[2], "file": "stdout",
        "mode": 0}) for t in range(first, first + n)))
    heads = []
    for _ in range(n):
        f = c.read_frame(timeout=30)
        if f in (None, "timeout"):
            print("no answer:", f); sys.exit(0)
        heads.append(head_of(f[2]))
    return heads
ok, last, hids = 0, None, []
for b in range(64):
    hs = opens(1 + b * 1024, 1024)
    ok += sum(1 for h in hs if h["rc"] == 0)
    hids += [h["h"] for h in hs if h["rc"] == 0]
    last = hs[-1]
print("opened", ok)
h = opens(70000, 1)[0]
print("one more: rc", h["rc"], h.get("msg"))
c.send(frame(RELEASE, last["h"]))
print("after a release: rc", opens(70001, 1)[0]["rc"])
# A tag or handle is found by id, however many the connection holds: 16,384 reads
# parked (nothing comes from sleep) and a readiness wait, then 100,000 RELEASEs and
# 100,000 CANCELs of ids nobody holds (each walked every handle and request before),
# then the parked ones cancelled by tag, and a request is still answered.
c.s.settimeout(120)
c.s.sendall(b"".join(msg(REQ, 100000 + i, {"op": "read", "h": hids[i], "max": 1})
    for i in range(16384)) + msg(REQ, 99999, {"op": "read", "h": hids[-2], "max": 0,
    "wait": True}))
c.s.sendall(frame(RELEASE, 0x7ffffff0) * 100000 + frame(CANCEL, 0x7ffffff1) * 100000)
c.s.sendall(b"".join(frame(CANCEL, t) for t in range(99999, 100000 + 16384)))
c.send(msg(REQ, 70002, {"op": "stat", "path": "/"}))
eintr, other, stat = 0, [], None
for _ in range(20000):
    if stat is not None and eintr + len(other) >= 16385:
        break
    f = c.read_frame(timeout=30)
    if f in (None, "timeout"):
        print("no answer:", f); sys.exit(0)
    rc = head_of(f[2])["rc"]
    if f[1] == 70002:
        stat = rc
        continue
    if rc == -4 and (f[1] == 99999 or 100000 <= f[1] < 100000 + 16384):
        eintr += 1
    else:
        other.append((f[1], rc))
print("then a stat: rc", stat)
print("cancelled by tag:", eintr, "others:", other)
# Opens in flight count against the cap, so one that would pass it is refused before
# it starts: with 65,535 open, of two opens of send and one of stdin sent at once the
# first is opened and the others refused, having done nothing.  (All three started
# before, and the two refused as they completed were given back as if opened and
# closed: an empty message sent, the process'"'"'s stdin closed.)
c.send(frame(RELEASE, hids[0]))
send = {"op": "open", "path": sys.argv[3], "file": "send", "mode": 1}
c.send(msg(REQ, 80001, send) + msg(REQ, 80002, send) + msg(REQ, 80003, {"op": "open",
    "path": sys.argv[4], "file": "stdin", "mode": 1}))
got = {}
for _ in range(3):
    f = c.read_frame(timeout=30)
    if f in (None, "timeout"):
        print("no answer:", f); sys.exit(0)
    h = head_of(f[2])
    got[f[1]] = (h["rc"], h.get("msg"))
print("open send:", got.get(80001, (None,))[0], "again:", got.get(80002), "stdin:",
    got.get(80003))
' "$addr" "/$S1_ID/many" "/$S1_ID/ch" "/$S1_ID/cat" 2>&1)
expect_eq "65,536 streams open on one connection, not one more; ids found by id" "$got" "opened 65536
one more: rc -24 too many streams open on this connection
after a release: rc 0
then a stat: rc 0
cancelled by tag: 16385 others: []
open send: 0 again: (-24, 'too many streams open on this connection') stdin: (-24, 'too many streams open on this connection')"
check "the refusal is logged" grep -q "65536 streams open or opening: another open is refused" "$S1_ERR"
# The send opened is released aborted as the connection goes (it wrote nothing); the
# refused ones sent nothing and left the process's stdin open.
wait_for 30 grep -q '"NumAborted": 1' "$S1_MNT/$S1_ID/ch/peek"
expect_eq "no message from the refused opens" "$(cat "$S1_MNT/$S1_ID/ch/peek")" \
	'{"Cap": 5, "Closed": false, "Aborted": false, "NumSend": 0, "NumRecv": 0, "NumAborted": 1}'
expect_eq "a refused open of stdin leaves the process running" "$(jget "$S1_MNT/$S1_ID/cat/peek" Phase)" "running"

# An open whose caller is gone when it completes is released aborted: it never passes
# for an empty message sent whole.  The connection is dropped (a bad frame) right
# behind the open, before the open's completion runs.
mkdir "$S1_MNT/$S1_ID/ch2" && echo 'mkchan 5' >"$S1_MNT/$S1_ID/ch2/ctl"
got=$(cd "$(dirname "$0")" && timeout 60 python3 -c '
import sys
from frames import REQ, CANCEL, HELLO, CLIENT_HELLO, Conn, frame, msg, outcome
c = Conn(sys.argv[1])
c.send(CLIENT_HELLO)
assert c.read_frame()[0] == HELLO
c.send(msg(REQ, 1, {"op": "open", "path": sys.argv[2], "file": "send", "mode": 1}) +
    frame(CANCEL, 2, b"x"))
print(outcome(c))
' "$addr" "/$S1_ID/ch2" 2>&1)
expect_eq "an open, then a bad frame at once" "$got" "closed refused: bad cancel frame"
wait_for 30 grep -q '"NumSend": [1-9]\|"NumAborted": [1-9]' "$S1_MNT/$S1_ID/ch2/peek"
expect_eq "the open whose caller went sent nothing" "$(cat "$S1_MNT/$S1_ID/ch2/peek")" \
	'{"Cap": 5, "Closed": false, "Aborted": false, "NumSend": 0, "NumRecv": 0, "NumAborted": 1}'
echo scrub >"$S1_MNT/$S1_ID/many/ctl"
check "the server is healthy" server_healthy S1
check "and still a member of S2's cluster" roots_are "$(ids_of S1 S2)" S1 S2
check "and serves its peer" mkdir "$S2_MNT/$S1_ID/after-frames"
check "and the peer's ops" mkdir "$S1_MNT/$S2_ID/after-frames"
expect_eq "a CLI client still works" "$("$CIRCUIT" ls -insecure -d "$S1_URL" "/$S2_ID")" "/$S2_ID/after-frames"
finish
