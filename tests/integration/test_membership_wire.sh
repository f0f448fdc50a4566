# Membership on the wire (UDP on each server's port): a frozen (SIGSTOPped) owner is
# noticed although its TCP connections stay open.  Blocked remote operations on it fail
# with EHOSTDOWN, it leaves the other servers' root listings within 5 s, and it comes
# back as a live member once continued.  Bad datagrams are dropped and counted in peek.
source "$(dirname "$0")/cluster.sh"
source "$(dirname "$0")/lib_more.sh"
start_owner_chain || exit 1
timeout 20 cat "$A/ch/recv" >/dev/null 2>"$T_TMP/recv.err" & r1=$!
timeout 20 cat "$S2_MNT/$X/p/stdout" >/dev/null 2>"$T_TMP/stdout.err" & r2=$!
sleep 0.5
check "remote recv blocks" kill -0 $r1
check "remote stdout (from S2) blocks" kill -0 $r2
kill -STOP "$S3_PID"
# Operations started while it is frozen wait for an owner that does not answer.
timeout 20 ls "$A" >/dev/null 2>"$T_TMP/ls.err" & r3=$!
check "frozen S3 leaves S1's root within 5 s" wait_for 5 roots_are "$(ids_of S1 S2)" S1
check "frozen S3 leaves S2's root within 5 s" wait_for 5 roots_are "$(ids_of S1 S2)" S2
wait_pid 5 $r1; expect_eq "the remote recv fails" "$?" 1
wait_pid 5 $r2; expect_eq "the remote stdout fails" "$?" 1
wait_pid 5 $r3; expect_eq "ls of its anchors fails" "$?" 2
check "recv says Host is down" grep -q "Host is down" "$T_TMP/recv.err"
check "stdout says Host is down" grep -q "Host is down" "$T_TMP/stdout.err"
check "ls says Host is down" grep -q "Host is down" "$T_TMP/ls.err"
check "nothing left in D state" sh -c "! ps -eo stat= -o ppid= | grep -q '^D.* $$\$'"
expect_fail "a new op on frozen S3 fails" "" timeout 5 cat "$A/ch/peek"
kill -CONT "$S3_PID"
check "continued S3 is back in S1's root" wait_for 15 roots_are "$(ids_of S1 S2 S3)" S1
check "continued S3 is back in S2's root" wait_for 15 roots_are "$(ids_of S1 S2 S3)" S2
check "continued S3 lists everyone" wait_for 15 roots_are "$(ids_of S1 S2 S3)" S3
# A datagram that is not membership is dropped and counted; the server lives on.
port=${S1_URL##*:}; port=${port%%/*}
before=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Datagrams"]["dropped"])' "$S1_MNT/$S1_ID/peek")
python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for b in (b"", b"\x01", b"\x09garbage", b"\x01\x01" + b"\xff" * 2000): s.sendto(b, ("127.0.0.1", int(sys.argv[1])))' "$port"
sleep 0.5
after=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Datagrams"]["dropped"])' "$S1_MNT/$S1_ID/peek")
expect_eq "bad datagrams are counted in peek" "$((after - before))" 3
check "stk shows the membership state" grep -q "\"suspects\"" <("$CIRCUIT" stk -d "$S1_URL" "/$S1_ID" 2>&1)
kill "$child" 2>/dev/null
# Blind restart: the same command line (same address) after a kill -9.  The new
# server rejoins by itself; its earlier self is dead everywhere.
port4=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_server S4 -a "127.0.0.1:$port4" -j "$S1_URL"
check "S4 is listed" wait_for 10 roots_are "$(ids_of S1 S2 S3 S4)" S1
old4=$S4_ID
{ kill -KILL "$S4_PID"; wait "$S4_PID"; } 2>/dev/null
fusermount3 -u -z "$S4_MNT" 2>/dev/null	# the killed server's mount is stale
start_server S4 -a "127.0.0.1:$port4" -j "$S1_URL"
check "restarted S4 has a new identity" test "$old4" != "$S4_ID"
for v in S1 S2 S3 S4; do
	check "$v lists the new S4, not the old" wait_for 10 roots_are "$(ids_of S1 S2 S3 S4)" $v
done
for v in S1 S2 S3 S4; do check "$v healthy" server_healthy $v; done
finish
