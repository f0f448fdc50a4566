# A frozen peer (SIGSTOPped: "host hung, sockets still open") stalls nothing that need
# not wait on it (issue 8).  The root and its server directories are answered from
# the local member table, never forwarded; lookups in one directory run in parallel
# (FUSE_CAP_PARALLEL_DIROPS), so a lookup waiting on the frozen server does not hold
# the others.  The frozen server is started with start_stoppable (setsid), so no
# SIGHUP of the shell reaches it, and is always continued and killed on exit.
source "$(dirname "$0")/lib.sh"
start_server S1
start_stoppable S2 -j "$S1_URL"
# Callers left waiting on the frozen server: their PIDs, one a line, killed on exit.
trap 'for p in $(cat "$T_TMP/waiters" 2>/dev/null); do kill "$p" 2>/dev/null; done; t_cleanup' EXIT
M=$S1_MNT
check "the cluster has both servers" wait_for 10 test -e "$M/$S2_ID/peek"
mkdir "$M/$S1_ID/c" && echo 'mkchan 3' > "$M/$S1_ID/c/ctl"

kill -STOP "$S2_PID"
sleep 1.5	# past the kernel's entry timeout: the next lookups reach the server
# Operations that must wait on the frozen server, left waiting in the background.
timeout 60 ls "$M/$S2_ID/" >/dev/null 2>&1 & echo $! >>"$T_TMP/waiters"
timeout 60 stat "$M/$S2_ID/nosuch" >/dev/null 2>&1 & echo $! >>"$T_TMP/waiters"
sleep 0.5

# answers CMD...: CMD ends (success or failure) within a generous bound.  It runs in
# the background: a caller stuck in the kernel survives even SIGKILL until SIGCONT.
N=0
answers() { output "$@" >/dev/null; }
# output CMD...: what CMD printed, if it ended within the bound.
output() {
	N=$((N + 1))
	local f=$T_TMP/answered.$N
	("$@" >"$f.out" 2>/dev/null; touch "$f") >/dev/null 2>&1 &
	echo $! >>"$T_TMP/waiters"
	wait_for 20 test -e "$f" && cat "$f.out"
}
check "a lookup of the frozen server's directory answers" answers stat "$M/$S2_ID"
check "ls of the root answers" answers ls "$M"
expect_eq "and lists both servers" "$(output ls "$M" | grep -c '^X')" 2
check "ls -l of the root answers" answers ls -l "$M"
check "a lookup in the frozen directory beside a waiting one answers" \
	answers stat "$M/$S2_ID/peek"
expect_eq "the local anchors answer" "$(output cat "$M/$S1_ID/c/ctl")" "/$S1_ID/c channel"
check "a local send answers" answers sh -c "echo hello > '$M/$S1_ID/c/send'"
expect_eq "the local channel moves a message" "$(output cat "$M/$S1_ID/c/recv")" hello
check "mkdir of a local anchor answers" answers mkdir "$M/$S1_ID/d"
check "the local server's peek answers" answers cat "$M/$S1_ID/peek"

kill -CONT "$S2_PID"
check "after SIGCONT the frozen server's directory lists again" \
	wait_for 20 test -e "$M/$S2_ID/ctl"
finish
