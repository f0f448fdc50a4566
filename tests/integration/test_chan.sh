# Channel elements through the mount: every channel example of the seed README, Go
# semantics (buffering, rendezvous, order, close), the 32 KiB limit, streaming, poll.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_more.sh"
start_target A
M=$A_MNT; X=$A_ID
peek0() { printf '{"Cap": %s, "Closed": %s, "Aborted": false, "NumSend": %s, "NumRecv": %s, "NumAborted": 0}' "$@"; }

# --- the seed example: /X/this/is/charlie, capacity 3 ---
C=$M/$X/this/is/charlie
check "mkdir -p charlie" mkdir -p "$C"
check "mkchan 3" wr "$C/ctl" "mkchan 3"
expect_eq "ctl says channel" "$(cat "$C/ctl")" "/$X/this/is/charlie channel"
expect_eq "channel files" "$(ls "$C" | tr '\n' ' ')" "ctl error help peek recv send "
expect_eq "peek of a new channel" "$(cat "$C/peek")" "$(peek0 3 false 0 0)"
check "help of a channel mentions EFBIG" grep -q EFBIG "$C/help"
for i in 1 2 3; do
	check "buffered send $i returns at once" wr "$C/send" "msg$i"
done
expect_eq "peek counts 3 sends" "$(cat "$C/peek")" "$(peek0 3 false 3 0)"
timeout 10 bash -c "echo msg4 > '$C/send'" & s4=$!
sleep 0.3
check "4th send waits for a free slot" kill -0 $s4
expect_eq "first recv is msg1" "$(timeout 5 cat "$C/recv")" "msg1"
wait_pid 5 $s4; expect_eq "4th send completes once a slot frees" "$?" 0
expect_eq "recv msg2" "$(timeout 5 cat "$C/recv")" "msg2"
expect_eq "recv msg3" "$(timeout 5 cat "$C/recv")" "msg3"
expect_eq "recv msg4" "$(timeout 5 cat "$C/recv")" "msg4"
expect_eq "peek counts 4/4" "$(cat "$C/peek")" "$(peek0 3 false 4 4)"
timeout -s INT 0.5 cat "$C/recv" >/dev/null 2>&1
expect_eq "recv on an empty channel blocks (interrupted)" "$?" 124
check "empty message" bash -c ": > '$C/send'"
expect_eq "empty message received empty" "$(timeout 5 cat "$C/recv" | wc -c)" "0"
expect_eq "empty message counted" "$(cat "$C/peek")" "$(peek0 3 false 5 5)"

# close: what is buffered drains, then EPIPE both ways
check "send a before close" wr "$C/send" "a"
check "send b before close" wr "$C/send" "b"
check "close" wr "$C/ctl" "close"
expect_eq "peek after close" "$(cat "$C/peek")" "$(peek0 3 true 7 5)"
expect_fail "send on a closed channel is EPIPE" "Broken pipe" bash -c "echo x > '$C/send'"
expect_err_line "error file tells the closed send" "$C" "closed channel"
expect_eq "buffered a still drains" "$(timeout 5 cat "$C/recv")" "a"
expect_eq "buffered b still drains" "$(timeout 5 cat "$C/recv")" "b"
expect_fail "recv on a closed drained channel is EPIPE" "Broken pipe" timeout 5 cat "$C/recv"
expect_eq "peek after draining" "$(cat "$C/peek")" "$(peek0 3 true 7 7)"
check "a second close is harmless" wr "$C/ctl" "close"
expect_eq "and changes nothing" "$(cat "$C/peek")" "$(peek0 3 true 7 7)"
# close wakes a waiting receiver with EPIPE
D=$M/$X/d; mkdir "$D"; wr "$D/ctl" "mkchan 1"
timeout 10 cat "$D/recv" >"$T_TMP/d.out" 2>"$T_TMP/d.err" & r=$!
sleep 0.3
check "close with a waiting receiver" wr "$D/ctl" "close"
wait_pid 5 $r; expect_eq "the waiting receiver fails" "$?" 1
check "the waiting receiver saw Broken pipe" grep -q "Broken pipe" "$T_TMP/d.err"
# close fails a waiting sender with EPIPE, the buffered message stays
E=$M/$X/e; mkdir "$E"; wr "$E/ctl" "mkchan 1"
wr "$E/send" "kept"
timeout 10 bash -c "echo late > '$E/send'" 2>"$T_TMP/e.err" & s=$!
sleep 0.3
wr "$E/ctl" "close"
wait_pid 5 $s; expect_eq "a sender waiting at close fails" "$?" 1
check "with Broken pipe" grep -q "Broken pipe" "$T_TMP/e.err"
expect_eq "the buffered message survives the close" "$(timeout 5 cat "$E/recv")" "kept"
expect_eq "closed channel counters" "$(cat "$E/peek")" "$(peek0 1 true 1 1)"

# --- capacity 0: rendezvous ---
Z=$M/$X/zero; mkdir "$Z"; wr "$Z/ctl" "mkchan 0"
timeout 10 bash -c "echo hello > '$Z/send'" & s=$!
sleep 0.3
check "cap 0 send waits for a receiver" kill -0 $s
expect_eq "cap 0: nothing counted while waiting" "$(cat "$Z/peek")" "$(peek0 0 false 0 0)"
expect_eq "cap 0 recv meets the sender" "$(timeout 5 cat "$Z/recv")" "hello"
wait_pid 5 $s; expect_eq "cap 0 sender done" "$?" 0
timeout 10 cat "$Z/recv" >"$T_TMP/z.out" & r=$!
sleep 0.3
check "cap 0 recv waits for a sender" kill -0 $r
check "cap 0 send to a waiting receiver" wr "$Z/send" "world"
wait_pid 5 $r; expect_eq "receiver done" "$?" 0
expect_eq "receiver got it" "$(cat "$T_TMP/z.out")" "world"
expect_eq "cap 0 counters" "$(cat "$Z/peek")" "$(peek0 0 false 2 2)"

# --- the 32 KiB limit of a buffered message ---
B=$M/$X/big; mkdir "$B"; wr "$B/ctl" "mkchan 1"
head -c 32768 /dev/urandom >"$T_TMP/32k"
head -c 32769 /dev/urandom >"$T_TMP/32k1"
check "32 KiB buffered message is accepted" timeout 10 cp "$T_TMP/32k" "$B/send"
timeout 5 cat "$B/recv" >"$T_TMP/32k.got"
check "32 KiB message arrives intact" cmp -s "$T_TMP/32k" "$T_TMP/32k.got"
expect_fail "32 KiB + 1 into a buffered message is EFBIG" "File too large" timeout 10 cp "$T_TMP/32k1" "$B/send"
expect_err_line "error file tells the 32 KiB limit" "$B" "32768"
expect_eq "the refused message is not counted" "$(cat "$B/peek")" "$(peek0 1 false 1 1)"
check "the slot is free again" wr "$B/send" "next"
expect_eq "the refused message is never delivered" "$(timeout 5 cat "$B/recv")" "next"
# a waiting receiver takes any size, even on a buffered channel
head -c 3000000 /dev/urandom >"$T_TMP/3m"
timeout 20 cat "$B/recv" >"$T_TMP/3m.got" & r=$!
sleep 0.3
check "3 MB to a waiting receiver on a cap 1 channel" timeout 20 cp "$T_TMP/3m" "$B/send"
wait_pid 20 $r
check "3 MB arrives intact" cmp -s "$T_TMP/3m" "$T_TMP/3m.got"

# --- large unbuffered streaming, both orders ---
head -c 20000000 /dev/urandom >"$T_TMP/20m"
timeout 30 cat "$Z/recv" >"$T_TMP/20m.got" & r=$!
check "20 MB through cap 0 (receiver first)" timeout 30 cp "$T_TMP/20m" "$Z/send"
wait_pid 30 $r; check "20 MB intact (receiver first)" cmp -s "$T_TMP/20m" "$T_TMP/20m.got"
timeout 30 dd if="$T_TMP/20m" of="$Z/send" bs=1M status=none & s=$!
sleep 0.2
timeout 30 cat "$Z/recv" >"$T_TMP/20m.got2"
wait_pid 30 $s; expect_eq "dd sender done" "$?" 0
check "20 MB intact (sender first)" cmp -s "$T_TMP/20m" "$T_TMP/20m.got2"
expect_eq "streamed messages counted once each" "$(cat "$Z/peek")" "$(peek0 0 false 4 4)"

# --- poll: select on recv wakes when the bytes arrive, not before ---
P=$M/$X/poll; mkdir "$P"; wr "$P/ctl" "mkchan 0"
timeout 10 python3 - "$P/recv" >"$T_TMP/poll.out" <<'PY' & r=$!
import os, select, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)        # pairs with the sender's open
t0 = time.monotonic()
first = select.select([fd], [], [], 0)[0]      # no bytes yet
ready = select.select([fd], [], [], 5)[0]
dt = time.monotonic() - t0
data = os.read(fd, 100)
print(len(first), len(ready), "late" if dt > 0.5 else "early", data.decode().strip())
PY
sleep 0.3
timeout 10 python3 -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY); time.sleep(1); os.write(fd, b"ready\n"); os.close(fd)' "$P/send"
wait_pid 10 $r
# (Remote recvs too: a readiness wait asks the owner, docs/protocol.md.)
expect_eq "select: not ready, then ready after the write" "$(cat "$T_TMP/poll.out")" "0 1 late ready"
check "buffered message is readable at once" wr "$B/send" "now"
expect_eq "poll of a buffered message" "$(timeout 5 python3 -c '
import os, select, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
print(len(select.select([fd], [], [], 2)[0]), os.read(fd, 10).decode().strip())' "$B/recv")" "1 now"

# --- scrub and rmdir of a channel ---
S=$M/$X/scr; mkdir "$S"; wr "$S/ctl" "mkchan 0"
timeout 10 cat "$S/recv" >/dev/null 2>"$T_TMP/s.err" & r=$!
sleep 0.3
check "scrub a channel with a waiting receiver" wr "$S/ctl" "scrub"
wait_pid 5 $r; expect_eq "the waiting receiver fails at scrub" "$?" 1
expect_eq "scrub keeps the anchor, drops the element" "$(ls "$S" | tr '\n' ' ')" "ctl error help "
check "mkchan again after scrub" wr "$S/ctl" "mkchan 2"
wr "$S/send" "gone with rmdir"
check "rmdir of an anchor holding a channel" rmdir "$S"
expect_fail "the anchor is gone" "No such file" ls "$S"

check "server still healthy" server_healthy A
finish
