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

# --- Scrub: true removes the element at exit ---
P=$M/$X/once
# (it waits for a line on stdin, not for a time: a loaded machine may take seconds)
mk "$P" '{"Path":"/bin/sh","Args":["-c","read x; echo bye"],"Scrub":true}'
expect_eq "Scrub:true shows in the Cmd" "$(json_field "$P/peek" Cmd)" '{"Path": "/bin/sh", "Args": ["-c", "read x; echo bye"], "Env": null, "Dir": "", "Scrub": true}'
cat "$P/stdout" > "$T_TMP/once.out" & c=$!
wait_for 10 sh -c "ls -l /proc/$c/fd 2>/dev/null | grep -q once/stdout"
wr "$P/stdin" go
wait_pid 10 $c
expect_eq "its output" "$(cat "$T_TMP/once.out")" "bye"
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
# a Dir in the mount is checked by the child (the server must not touch its own mount
# before exec): mkproc succeeds, the trampoline's cd fails, exit status 2, on stderr
P=$M/$X/baddir
check "mkproc with a missing Dir inside the mount" mk "$P" "{\"Path\":\"/bin/true\",\"Dir\":\"$M/$X/nothere\"}"
expect_eq "it exits 2" "$(timeout 5 cat "$P/wait" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["Phase"], j["ExitCode"])')" "exited 2"
check "stderr tells the cd failure" timeout 5 grep -q "can't cd to $M/$X/nothere" "$P/stderr"
rmdir "$P"
check "server healthy after a failed Dir in the mount" server_healthy A

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
finish
