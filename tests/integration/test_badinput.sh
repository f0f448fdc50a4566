# Bad input of every kind through the mount: the exact errno, a one-line message in
# the anchor's `error` file, and the server healthy after each.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_more.sh"
start_target A
M=$A_MNT; X=$A_ID
B=$M/$X/bad; mkdir "$B"

# bad NAME ERRNO-TEXT DIR COMMAND PATTERN: writing COMMAND to DIR/ctl fails with
# ERRNO-TEXT; DIR/error is then one line containing PATTERN; the server is healthy.
bad() {
	local name=$1 errtext=$2 dir=$3 cmd=$4 pat=$5
	expect_fail "$name: $errtext" "$errtext" wr "$dir/ctl" "$cmd"
	expect_err_line "$name: error file" "$dir" "$pat"
	server_healthy A || not_ok "$name: server unhealthy afterwards"
}

# --- verbs ---
bad "unknown verb" "Invalid argument" "$B" "frobnicate 1" "frobnicate: unknown verb"
bad "verb in capitals" "Invalid argument" "$B" "MKCHAN 1" "MKCHAN"
bad "empty command" "Invalid argument" "$B" "" "malformed command"
expect_fail "binary garbage: Invalid argument" "Invalid argument" bash -c "printf '\\xff\\xfe\\x00\\x01' > '$B/ctl'"
expect_err_line "binary garbage: error file" "$B" "malformed command"
bad "5000-byte verb" "Invalid argument" "$B" "$(printf 'v%.0s' $(seq 5000)) 1" "unknown verb"
bad "scrub of nothing" "No such file" "$B" "scrub" "scrub"
bad "signal with no element" "Invalid argument" "$B" "signal TERM" "signal: unknown verb here (no element"
bad "close with no element" "Invalid argument" "$B" "close" "close: unknown verb here (no element"
bad "join on a sub-anchor" "Invalid argument" "$B" "join circuit://127.0.0.1:1/X0000000000000001" "join"
bad "suicide on a sub-anchor" "Invalid argument" "$B" "suicide" "suicide"
bad "mkchan on the server anchor" "" "$M/$X" "mkchan 1" "mkchan"
expect_eq "the server anchor is unchanged" "$(cat "$M/$X/ctl")" "/$X server"

# --- Cmd JSON ---
bad "mkproc without JSON" "Invalid argument" "$B" "mkproc" "missing Cmd JSON"
bad "not JSON" "Invalid argument" "$B" "mkproc nope" "bad JSON at line 1"
bad "truncated JSON" "Invalid argument" "$B" 'mkproc {"Path":"/bin/true"' "bad JSON"
bad "trailing garbage" "Invalid argument" "$B" 'mkproc {"Path":"/bin/true"} x' "bad JSON"
bad "JSON array, not object" "Invalid argument" "$B" 'mkproc ["/bin/true"]' "must be a JSON object"
bad "JSON string, not object" "Invalid argument" "$B" 'mkproc "/bin/true"' "must be a JSON object"
bad "missing Path" "Invalid argument" "$B" 'mkproc {"Args":["/"]}' '"Path" must be a non-empty string'
bad "empty Path" "Invalid argument" "$B" 'mkproc {"Path":""}' '"Path" must be a non-empty string'
bad "Path a number" "Invalid argument" "$B" 'mkproc {"Path":1}' '"Path" must be a non-empty string'
bad "Args a string" "Invalid argument" "$B" 'mkproc {"Path":"/bin/true","Args":"x"}' '"Args" must be an array of strings'
bad "Args of numbers" "Invalid argument" "$B" 'mkproc {"Path":"/bin/true","Args":[1]}' '"Args" must be an array of strings'
bad "Env a string" "Invalid argument" "$B" 'mkproc {"Path":"/bin/true","Env":"A=1"}' '"Env" must be an array of strings'
bad "Env without =" "Invalid argument" "$B" 'mkproc {"Path":"/bin/true","Env":["NOEQ"]}' 'KEY=VALUE'
bad "Dir a number" "Invalid argument" "$B" 'mkproc {"Path":"/bin/true","Dir":5}' '"Dir" must be a string'
bad "Scrub a string" "Invalid argument" "$B" 'mkproc {"Path":"/bin/true","Scrub":"yes"}' '"Scrub" must be true or false'
bad "unknown field" "Invalid argument" "$B" 'mkproc {"Path":"/bin/true","Arg":["x"]}' 'unknown field "Arg"'
bad "NUL inside a string" "Invalid argument" "$B" 'mkproc {"Path":"/bin/true","Args":["a\u0000b"]}' "bad JSON"
bad "nesting 5000 deep" "Invalid argument" "$B" "mkproc $(printf '[%.0s' $(seq 5000))$(printf ']%.0s' $(seq 5000))" "bad JSON"
bad "no such program" "No such file" "$B" 'mkproc {"Path":"/nonexistent/prog"}' "/nonexistent/prog"
bad "no such relative program" "No such file" "$B" 'mkproc {"Path":"no-such-prog-here"}' "no-such-prog-here"
bad "program not executable" "Permission denied" "$B" 'mkproc {"Path":"/etc/passwd"}' "/etc/passwd"
bad "program is a directory" "Permission denied" "$B" 'mkproc {"Path":"/tmp"}' "/tmp"
bad "no such Dir" "No such file" "$B" 'mkproc {"Path":"/bin/true","Dir":"/nonexistent"}' "Dir /nonexistent"
bad "Dir is a file" "Not a directory" "$B" 'mkproc {"Path":"/bin/true","Dir":"/etc/passwd"}' "Dir /etc/passwd"
# (one argument over 128 KiB: exec refuses it; written by python, which can hold it)
expect_fail "argument too long for exec" "Argument list too long" timeout 10 python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
try:
    os.write(fd, b"mkproc {\"Path\": \"/bin/echo\", \"Args\": [\"" + b"x" * 200000 + b"\"]}")
except OSError as e:
    sys.exit(e.strerror)' "$B/ctl"
expect_err_line "argument too long: error file" "$B" "argument list too long"
expect_eq "after all that, no element here" "$(cat "$B/ctl")" "/$X/bad empty"

# an argument holding a newline: the error file stays one line (as the log does)
expect_fail "newline in the argument" "Invalid argument" python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
try:
    os.write(fd, b"mkchan 1\n2")
except OSError as e:
    sys.exit(e.strerror)' "$B/ctl"
expect_err_line "newline in the argument: error file is one line" "$B" "capacity"

# --- capacities ---
for c in -1 x 1.5 "" 99999999999999999999 65537 0x10 1e3 +1 "1 2"; do
	bad "capacity '$c'" "Invalid argument" "$B" "mkchan $c" "capacity must be a decimal integer"
done
expect_eq "no channel was made" "$(cat "$B/ctl")" "/$X/bad empty"
check "the largest capacity works" wr "$B/ctl" "mkchan 65536"
check "scrub it" wr "$B/ctl" "scrub"

# --- an element already there: EEXIST ---
check "mkchan" wr "$B/ctl" "mkchan 1"
bad "mkchan on a channel" "File exists" "$B" "mkchan 2" "already here"
bad "mkproc on a channel" "File exists" "$B" 'mkproc {"Path":"/bin/true"}' "already here"
expect_eq "the channel is untouched" "$(cat "$B/peek")" '{"Cap": 1, "Closed": false, "Aborted": false, "NumSend": 0, "NumRecv": 0, "NumAborted": 0}'
bad "signal to a channel" "Invalid argument" "$B" "signal TERM" "unknown verb for a channel"
bad "close with an argument" "Invalid argument" "$B" "close now" "close takes no argument"
bad "scrub with an argument" "Invalid argument" "$B" "scrub now" "scrub"
check "scrub" wr "$B/ctl" "scrub"
P=$M/$X/proc; mkdir "$P"
check "mkproc sleep" wr "$P/ctl" 'mkproc {"Path":"/bin/sleep","Args":["100"]}'
bad "mkproc on a process" "File exists" "$P" 'mkproc {"Path":"/bin/true"}' "already here"
bad "mkchan on a process" "File exists" "$P" "mkchan 1" "already here"
bad "close to a process" "Invalid argument" "$P" "close" "unknown verb for a process"
for s in FOO 0 999 "" -9 "9x"; do
	bad "signal '$s'" "Invalid argument" "$P" "signal $s" "bad signal"
done
expect_eq "the process still runs" "$(json_field "$P/peek" Phase)" '"running"'

# --- files opened the wrong way: EACCES ---
for f in stdout stderr wait peek help error; do
	expect_fail "writing $f: Permission denied" "Permission denied" bash -c "echo x > '$P/$f'"
	expect_err_line "writing $f: error file" "$P" "$f"
done
expect_fail "reading stdin: Permission denied" "Permission denied" cat "$P/stdin"
expect_fail "appending to stdout: Permission denied" "Permission denied" bash -c "echo x >> '$P/stdout'"
expect_fail "stdout read-write: Permission denied" "Permission denied" bash -c "exec 3<>'$P/stdout'"
C=$M/$X/chan; mkdir "$C"; wr "$C/ctl" "mkchan 1"
expect_fail "reading send: Permission denied" "Permission denied" cat "$C/send"
expect_fail "writing recv: Permission denied" "Permission denied" bash -c "echo x > '$C/recv'"
expect_fail "writing the server log: Permission denied" "Permission denied" bash -c "echo x > '$M/$X/log'"
check "server healthy after the EACCES cases" server_healthy A

# --- missing files and anchors: ENOENT ---
expect_fail "stdout of a channel" "No such file" cat "$C/stdout"
expect_fail "wait of a channel" "No such file" cat "$C/wait"
expect_fail "recv of a process" "No such file" cat "$P/recv"
expect_fail "send of a process" "No such file" bash -c "echo x > '$P/send'"
expect_fail "peek of a bare anchor" "No such file" cat "$B/peek"
expect_fail "stdout of a bare anchor" "No such file" cat "$B/stdout"
expect_fail "a file that never exists" "No such file" cat "$P/nonsense"
expect_fail "ctl of a missing anchor" "No such file" cat "$M/$X/nope/ctl"
expect_fail "write to ctl of a missing anchor" "No such file" bash -c "echo mkchan 1 > '$M/$X/nope/ctl'"
expect_fail "a missing server" "No such file" ls "$M/X0000000000000000"
expect_fail "creating a file" "" bash -c "echo x > '$P/newfile'"
expect_fail "touch a new file" "" touch "$P/newfile"
expect_fail "rm of stdout" "" rm -f "$P/stdout"
expect_fail "rename of an anchor" "" mv "$P" "$M/$X/renamed"
expect_fail "symlink" "" ln -s /tmp "$P/link"
expect_fail "mkfifo" "" mkfifo "$P/fifo"
expect_eq "the process anchor is unchanged" "$(ls "$P" | tr '\n' ' ')" "ctl error help peek stderr stdin stdout wait "

# --- bad names: EINVAL, message in the parent's error file ---
for n in .hidden a:b "a b" 'a*b' "é" stdout ctl recv log "$(printf 'n%.0s' $(seq 256))"; do
	expect_fail "mkdir '${n:0:20}': Invalid argument or too long" "" mkdir "$M/$X/$n"
done
expect_fail "mkdir .hidden is EINVAL" "Invalid argument" mkdir "$M/$X/.x"
expect_err_line "the parent's error file tells the bad name" "$M/$X" "bad anchor name"
expect_fail "mkdir 'a:b' is EINVAL" "Invalid argument" mkdir "$M/$X/a:b"
expect_fail "mkdir 'send' is EINVAL" "Invalid argument" mkdir "$M/$X/send"
expect_fail "mkdir of an existing anchor is EEXIST" "File exists" mkdir "$P"
expect_fail "mkdir named like a file of the element" "" mkdir "$P/stdout"

# --- writes past 32 KiB into a buffered message: EFBIG, in one or many writes ---
D=$M/$X/lim; mkdir "$D"; wr "$D/ctl" "mkchan 2"
head -c 40000 /dev/urandom >"$T_TMP/40k"
expect_fail "40 KB in one write" "File too large" timeout 10 dd if="$T_TMP/40k" of="$D/send" bs=40000 status=none
expect_err_line "EFBIG: error file" "$D" "32768"
expect_fail "40 KB in 1000-byte writes" "File too large" timeout 10 dd if="$T_TMP/40k" of="$D/send" bs=1000 status=none
expect_eq "the byte past 32 KiB is the one refused" "$(timeout 10 python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
a = os.write(fd, b"x" * 32768)
try:
    os.write(fd, b"y"); b = "accepted"
except OSError as e:
    b = e.strerror
os.close(fd); print(a, b)' "$D/send")" "32768 File too large"
expect_eq "nothing was sent" "$(cat "$D/peek")" '{"Cap": 2, "Closed": false, "Aborted": false, "NumSend": 0, "NumRecv": 0, "NumAborted": 0}'
check "the channel still works" wr "$D/send" "fine"
expect_eq "and delivers" "$(timeout 5 cat "$D/recv")" "fine"

# --- a command longer than one FUSE write ---
expect_fail "a 3 MB command is refused" "Invalid argument" timeout 10 python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.write(fd, b"mkproc {\"Path\": \"/bin/true\", \"Args\": [\"" + b"x" * 3000000 + b"\"]}")' "$B/ctl"
expect_eq "no element from it" "$(cat "$B/ctl")" "/$X/bad empty"

# --- every failure is in the log, with its errno ---
check "log has EINVAL lines" grep -q "/$X/bad mkchan error EINVAL" "$M/$X/log"
check "log has EEXIST lines" grep -q "/$X/proc mkproc error EEXIST" "$M/$X/log"
check "log has EFBIG lines" grep -q "/$X/lim .*EFBIG" "$M/$X/log"
check "log has ENOENT for a missing program" grep -q "/$X/bad mkproc error ENOENT" "$M/$X/log"

rmdir "$P" "$C" "$D" "$B"
check "server still healthy" server_healthy A
check "clean stop" stop_server A
finish
