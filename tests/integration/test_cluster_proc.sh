# Processes across servers: a process on S1 started from S2's mount, its stdio driven
# and read from S2 and S3, wait/peek/signal/scrub remotely, and through the CLI.
source "$(dirname "$0")/cluster.sh"
source "$(dirname "$0")/lib_more.sh"
start_cluster 3 star || exit 1
X=$S1_ID
A=$S2_MNT/$X		# the starter's view
B=$S3_MNT/$X		# a third server's view
stat_json() {
	printf '{"Cmd": %s, "Phase": "%s", "Pid": %s, "ExitCode": %s, "Signal": %s, "Exit": %s}' "$@"
}
mk() { mkdir -p "$1" && wr "$1/ctl" "mkproc $2"; }

# The seed example, ls /, started from S2 on S1.
check "mkproc ls / on S1 from S2" mk "$A/pippi" '{"Path":"/bin/ls","Args":["/"]}'
expect_eq "ctl says process" "$(cat "$A/pippi/ctl")" "/$X/pippi process"
expect_eq "process files" "$(ls "$A/pippi" | tr '\n' ' ')" "ctl error help peek stderr stdin stdout wait "
expect_eq "remote stdout is exactly ls /" "$(timeout 5 cat "$A/pippi/stdout")" "$(ls /)"
pid=$(jget "$S1_MNT/$X/pippi/peek" Pid)
LSCMD='{"Path": "/bin/ls", "Args": ["/"], "Env": null, "Dir": "", "Scrub": false}'
expect_eq "remote wait gives the exit stat" "$(timeout 5 cat "$B/pippi/wait")" \
	"$(stat_json "$LSCMD" exited "$pid" 0 null '"exit status 0"')"
expect_eq "remote stderr is empty" "$(timeout 5 cat "$B/pippi/stderr")" ""
check "remote scrub" wr "$B/pippi/ctl" "scrub"
expect_eq "scrub leaves the bare anchor" "$(ls "$A/pippi" | tr '\n' ' ')" "ctl error help "
check "remote rmdir" rmdir "$A/pippi"

# stdin from S2, stdout read on S3.
mk "$A/cat" '{"Path":"/bin/cat"}'
check "remote stdin write" wr "$A/cat/stdin" "hello cat"
expect_eq "stdout on a third server echoes it" "$(timeout 5 cat "$B/cat/stdout")" "hello cat"
expect_eq "exit 0 once stdin closed" "$(jget "$B/cat/wait" ExitCode)" "0"

# Output streams while the process runs; wait blocks; signal from afar.
mk "$A/chatty" '{"Path":"/bin/sh","Args":["-c","echo first; sleep 100"]}'
expect_eq "the first line arrives while it runs" "$(timeout 5 sed -n '1{p;q}' "$B/chatty/stdout")" "first"
timeout 10 cat "$A/chatty/wait" >"$T_TMP/w.out" & w=$!
sleep 0.3
check "a remote wait blocks while it runs" kill -0 $w
check "signal KILL from S3" wr "$B/chatty/ctl" "signal KILL"
wait_pid 5 $w; expect_eq "the remote wait returns" "$?" 0
expect_eq "with Signal KILL" "$(jget "$T_TMP/w.out" Signal)" "KILL"
expect_fail "a bad signal is EINVAL remotely" "Invalid argument" wr "$A/chatty/ctl" "signal NOPE"
expect_fail "bad Cmd JSON is EINVAL remotely" "Invalid argument" mk "$A/bad" '{"Args":[]}'

# A lot of output, exit status, stderr.
mk "$A/seq" '{"Path":"/bin/sh","Args":["-c","seq 1 300000; echo oops >&2; exit 3"]}'
expect_eq "300000 lines cross intact" "$(timeout 20 cat "$B/seq/stdout" | sha256sum)" "$(seq 1 300000 | sha256sum)"
expect_eq "remote stderr" "$(timeout 5 cat "$A/seq/stderr")" "oops"
expect_eq "remote ExitCode 3" "$(jget "$A/seq/wait" ExitCode)" "3"
expect_eq "remote peek Phase" "$(jget "$B/seq/peek" Phase)" "exited"

# The CLI on the same process, dialing S3.
check "CLI mkproc via S3" bash -c "echo '{\"Path\":\"/bin/cat\"}' | '$CIRCUIT' mkproc -d '$S3_URL' '/$X/clicat'"
check "CLI stdin via S2" bash -c "echo through-cli | '$CIRCUIT' stdin -d '$S2_URL' '/$X/clicat'"
expect_eq "CLI stdout via S3" "$(timeout 5 "$CIRCUIT" stdout -d "$S3_URL" "/$X/clicat")" "through-cli"
expect_eq "the mount agrees it exited" "$(jget "$A/clicat/wait" ExitCode)" "0"
for v in S1 S2 S3; do check "$v healthy" server_healthy $v; done
finish
