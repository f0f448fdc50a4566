# Process elements through the mount: every process example of the seed README, stdio
# streaming, wait/peek JSON, signals, scrub, Scrub:true, Env, Dir (also inside the mount).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_more.sh"
start_target A
M=$A_MNT; X=$A_ID
# stat JSON as the server prints it: stat PATH-JSON-CMD PHASE PID EXITCODE SIGNAL EXIT
stat_json() {
	printf '{"Cmd": %s, "Phase": "%s", "Pid": %s, "ExitCode": %s, "Signal": %s, "Exit": %s}' "$@"
}
first_line() { timeout 5 sed -n '1{p;q}' "$1"; }
pid_of() { json_field "$1/peek" Pid; }
mk() {	# mk ANCHOR CMD-JSON: fresh anchor with a process
	mkdir -p "$1" && wr "$1/ctl" "mkproc $2"
}

# --- the seed example: ls / ---
P=$M/$X/pippi
check "mkproc ls /" mk "$P" '{"Path":"/bin/ls","Args":["/"]}'
expect_eq "ctl says process" "$(cat "$P/ctl")" "/$X/pippi process"
expect_eq "process files" "$(ls "$P" | tr '\n' ' ')" "ctl error help peek stderr stdin stdout wait "
expect_eq "stdout is exactly ls /" "$(timeout 5 cat "$P/stdout")" "$(ls /)"
pid=$(pid_of "$P")
LSCMD='{"Path": "/bin/ls", "Args": ["/"], "Env": null, "Dir": "", "Scrub": false}'
expect_eq "wait gives the exit stat" "$(timeout 5 cat "$P/wait")" \
	"$(stat_json "$LSCMD" exited "$pid" 0 null '"exit status 0"')"
expect_eq "peek after exit is the same" "$(cat "$P/peek")" \
	"$(stat_json "$LSCMD" exited "$pid" 0 null '"exit status 0"')"
expect_eq "stderr is empty, EOF" "$(timeout 5 cat "$P/stderr")" ""
expect_eq "stdout read again after EOF is empty" "$(timeout 5 cat "$P/stdout")" ""
check "scrub of an exited process" wr "$P/ctl" "scrub"
expect_eq "scrub leaves the bare anchor" "$(ls "$P" | tr '\n' ' ')" "ctl error help "
check "rmdir" rmdir "$P"

# --- stdin -> /bin/cat -> stdout ---
P=$M/$X/cat
mk "$P" '{"Path":"/bin/cat"}'
pid=$(pid_of "$P")
expect_eq "peek while running" "$(cat "$P/peek")" \
	"$(stat_json '{"Path": "/bin/cat", "Args": [], "Env": null, "Dir": "", "Scrub": false}' running "$pid" null null null)"
check "Pid is the real process" grep -q '^/bin/cat' <(tr '\0' ' ' </proc/"$pid"/cmdline)
check "write stdin" wr "$P/stdin" "hello cat"
expect_eq "stdout echoes stdin, EOF after the stdin close" "$(timeout 5 cat "$P/stdout")" "hello cat"
expect_eq "cat exited 0 once stdin closed" "$(json_field "$P/wait" ExitCode)" "0"
rmdir "$P"

# --- output readable while the process still runs, stdin left open ---
P=$M/$X/live
mk "$P" '{"Path":"/bin/cat"}'
exec 7>"$P/stdin"
echo "line one" >&7
expect_eq "first line readable with stdin still open" "$(first_line "$P/stdout")" "line one"
echo "line two" >&7
expect_eq "second line too" "$(first_line "$P/stdout")" "line two"
expect_eq "still running" "$(json_field "$P/peek" Phase)" '"running"'
exec 7>&-
expect_eq "closing stdin ends it" "$(timeout 5 cat "$P/wait" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Exit"])')" "exit status 0"
rmdir "$P"
P=$M/$X/chatty
mk "$P" '{"Path":"/bin/sh","Args":["-c","echo first; sleep 100"]}'
t0=$(now_ms)
expect_eq "output of a running process, stdin never touched" "$(first_line "$P/stdout")" "first"
expect_in "and it came at once" 0 2000 $(( $(now_ms) - t0 ))
timeout 10 cat "$P/wait" >"$T_TMP/chatty.wait" & w=$!

# --- signals ---
check "signal TERM" wr "$P/ctl" "signal TERM"
wait_pid 5 $w; expect_eq "wait returns after the signal" "$?" 0
pid=$(pid_of "$P")
expect_eq "signaled TERM stat" "$(cat "$T_TMP/chatty.wait")" \
	"$(stat_json '{"Path": "/bin/sh", "Args": ["-c", "echo first; sleep 100"], "Env": null, "Dir": "", "Scrub": false}' signaled "$pid" null '"TERM"' '"signal: terminated"')"
expect_fail "signal after exit is refused" "No such process" bash -c "echo signal KILL > '$P/ctl'"
rmdir "$P"
P=$M/$X/kill
mk "$P" '{"Path":"/bin/sleep","Args":["100"]}'
check "signal 9 (a number)" wr "$P/ctl" "signal 9"
expect_eq "signaled KILL" "$(timeout 5 cat "$P/wait" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["Phase"], j["Signal"], j["ExitCode"], j["Exit"])')" "signaled KILL None signal: killed"
rmdir "$P"
P=$M/$X/sigint
mk "$P" '{"Path":"/bin/sleep","Args":["100"]}'
check "signal SIGINT (with prefix)" wr "$P/ctl" "signal SIGINT"
expect_eq "signaled INT" "$(timeout 5 cat "$P/wait" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["Phase"], j["Signal"])')" "signaled INT"
rmdir "$P"

# --- exit codes and stderr ---
P=$M/$X/codes
mk "$P" '{"Path":"/bin/sh","Args":["-c","echo out; echo err >&2; exit 7"]}'
expect_eq "stderr stream" "$(timeout 5 cat "$P/stderr")" "err"
expect_eq "stdout stream" "$(timeout 5 cat "$P/stdout")" "out"
expect_eq "exit 7" "$(timeout 5 cat "$P/wait" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["Phase"], j["ExitCode"], j["Signal"], j["Exit"])')" "exited 7 None exit status 7"
rmdir "$P"
P=$M/$X/false
mk "$P" '{"Path":"/bin/false"}'
expect_eq "/bin/false exits 1" "$(timeout 5 cat "$P/wait" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["ExitCode"], j["Exit"])')" "1 exit status 1"
rmdir "$P"

# --- scrub kills a running process and reaps it ---
P=$M/$X/victim
mk "$P" '{"Path":"/bin/sleep","Args":["100"]}'
pid=$(pid_of "$P")
check "the sleeper runs" kill -0 "$pid"
timeout 10 cat "$P/wait" >"$T_TMP/victim.wait" & w=$!
sleep 0.3
check "scrub a running process" wr "$P/ctl" "scrub"
check "its pid is gone (killed and reaped)" wait_for 5 sh -c "! test -e /proc/$pid"
wait_pid 5 $w; expect_eq "a waiting wait returns at scrub" "$?" 0
expect_eq "with the killed stat" "$(json_field "$T_TMP/victim.wait" Signal)" '"KILL"'
expect_eq "the anchor is bare" "$(ls "$P" | tr '\n' ' ')" "ctl error help "
rmdir "$P"
P=$M/$X/victim2
mk "$P" '{"Path":"/bin/sleep","Args":["100"]}'
pid=$(pid_of "$P")
check "rmdir of a running process" rmdir "$P"
check "rmdir killed and reaped it" wait_for 5 sh -c "! test -e /proc/$pid"

# --- a child inherits none of the server's fds (the log of -var, sockets, FUSE...) ---
P=$M/$X/fds
mk "$P" '{"Path":"/bin/ls","Args":["/proc/self/fd"]}'
expect_eq "the child has fds 0 1 2 (and 3, ls's own directory)" "$(timeout 5 cat "$P/stdout" | tr '\n' ' ')" "0 1 2 3 "
rmdir "$P"

# --- scrub, rmdir and shutdown kill the whole process group ---
# dead PID: no such process, or a zombie waiting for whoever reaps orphans here
dead() { ! test -e /proc/"$1" || grep -q '^State:[[:space:]]*Z' /proc/"$1"/status 2>/dev/null; }
# child_of PID: the first child of PID (bounded wait until it has one)
child_of() {
	local c=""
	for _ in $(seq 100); do
		c=$(cat /proc/"$1"/task/*/children 2>/dev/null | awk '{print $1}')
		[ -n "$c" ] && break; sleep 0.05
	done
	echo "$c"
}
GRAND='{"Path":"/bin/sh","Args":["-c","trap \"\" TERM; sleep 1000"]}'
P=$M/$X/grand
mk "$P" "$GRAND"
pid=$(pid_of "$P"); gpid=$(child_of "$pid")
check "the grandchild sleep runs" grep -q '^sleep' /proc/"$gpid"/comm
expect_eq "the process leads its own group" "$(ps -o pgid= -p "$gpid" | tr -d ' ')" "$pid"
check "scrub" wr "$P/ctl" "scrub"
check "scrub killed the TERM-ignoring grandchild" wait_for 5 dead "$gpid"
check "and the child" wait_for 5 dead "$pid"
rmdir "$P"
P=$M/$X/grand2
mk "$P" "$GRAND"
pid=$(pid_of "$P"); gpid=$(child_of "$pid")
check "rmdir of a process with a grandchild" rmdir "$P"
check "rmdir killed the grandchild" wait_for 5 dead "$gpid"
P=$M/$X/orphan
mk "$P" '{"Path":"/bin/sh","Args":["-c","sleep 1000 & echo $!"]}'
gpid=$(first_line "$P/stdout")
expect_eq "the child exited, its background sleep lives on" "$(json_field "$P/wait" ExitCode)" "0"
check "the sleep runs" grep -q '^sleep' /proc/"$gpid"/comm
check "scrub after the child exited" wr "$P/ctl" "scrub"
check "killed the group it left behind" wait_for 5 dead "$gpid"
rmdir "$P"

# --- Scrub: true removes the element at exit ---
P=$M/$X/once
# (it waits for a line on stdin, not for a time: a loaded machine may take seconds)
mk "$P" '{"Path":"/bin/sh","Args":["-c","read x; echo bye $x"],"Scrub":true}'
expect_eq "Scrub:true shows in the Cmd" "$(json_field "$P/peek" Cmd)" '{"Path": "/bin/sh", "Args": ["-c", "read x; echo bye $x"], "Env": null, "Dir": "", "Scrub": true}'
exec 8<"$P/stdout"
check "let it finish" wr "$P/stdin" "now"
expect_eq "its output, read from an open made before the scrub" "$(timeout 10 cat <&8)" "bye now"
exec 8<&-
check "the element goes away at exit" wait_for 5 sh -c "test \"\$(ls '$P' | tr '\n' ' ')\" = 'ctl error help '"
check "the anchor stays" test -d "$P"
rmdir "$P"

# --- Env and Dir ---
P=$M/$X/env
mk "$P" '{"Path":"/usr/bin/env","Env":["A=1","B=two words"]}'
expect_eq "Env is exactly the environment" "$(timeout 5 cat "$P/stdout")" "A=1
B=two words"
rmdir "$P"
P=$M/$X/envdef
export CIRCUIT_TEST_MARK=inherited
mk "$P" '{"Path":"/usr/bin/env"}'
expect_eq "without Env: the server's environment" "$(timeout 5 cat "$P/stdout" | grep -c '^PATH=')" "1"
rmdir "$P"
P=$M/$X/dir
mk "$P" '{"Path":"/bin/pwd","Dir":"/tmp"}'
expect_eq "Dir /tmp" "$(timeout 5 cat "$P/stdout")" "/tmp"
rmdir "$P"
# Dir inside the mount: the process works there with relative paths
BOX=$M/$X/box
mkdir -p "$BOX"; wr "$BOX/ctl" "mkchan 1"
P=$M/$X/inside
check "mkproc with Dir inside the mount" mk "$P" "{\"Path\":\"/bin/sh\",\"Args\":[\"-c\",\"pwd; cat ctl; echo from-inside > send; cat peek\"],\"Dir\":\"$BOX\"}"
expect_eq "server answers while the child starts in the mount" "$(timeout 3 cat "$M/$X/peek" >/dev/null && echo alive)" "alive"
expect_eq "the child ran in that anchor" "$(timeout 5 cat "$P/stdout")" "$BOX
/$X/box channel
{\"Cap\": 1, \"Closed\": false, \"Aborted\": false, \"NumSend\": 1, \"NumRecv\": 0, \"NumAborted\": 0}"
expect_eq "it exited 0" "$(timeout 5 cat "$P/wait" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ExitCode"])')" "0"
expect_eq "its message is in the channel" "$(timeout 5 cat "$BOX/recv")" "from-inside"
rmdir "$P"
P=$M/$X/inside2
mk "$P" "{\"Path\":\"/bin/ls\",\"Dir\":\"$M/$X\"}"
expect_eq "Dir = the server anchor, ls lists it" "$(timeout 5 cat "$P/stdout" | tr '\n' ' ')" "box ctl error help inside2 log peek "
rmdir "$P"
# a Dir in the mount is checked by the exec helper, after uv_spawn has returned: the
# server answers the helper's lookup, and mkproc fails with the errno of the chdir
P=$M/$X/baddir; mkdir "$P"
expect_fail "mkproc with a missing Dir inside the mount" "No such file" wr "$P/ctl" "mkproc {\"Path\":\"/bin/true\",\"Dir\":\"$M/$X/nothere\"}"
expect_err_line "the error names the Dir" "$P" "Dir $M/$X/nothere"
expect_eq "no element was made" "$(cat "$P/ctl")" "/$X/baddir empty"
rmdir "$P"
check "server healthy after a failed Dir in the mount" server_healthy A

# --- no Cmd can stall the server: paths that lead into the mount in ways no string
# test sees.  Each mkproc answers, the program runs, and the server answers meanwhile.
# (Before the exec helper, each of these hung the whole server inside uv_spawn.)
alive() { timeout 5 cat "$M/$X/peek" >/dev/null && echo alive; }
# no_stall NAME CMD...: CMD must end within 20 s.  If not, the server is stuck (and so
# is CMD, uninterruptibly, in its mount): kill the server and its children (the
# stuck pre-exec child holds the FUSE device too), which frees it, and stop.
no_stall() {
	local name=$1 pid; shift
	"$@" & pid=$!
	for _ in $(seq 400); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	if kill -0 "$pid" 2>/dev/null; then
		not_ok "$name" "the server stalled"
		kill -KILL $(cat /proc/"$A_PID"/task/*/children) "$A_PID"; wait "$pid"; finish; exit 1
	fi
	if wait "$pid"; then ok "$name"; else not_ok "$name" "command failed: $*"; fi
}
P=$M/$X/viapath
no_stall "relative Path, Env PATH inside the mount" mk "$P" "{\"Path\":\"true\",\"Env\":[\"PATH=$BOX:$M/$X/nothere:/bin\"]}"
expect_eq "the server answers" "$(alive)" "alive"
expect_eq "it found /bin/true past the mount" "$(timeout 5 cat "$P/wait" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["Phase"], j["ExitCode"])')" "exited 0"
rmdir "$P"; mkdir "$P"
expect_fail "a program found nowhere on a PATH in the mount" "No such file" wr "$P/ctl" "mkproc {\"Path\":\"no-such-prog\",\"Env\":[\"PATH=$BOX\"]}"
expect_err_line "the error names the program" "$P" "no-such-prog"
rmdir "$P"
# Anchors the kernel has never looked up (made through the CLI), so that the paths
# below cannot be resolved from its cache: it must ask the server.
for h in hop1 hop2 hop3; do "$CIRCUIT" mkchan -d "$A_URL" "/$X/$h" 1; done
P=$M/$X/viadots
no_stall "a Path through the mount by .." mk "$P" "{\"Path\":\"$(dirname "$M")/../$(basename "$(dirname "$M")")/mnt/$X/hop1/../../../../../../../../../../../../bin/echo\",\"Args\":[\"dots\"]}"
expect_eq "the server answers" "$(alive)" "alive"
expect_eq "it ran" "$(timeout 5 cat "$P/stdout")" "dots"
rmdir "$P"
ln -s "$M/$X/hop2" "$T_TMP/into2"
P=$M/$X/vialink
no_stall "a Path through a symlink into the mount" mk "$P" "{\"Path\":\"$T_TMP/into2/../../../../../../../../../../../../bin/echo\",\"Args\":[\"link\"]}"
expect_eq "the server answers" "$(alive)" "alive"
expect_eq "it ran" "$(timeout 5 cat "$P/stdout")" "link"
rmdir "$P"
ln -s "$M/$X/hop3" "$T_TMP/into3"
P=$M/$X/vialinkdir
no_stall "a Dir that is a symlink into the mount" mk "$P" "{\"Path\":\"/bin/cat\",\"Args\":[\"ctl\"],\"Dir\":\"$T_TMP/into3\"}"
expect_eq "it ran in that anchor" "$(timeout 5 cat "$P/stdout")" "/$X/hop3 channel"
rmdir "$P"
check "server healthy after the paths through the mount" server_healthy A

# --- an interrupted stdin write answers the bytes the pipe took: never sent twice ---
# The child reads nothing until the gate file exists, so writes block; a timer
# interrupts them every 20 ms and opens the gate at the 10th.  (Through another
# server, writes are written behind and need not block: only the bytes are checked.)  The writer loops on
# short counts as every writer does (Python retries a write that failed with EINTR).
head -c 1500000 /dev/urandom >"$T_TMP/intr.in"
P=$M/$X/intr
printf 'for i in $(seq 600); do [ -e %s ] && break; sleep 0.05; done; exec cat\n' "$T_TMP/gate" >"$T_TMP/gated.sh"
mk "$P" "{\"Path\":\"/bin/sh\",\"Args\":[\"$T_TMP/gated.sh\"]}"
timeout 30 cat "$P/stdout" >"$T_TMP/intr.out" & r=$!
hits=$(timeout 30 python3 -c '
import os, signal, sys
hits = 0
def gate():
    if not os.path.exists(sys.argv[3]):
        open(sys.argv[3], "w").close()
def on_alarm(sig, frame):
    global hits
    hits += 1
    if hits == 10:
        gate()
signal.signal(signal.SIGALRM, on_alarm)
data = open(sys.argv[2], "rb").read()
fd = os.open(sys.argv[1], os.O_WRONLY)
signal.setitimer(signal.ITIMER_REAL, 0.02, 0.02)
off = 0
while off < len(data):
    off += os.write(fd, data[off:off + 262144])
signal.setitimer(signal.ITIMER_REAL, 0, 0)
gate()	# (a remote stdin writes behind: its writes may never block)
os.close(fd)
print(hits)' "$P/stdin" "$T_TMP/intr.in" "$T_TMP/gate")
if [ -z "${A_OWNMNT:-}" ]; then
	expect_in "the writer was interrupted 10+ times while blocked" 10 100000 "${hits:-0}"
fi
wait_pid 30 $r
check "the child got every byte exactly once" cmp "$T_TMP/intr.in" "$T_TMP/intr.out"
rmdir "$P"

# --- back-pressure: big output waits in the process, nothing dropped ---
head -c 2000000 /dev/urandom >"$T_TMP/2m"
P=$M/$X/bulk
mk "$P" "{\"Path\":\"/bin/cat\",\"Args\":[\"$T_TMP/2m\"]}"
sleep 1
expect_eq "a writer past the buffer blocks (still running)" "$(json_field "$P/peek" Phase)" '"running"'
timeout 20 cat "$P/stdout" >"$T_TMP/2m.got"
check "2 MB of output intact" cmp -s "$T_TMP/2m" "$T_TMP/2m.got"
expect_eq "then it exits 0" "$(timeout 5 cat "$P/wait" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ExitCode"])')" "0"
rmdir "$P"
# wait does not need stdout read nor stdin closed
P=$M/$X/noread
mk "$P" "{\"Path\":\"/bin/sh\",\"Args\":[\"-c\",\"head -c 100000 /dev/zero; exit 3\"]}"
expect_eq "wait with unread output and open stdin" "$(timeout 5 cat "$P/wait" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ExitCode"])')" "3"
expect_eq "the output is still all there" "$(timeout 5 cat "$P/stdout" | wc -c)" "100000"
rmdir "$P"

check "server still healthy" server_healthy A

# --- at the fd limit mkproc fails with EMFILE, the errno the log names, not EIO ---
if [ -z "${A_OWNMNT:-}" ]; then	# (the owner is another server in the cross run)
	P=$M/$X/fdlimit; mkdir "$P"
	n=$(ls /proc/"$A_PID"/fd | wc -l)
	soft=$(prlimit --pid "$A_PID" --nofile --raw --noheadings -o SOFT)
	hard=$(prlimit --pid "$A_PID" --nofile --raw --noheadings -o HARD)
	prlimit --pid "$A_PID" --nofile=$((n + 2)):"$hard"
	expect_fail "mkproc at the fd limit" "Too many open files" wr "$P/ctl" 'mkproc {"Path":"/bin/true"}'
	prlimit --pid "$A_PID" --nofile="$soft":"$hard"
	check "the log names EMFILE" grep -q "/$X/fdlimit mkproc error EMFILE" "$M/$X/log"
	check "with the limit back, mkproc works" wr "$P/ctl" 'mkproc {"Path":"/bin/true"}'
	rmdir "$P"
fi

# --- shutdown kills every process group and reaps the children ---
start_server S
mkdir "$S_MNT/$S_ID/g"; wr "$S_MNT/$S_ID/g/ctl" "mkproc $GRAND"
pid=$(json_field "$S_MNT/$S_ID/g/peek" Pid); gpid=$(child_of "$pid")
check "a grandchild runs under server S" grep -q '^sleep' /proc/"$gpid"/comm
check "S stops on SIGTERM" stop_server S
check "its grandchild is gone" wait_for 5 dead "$gpid"
check "its child is gone" wait_for 5 dead "$pid"
check "S reaped them in time" sh -c "! grep -q 'not reaped' '$S_ERR'"

# Every process starts through the exec helper beside circuit: a server without it
# refuses to start, and says which file it looked for.
mkdir "$T_TMP/nohelper" && cp "$CIRCUIT" "$T_TMP/nohelper/circuit"
expect_fail "no exec helper beside circuit: start refuses, naming it" \
	"circuit start: exec helper $T_TMP/nohelper/circuit-exec: No such file or directory" \
	timeout 20 "$T_TMP/nohelper/circuit" start -a 127.0.0.1:0
finish
