# Streams through the circuit CLI: output flows while the writer still writes, Ctrl-C
# on a blocked CLI leaves the element consistent and loses no message, big copies.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_cli.sh"
start_server A
X=$A_ID; U=$A_URL

# --- stdin is forwarded as it comes, not when the writer is done ---
run timeout 10 "$C" mkproc -d "$U" /$X/cat <<<'{"Path": "/bin/cat"}'
expect_eq "mkproc cat" "$RC:$ERR" "0:"
(echo one; sleep 3; echo two) | timeout 20 "$C" stdin -d "$U" /$X/cat & wp=$!
OUT=$(timeout 2 "$C" stdout -d "$U" /$X/cat | head -1)
expect_eq "the first line arrives while stdin is still open" "$OUT" "one"
wait $wp
expect_eq "stdin exits 0 once its input ends" "$?" 0
cli wait /$X/cat
check "cat exited 0 after stdin closed" grep -qx '    "ExitCode": 0,' <<<"$OUT"
cli scrub /$X/cat

# --- a broken input is no input: the process is killed, never handed an EOF as if whole ---
run timeout 10 "$C" mkproc -d "$U" /$X/wc <<<'{"Path": "/usr/bin/wc", "Args": ["-c"]}'
run timeout 10 "$C" stdin -d "$U" /$X/wc </
expect_eq "stdin of an unreadable input fails and says why" "$RC:$ERR" \
	"1:circuit stdin: reading standard input: Is a directory"
cli wait /$X/wc
check "the process was killed, not given EOF" grep -qx '    "Signal": "KILL",' <<<"$OUT"
cli stdout /$X/wc
expect_eq "so it printed no count of a cut input" "$RC:$OUT" "0:"
check "the server says why" grep -q "/$X/wc: stdin: its writer vanished mid-stream; the process was killed" "$A_ERR"
cli scrub /$X/wc

# --- ...but once the process has exited, a lost writer kills nothing: what its group
# left running stays, and error claims no kill ---
run timeout 10 "$C" mkproc -d "$U" /$X/gone <<<'{"Path": "/bin/sh", "Args": ["-c",
	"sleep 300 >/dev/null 2>&1 & echo $! >'"$T_TMP"'/bg; exit 0"]}'
expect_eq "mkproc of a shell that leaves a sleep behind" "$RC:$ERR" "0:"
cli wait /$X/gone
check "the shell exited 0" grep -qx '    "ExitCode": 0,' <<<"$OUT"
bg=$(cat "$T_TMP/bg"); T_PIDS+=("$bg")
run timeout 10 "$C" stdin -d "$U" /$X/gone </
expect_eq "stdin of an unreadable input fails the same way" "$RC:$ERR" \
	"1:circuit stdin: reading standard input: Is a directory"
check "the server notes the lost writer, and that it killed nothing" wait_for 10 grep -qx \
	"circuit: /$X/gone: stdin: its writer vanished mid-stream after the process had ended: nothing was killed" "$A_ERR"
check "the sleep it left behind still runs" kill -0 "$bg"
expect_eq "error claims no kill" "$(timeout 5 cat "$A_MNT/$X/gone/error")" ""
cli peek /$X/gone
check "peek still says exited 0" grep -qx '    "ExitCode": 0,' <<<"$OUT"
kill "$bg" 2>/dev/null
cli scrub /$X/gone

# --- recv on a closed, drained channel names the channel ---
cli mkchan /$X/shut 1
cli close /$X/shut
run timeout 10 "$C" recv -d "$U" /$X/shut
expect_eq "recv on a closed channel fails with its path" "$RC:$ERR" \
	"1:circuit recv: /$X/shut: channel closed (Broken pipe)"

# --- Ctrl-C on a blocked recv: the receive is cancelled, no message is lost ---
cli mkchan /$X/ch 0
timeout -s INT 0.5 "$C" recv -d "$U" /$X/ch >"$T_TMP/lost"
expect_eq "an interrupted recv ends by the signal" "$?" 124
timeout 10 "$C" recv -d "$U" /$X/ch >"$T_TMP/got" & rp=$!
sleep 0.3
run timeout 10 "$C" send -d "$U" /$X/ch <<<"kept"
expect_eq "send to the next receiver" "$RC:$ERR" "0:"
wait $rp
expect_eq "the live receiver gets the message" "$(cat "$T_TMP/got")" "kept"
expect_eq "the interrupted one got nothing" "$(wc -c <"$T_TMP/lost")" "0"
cli peek /$X/ch
expect_eq "one send, one receive counted" "$OUT" '{
    "Cap": 0,
    "Closed": false,
    "Aborted": false,
    "NumSend": 1,
    "NumRecv": 1,
    "NumAborted": 0
}'

# --- Ctrl-C on a blocked send (rendezvous): the message is not delivered later ---
timeout -s INT 0.5 "$C" send -d "$U" /$X/ch <<<"dropped"
expect_eq "an interrupted send ends by the signal" "$?" 124
timeout -s INT 0.5 "$C" recv -d "$U" /$X/ch >"$T_TMP/none"
expect_eq "nothing is waiting after it" "$?:$(wc -c <"$T_TMP/none")" "124:0"

# --- a broken input is no message: send aborts it, and the receiver never sees it ---
cli mkchan /$X/ab 2
run timeout 10 "$C" send -d "$U" /$X/ab </
expect_eq "send of an unreadable input fails and says why" "$RC:$ERR" \
	"1:circuit send: reading standard input: Is a directory"
run timeout 10 "$C" send -d "$U" /$X/ab <<<"whole"
run timeout 10 "$C" recv -d "$U" /$X/ab
expect_eq "the next receiver gets the next whole message" "$RC:$OUT" "0:whole"
OUT=$(timeout 10 "$C" peek -d "$U" /$X/ab 2>&1 >/dev/full); RC=$?
expect_eq "peek to a full disk fails and says so" "$RC:$OUT" \
	"1:circuit peek: writing standard output: No space left on device"
OUT=$(timeout 10 "$C" ls -d "$U" / 2>&1 >/dev/full); RC=$?
expect_eq "ls to a full disk fails and says so" "$RC:$OUT" \
	"1:circuit ls: writing standard output: No space left on device"
cli peek /$X/ab
expect_eq "the broken one is counted aborted, not sent" "$OUT" '{
    "Cap": 2,
    "Closed": false,
    "Aborted": false,
    "NumSend": 1,
    "NumRecv": 1,
    "NumAborted": 1
}'

# --- Ctrl-C on wait and stdout of a running process leaves it running ---
run timeout 10 "$C" mkproc -d "$U" /$X/sleep <<<'{"Path": "/bin/sleep", "Args": ["100"]}'
timeout -s INT 0.5 "$C" wait -d "$U" /$X/sleep >/dev/null
expect_eq "an interrupted wait ends by the signal" "$?" 124
timeout -s INT 0.5 "$C" stdout -d "$U" /$X/sleep >/dev/null
expect_eq "an interrupted stdout ends by the signal" "$?" 124
cli peek /$X/sleep
check "the process still runs" grep -qx '    "Phase": "running",' <<<"$OUT"
cli scrub /$X/sleep
expect_eq "scrub of a running process" "$RC:$ERR" "0:"

# --- big copies both ways through a process, exact bytes ---
head -c 30000000 /dev/urandom >"$T_TMP/big"
run timeout 10 "$C" mkproc -d "$U" /$X/copy <<<'{"Path": "/bin/cat"}'
timeout 60 "$C" stdout -d "$U" /$X/copy >"$T_TMP/big.out" & rp=$!
run timeout 60 "$C" stdin -d "$U" /$X/copy <"$T_TMP/big"
expect_eq "30 MB into stdin" "$RC:$ERR" "0:"
wait $rp
expect_eq "stdout exits 0" "$?" 0
expect_eq "30 MB out of stdout, intact" "$(sha256sum <"$T_TMP/big.out")" "$(sha256sum <"$T_TMP/big")"
cli scrub /$X/copy

# --- a closed standard output ends the CLI quietly, as it ends cat ---
run timeout 10 "$C" mkproc -d "$U" /$X/yes <<<'{"Path": "/usr/bin/yes"}'
OUT=$(timeout 10 "$C" stdout -d "$U" /$X/yes 2>"$T_TMP/err" | head -1; echo "${PIPESTATUS[0]}")
expect_eq "stdout | head -1: killed by SIGPIPE (141), no message" "$OUT:$(cat "$T_TMP/err")" "y
141:"
cli scrub /$X/yes
expect_eq "scrub of yes" "$RC:$ERR" "0:"
check "server still healthy" server_healthy A
# --- a server lost mid-stream: the bytes that came in are written out, then the error ---
PYTHONPATH=$T_PY python3 "$T_PY/../tools/cut_server.py" >"$T_TMP/cport" &
T_PIDS+=("$!")
wait_for 10 test -s "$T_TMP/cport"
run timeout 30 "$C" stdout -insecure -d "circuit://127.0.0.1:$(cat "$T_TMP/cport")/X0000000000000001" \
	/X0000000000000001/p
expect_eq "the bytes received before the reset are not dropped" "$RC:$OUT" "1:hello"
check "and the lost connection is reported" grep -q "connection lost" <<<"$ERR"
# --- the client library: a stream closed after its connection was lost does not pass ---
start_server L
cc -std=c11 -D_GNU_SOURCE -O1 -I"$T_PY/../.." -o "$T_TMP/client_lost" "$T_PY/../tools/client_lost.c" \
	"$T_PY"/../../net/{client,client_io,client_stream,frame,url,key,secure}.c -ljansson -lsodium
run timeout 10 "$C" mkchan -d "$L_URL" /$L_ID/lost 2
run timeout 60 "$T_TMP/client_lost" "$L_URL" /$L_ID/lost "$L_PID"
# The call that finds the loss says why; later calls, circuit_lost and the close of the
# stream keep saying it (the errno of the failed read: ECONNRESET, -104).
expect_eq "a lost connection's first cause is kept for every later call" "$RC:$OUT" "0:write 7
stat -112 $L_URL: connection lost (Connection reset by peer)
stat -112 $L_URL: connection lost earlier: connection lost (Connection reset by peer)
lost -104 connection lost (Connection reset by peer)
close -112 $L_URL: connection lost before the close: the stream did not end whole: connection lost (Connection reset by peer)"
# A server's REFUSE mid-connection: its text, on one line, is the cause.
PYTHONPATH=$T_PY python3 "$T_PY/../tools/cut_server.py" refuse >"$T_TMP/rport" &
T_PIDS+=("$!")
wait_for 10 test -s "$T_TMP/rport"
R_URL="circuit://127.0.0.1:$(cat "$T_TMP/rport")/X0000000000000001"
run timeout 60 "$T_TMP/client_lost" "$R_URL" /X0000000000000001/p refuse
# Kept to 200 bytes, the cut marked: 36 of the text, 161 of its 300 x's, "...".
WHY="refused: cut_server.py: go away now $(printf 'x%.0s' {1..161})..."
expect_eq "a REFUSE's text is the cause, one line, bounded, for later calls too" "$RC:$OUT" \
	"0:stat -111 $R_URL: $WHY
stat -112 $R_URL: connection lost earlier: $WHY
lost -111 $WHY"
# A read's answer that came in during another call is handed over after the loss too.
PYTHONPATH=$T_PY python3 "$T_PY/../tools/cut_server.py" later >"$T_TMP/lport" &
T_PIDS+=("$!"); LP=$!
wait_for 10 test -s "$T_TMP/lport"
run timeout 60 "$T_TMP/client_lost" "circuit://127.0.0.1:$(cat "$T_TMP/lport")/X0000000000000001" \
	/X0000000000000001/p "later:$LP"
expect_eq "bytes read ahead before the loss are not dropped" "$(tr '\n' ' ' <<<"$OUT")" \
	"read 5 hello stat 0 read 5 world read -112 "
finish
