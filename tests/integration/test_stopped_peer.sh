# A stopped peer (SIGSTOP: the host hangs, its sockets stay open) holds nobody: a reader
# of its channel through another server's mount that is interrupted or killed returns
# promptly, whether it waits in open or in its first read; the cancel reaches the owner
# once it runs again; the CLI gives up on a server that does not answer with a clear
# message (issue 8).
source "$(dirname "$0")/cluster.sh"
source "$(dirname "$0")/lib_more.sh"
IR=$(tool intr_read)

# B runs in a session of its own (start_stoppable), so no signal meant for the test's
# shell reaches it; it is always continued before the clean-up kills it.
start_server A
start_stoppable B -j "$A_URL"
wait_for 10 roots_are "$(ids_of A B)" A B || { echo "no cluster" >&2; exit 1; }
C=$A_MNT/$B_ID/ch
mkdir "$C" && wr "$C/ctl" "mkchan 0"
H=$A_MNT/$B_ID/held
mkdir "$H" && wr "$H/ctl" "mkchan 0"
stopped=0
stop_b() { kill -STOP "$B_PID"; stopped=1; }
cont_b() { kill -CONT "$B_PID"; stopped=0; }
# not_d PID: the process is gone, or at least not in uninterruptible sleep.
not_d() { [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != D ]; }
# gone SECS PID: a bounded wait for a child to exit; its status, or 124 if it is still
# there (then it is not waited for: a process in D state would hold `wait` forever).
gone() {
	local n=$(($1 * 20))
	for _ in $(seq "$n"); do
		kill -0 "$2" 2>/dev/null || { wait "$2" 2>/dev/null; return $?; }
		sleep 0.05
	done
	return 124
}

# --- one short stop of B (the membership would drop it after a few seconds) ---
# A sender holds a message of H open and writes nothing, so H's receiver waits in its
# first read; C's receivers wait in open.  Interrupts (SIGALRM: a Ctrl-C stand-in with
# a handler) and a SIGKILL come while B is stopped.
timeout 60 python3 -c '
import os, sys, time
open(sys.argv[2], "w").write("ready")
fd = os.open(sys.argv[1], os.O_WRONLY); time.sleep(4); os.write(fd, b"late\n"); os.close(fd)' "$H/send" "$T_TMP/py.ready" & s=$!
wait_for 30 test -s "$T_TMP/py.ready"	# python may take seconds to start
sleep 0.5
"$IR" "$H/recv" 2000 >/dev/null 2>"$T_TMP/read.err" & r3=$!
"$IR" "$C/recv" 2000 >/dev/null 2>"$T_TMP/open.err" & r1=$!
cat "$C/recv" >/dev/null 2>&1 & r2=$!
sleep 1
stop_b
gone 10 $r1; rc1=$?
gone 10 $r3; rc3=$?
kill -KILL $r2
gone 10 $r2; rc2=$?
check "no reader left in D state" not_d $r2
cont_b
expect_eq "interrupted open of a stopped owner's recv returns EINTR" "$rc1:$(cat "$T_TMP/open.err")" "4:EINTR open"
expect_eq "a killed reader in open dies promptly" "$rc2" 137
expect_eq "interrupted first read of a stopped owner returns EINTR" "$rc3:$(cat "$T_TMP/read.err")" "5:EINTR read after 0"

# --- the owner runs again: the cancels reached it, nothing was taken ---
expect_eq "the interrupted reader gave the held message back" "$(timeout 10 cat "$H/recv")" "late"
wait_pid 20 $s; expect_eq "the held sender finished" "$?" 0
timeout 10 bash -c "echo again > '$C/send'" & s=$!
expect_eq "the owner's channel still pairs senders and receivers" "$(timeout 10 cat "$C/recv")" "again"
wait_pid 10 $s; expect_eq "its sender done" "$?" 0
expect_eq "the interrupted receivers were not counted" "$(cat "$C/peek")" \
	'{"Cap": 0, "Closed": false, "Aborted": false, "NumSend": 1, "NumRecv": 1, "NumAborted": 0}'

# --- the CLI dialed straight to the server that stops: mid-call, and at dial (last:
# B stays stopped long enough for the others to drop it) ---
"$CIRCUIT" recv -d "$B_URL" "/$B_ID/ch" >/dev/null 2>"$T_TMP/cli.err" & r4=$!
sleep 1
stop_b
t0=$(now_ms)
gone 40 $r4; rc=$?
echo "# the CLI gave up after $(( $(now_ms) - t0 )) ms"
expect_eq "a CLI call waiting on a server that stops fails (ETIMEDOUT)" "$rc:$(cat "$T_TMP/cli.err")" \
	"1:circuit recv: $B_URL: the server does not answer (nothing from it for 10 s) (Connection timed out)"
expect_fail "and so does a CLI dial to it" "no answer to the key handshake within 10 s" \
	timeout 60 "$CIRCUIT" ls -d "$B_URL" /
cont_b

check "A healthy" server_healthy A
check "B healthy" server_healthy B
finish
