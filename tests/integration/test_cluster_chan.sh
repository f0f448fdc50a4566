# Channels across servers: the channel lives on S3, is driven from S1's mount and
# received on S2's (and through the CLI).  Buffering, rendezvous, order, close, EFBIG,
# interrupts that lose nothing, and 100 MB checked by sha256.
source "$(dirname "$0")/cluster.sh"
source "$(dirname "$0")/lib_more.sh"
start_cluster 3 chain || exit 1
X=$S3_ID
A=$S1_MNT/$X		# the driver's view
B=$S2_MNT/$X		# the receiver's view
peek0() { printf '{"Cap": %s, "Closed": %s, "Aborted": false, "NumSend": %s, "NumRecv": %s, "NumAborted": 0}' "$@"; }

check "mkdir -p on S3 from S1" mkdir -p "$A/this/is/charlie"
C=this/is/charlie
check "mkchan 3 from S1" wr "$A/$C/ctl" "mkchan 3"
expect_eq "S2 sees a channel" "$(cat "$B/$C/ctl")" "/$X/this/is/charlie channel"
expect_eq "S2 sees its files" "$(ls "$B/$C" | tr '\n' ' ')" "ctl error help peek recv send "
expect_eq "the owner sees it too" "$(cat "$S3_MNT/$X/$C/ctl")" "/$X/this/is/charlie channel"
expect_fail "a second mkchan is EEXIST" "File exists" wr "$A/$C/ctl" "mkchan 1"
for i in 1 2 3; do check "buffered send $i from S1" wr "$A/$C/send" "msg$i"; done
expect_eq "peek via S2 counts 3 sends" "$(cat "$B/$C/peek")" "$(peek0 3 false 3 0)"
timeout 10 bash -c "echo msg4 > '$A/$C/send'" & s4=$!
sleep 0.3
check "the 4th remote send waits for a slot" kill -0 $s4
expect_eq "S2 receives msg1" "$(timeout 5 cat "$B/$C/recv")" "msg1"
wait_pid 5 $s4; expect_eq "the 4th send completes" "$?" 0
for i in 2 3 4; do expect_eq "S2 receives msg$i in order" "$(timeout 5 cat "$B/$C/recv")" "msg$i"; done
expect_eq "peek counts 4/4" "$(cat "$A/$C/peek")" "$(peek0 3 false 4 4)"

# Interrupted remote receives take nothing.
timeout -s INT 0.5 cat "$B/$C/recv" >/dev/null 2>&1
expect_eq "a remote recv on an empty channel blocks until interrupted" "$?" 124
timeout -s INT 0.3 cat "$B/$C/recv" >/dev/null 2>&1
timeout -s INT 0.3 cat "$B/$C/recv" >/dev/null 2>&1
check "send after the interrupted receives" wr "$A/$C/send" "kept"
expect_eq "the next remote recv gets the message" "$(timeout 5 cat "$B/$C/recv")" "kept"
expect_eq "nothing taken by the interrupted ones" "$(cat "$A/$C/peek")" "$(peek0 3 false 5 5)"
check "the interrupts left no error on the owner" sh -c "! grep -qi interrupt '$A/$C/error'"
C0=zero; mkdir "$A/$C0"; wr "$A/$C0/ctl" "mkchan 0"
timeout -s INT 0.5 bash -c "echo torn > '$A/$C0/send'" 2>/dev/null
expect_eq "a remote rendezvous send blocks until interrupted" "$?" 124
timeout 10 bash -c "echo whole > '$A/$C0/send'" & s=$!
expect_eq "the receiver gets the next whole message" "$(timeout 5 cat "$B/$C0/recv")" "whole"
wait_pid 5 $s; expect_eq "its sender is done" "$?" 0
timeout 10 cat "$B/$C0/recv" >"$T_TMP/z.out" & r=$!
sleep 0.3
check "a remote rendezvous recv waits for a sender" kill -0 $r
check "the sender from the third mount meets it" wr "$S3_MNT/$X/$C0/send" "met"
wait_pid 5 $r; expect_eq "receiver done" "$?" 0
expect_eq "receiver got it" "$(cat "$T_TMP/z.out")" "met"

# Limits and close, with the owner's errors.
head -c 40000 /dev/zero > "$T_TMP/big"
expect_fail "a 40 KB buffered message from S1 is EFBIG" "File too large" \
	bash -c "cat '$T_TMP/big' > '$A/$C/send'"
check "S2's view of the error file says so" grep -q "holds at most 32768 bytes" "$B/$C/error"
check "close from S2" wr "$B/$C/ctl" "close"
expect_fail "a remote send on a closed channel is EPIPE" "Broken pipe" wr "$A/$C/send" "x"
expect_fail "a remote recv on a closed drained channel is EPIPE" "Broken pipe" timeout 5 cat "$B/$C/recv"
D=d; mkdir "$A/$D"; wr "$A/$D/ctl" "mkchan 1"
timeout 10 cat "$B/$D/recv" >/dev/null 2>"$T_TMP/d.err" & r=$!
sleep 0.3
check "close while a remote receiver waits" wr "$A/$D/ctl" "close"
wait_pid 5 $r; expect_eq "the waiting remote receiver fails" "$?" 1
check "with Broken pipe" grep -q "Broken pipe" "$T_TMP/d.err"

# The CLI, dialing S1 and S2, on S3's channel.
check "CLI mkchan" "$CIRCUIT" mkchan -d "$S1_URL" "/$X/cli" 1
check "CLI send via S1" bash -c "echo via-cli | '$CIRCUIT' send -d '$S1_URL' '/$X/cli'"
expect_eq "CLI recv via S2" "$("$CIRCUIT" recv -d "$S2_URL" "/$X/cli")" "via-cli"
expect_eq "the mount recv after a CLI send" "$(echo two | "$CIRCUIT" send -d "$S2_URL" "/$X/cli" && timeout 5 cat "$A/cli/recv")" "two"

# 100 MB through a rendezvous channel: S1 writes, S2 reads, S3 owns.
mkdir "$A/bulk"; wr "$A/bulk/ctl" "mkchan 0"
expect_bulk "100 MB cross-server transfer, sha256" "$A/bulk/send" "$B/bulk/recv"
rm -f "$T_TMP/big"
for v in S1 S2 S3; do check "$v healthy" server_healthy $v; done
finish
