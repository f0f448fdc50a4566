# A server killed with SIGKILL: remote operations blocked on it fail with EHOSTDOWN
# ("Host is down") within 5 s, later ones too, and it leaves every root listing.
source "$(dirname "$0")/cluster.sh"
source "$(dirname "$0")/lib_more.sh"
start_owner_chain || exit 1
mkdir "$A/w" && wr "$A/w/ctl" "mkchan 1"
exec 8>"$A/w/send"		# an open remote stream, idle
timeout 20 cat "$A/ch/recv" >/dev/null 2>"$T_TMP/recv.err" & r1=$!
timeout 20 cat "$A/p/stdout" >/dev/null 2>"$T_TMP/stdout.err" & r2=$!
timeout 20 cat "$S2_MNT/$X/p/wait" >/dev/null 2>"$T_TMP/wait.err" & r3=$!
sleep 0.5
check "remote recv blocks" kill -0 $r1
check "remote stdout blocks" kill -0 $r2
check "remote wait (from S2) blocks" kill -0 $r3
t0=$(now_ms)
{ kill -KILL "$S3_PID"; wait "$S3_PID"; } 2>/dev/null
wait_pid 5 $r1; expect_eq "the remote recv fails" "$?" 1
wait_pid 5 $r2; expect_eq "the remote stdout fails" "$?" 1
wait_pid 5 $r3; expect_eq "the remote wait fails" "$?" 1
expect_in "all within 5 s (ms)" 0 5000 $(($(now_ms) - t0))
check "recv says Host is down" grep -q "Host is down" "$T_TMP/recv.err"
check "stdout says Host is down" grep -q "Host is down" "$T_TMP/stdout.err"
check "wait says Host is down" grep -q "Host is down" "$T_TMP/wait.err"
expect_fail "a write on a stream opened before is EHOSTDOWN" "Host is down" \
	bash -c "echo x >&8"
exec 8>&-
check "S3 leaves S1's root" wait_for 5 roots_are "$(ids_of S1 S2)" S1
check "S3 leaves S2's root" wait_for 5 roots_are "$(ids_of S1 S2)" S2
expect_fail "a new op on S3 fails" "" timeout 5 cat "$A/ch/peek"
kill "$child" 2>/dev/null
check "S1 -> S2 still works" mkdir "$S1_MNT/$S2_ID/alive"
for v in S1 S2; do check "$v healthy" server_healthy $v; done
finish
