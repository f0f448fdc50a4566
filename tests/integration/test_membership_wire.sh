# Membership on the wire (UDP on each server's port): a frozen (SIGSTOPped) owner is
# noticed although its TCP connections stay open.  Blocked remote operations on it fail
# with EHOSTDOWN, it leaves the other servers' root listings within 5 s, and it comes
# back as a live member once continued.  Bad datagrams are dropped and counted in peek.
source "$(dirname "$0")/cluster.sh"
source "$(dirname "$0")/lib_more.sh"
start_cluster 3 chain || exit 1
X=$S3_ID
A=$S1_MNT/$X
mkdir "$A/ch" && wr "$A/ch/ctl" "mkchan 0"
timeout 20 cat "$A/ch/recv" >/dev/null 2>"$T_TMP/recv.err" & r1=$!
timeout 20 ls "$S2_MNT/$X/ch" >/dev/null 2>"$T_TMP/ls.err" &
sleep 0.5
check "remote recv blocks" kill -0 $r1
kill -STOP "$S3_PID"
check "frozen S3 leaves S1's root within 5 s" wait_for 5 roots_are "$(ids_of S1 S2)" S1
check "frozen S3 leaves S2's root within 5 s" wait_for 5 roots_are "$(ids_of S1 S2)" S2
wait_pid 5 $r1; expect_eq "the remote recv fails" "$?" 1
check "recv says Host is down" grep -q "Host is down" "$T_TMP/recv.err"
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
for v in S1 S2 S3; do check "$v healthy" server_healthy $v; done
finish
