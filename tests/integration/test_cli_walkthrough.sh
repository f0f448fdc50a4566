# The seed README's walkthrough through the circuit CLI against a real server, with
# exact output checks: ls, mkproc, peek, stdin, stdout, scrub, mkchan, send, recv.
L=$(dirname "$0")/lib.sh; [ -f "$L" ] || L=$(dirname "$0")/../lib.sh
source "$L"
source "$(dirname "$L")/lib_cli.sh"
start_server A
X=$A_ID; U=$A_URL; M=$A_MNT

# --- dial-in ---
run "$C" ls -d "$U" /
expect_eq "ls -d URL / lists the server (seed's flag order)" "$RC:$OUT" "0:/$X"
run "$C" -d "$U" ls /
expect_eq "flags before the command" "$RC:$OUT" "0:/$X"
echo "$U" >"$T_TMP/url"
run env CIRCUIT="$T_TMP/url" "$C" ls /
expect_eq "CIRCUIT names a URL file" "$RC:$OUT" "0:/$X"
mkdir -p "$T_TMP/home"; echo "$U" >"$T_TMP/home/.circuit"
run env HOME="$T_TMP/home" CIRCUIT="~/.circuit" CIRCUIT_HMAC="$T_KEY" "$C" ls /
expect_eq "CIRCUIT=~/.circuit as in the seed" "$RC:$OUT" "0:/$X"
run "$C" ls -d "circuit://127.0.0.1:1/X0000000000000000" /
expect_eq "refused dial fails" "$RC" 1
check "refused dial: one line naming the dial" test "$(wc -l <<<"$ERR")" = 1 -a -n "$(grep '^circuit ls: ' <<<"$ERR")"

# --- the seed's process example ---
cli ls /...
expect_eq "ls /... on a fresh server" "$RC:$OUT" "0:/$X"
run timeout 10 "$C" mkproc -d "$U" /$X/pippi <<'JSON'
{
    "Path": "/bin/ls",
    "Args": ["/"]
}
JSON
expect_eq "mkproc (multi-line JSON, anchor made implicitly)" "$RC:$OUT:$ERR" "0::"
cli peek /$X/pippi
check "peek right after mkproc shows the Cmd" grep -q '^        "Path": "/bin/ls",$' <<<"$OUT"
check "peek right after mkproc shows a phase" grep -Eq '^    "Phase": "(running|exited)",$' <<<"$OUT"
cli ls /...
expect_eq "ls /... shows the new anchor" "$OUT" "/$X
/$X/pippi"
cli ls -l /...
expect_eq "ls -l /... shows kinds" "$OUT" "server       /$X
process      /$X/pippi"
run timeout 10 "$C" stdin -d "$U" /$X/pippi </dev/null
expect_eq "stdin from /dev/null closes it" "$RC:$ERR" "0:"
cli stdout /$X/pippi
expect_eq "stdout is exactly the listing of /" "$RC:$OUT" "0:$(ls /)"
cli wait /$X/pippi
pid=$(sed -n 's/^    "Pid": \([0-9]*\),$/\1/p' <<<"$OUT")
expect_eq "wait prints the stat as pretty JSON" "$RC:$OUT" "0:{
    \"Cmd\": {
        \"Path\": \"/bin/ls\",
        \"Args\": [
            \"/\"
        ],
        \"Env\": null,
        \"Dir\": \"\",
        \"Scrub\": false
    },
    \"Phase\": \"exited\",
    \"Pid\": $pid,
    \"ExitCode\": 0,
    \"Signal\": null,
    \"Exit\": \"exit status 0\"
}"
WAITED=$OUT
cli peek /$X/pippi
expect_eq "peek after exit is the wait stat" "$OUT" "$WAITED"
expect_eq "peek is the mount's peek, pretty" "$OUT" "$(python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), indent=4))' <"$M/$X/pippi/peek")"
cli stderr /$X/pippi
expect_eq "stderr is empty" "$RC:$OUT" "0:"
cli scrub /$X/pippi
expect_eq "scrub" "$RC:$OUT:$ERR" "0::"
cli ls /...
expect_eq "the scrubbed anchor is gone" "$OUT" "/$X"
# The mount caches names for its entry timeout (1 s): a change made elsewhere shows
# within it.
check "gone from the mount too" wait_for 3 test ! -e "$M/$X/pippi"

# stdin streams to a running process, stdout streams back
run timeout 10 "$C" mkproc -d "$U" /$X/jobs/tr <<<'{"Path": "/usr/bin/tr", "Args": ["a-z", "A-Z"]}'
expect_eq "mkproc tr under a missing parent (mkdir -p)" "$RC:$ERR" "0:"
run timeout 10 "$C" stdin -d "$U" /$X/jobs/tr <<<"hello circuit"
expect_eq "stdin" "$RC" 0
cli stdout /$X/jobs/tr
expect_eq "stdout of tr" "$OUT" "HELLO CIRCUIT"
cli waitall /$X/jobs/tr
expect_eq "waitall on an exited process" "$RC:$OUT" "0:"
run timeout 10 "$C" mkproc -d "$U" /$X/jobs/sleep <<<'{"Path": "/bin/sleep", "Args": ["100"]}'
cli signal /$X/jobs/sleep TERM
expect_eq "signal TERM" "$RC:$ERR" "0:"
cli wait /$X/jobs/sleep
check "wait after TERM says signaled" grep -q '^    "Signal": "TERM",$' <<<"$OUT"
run timeout 10 "$C" waitall -d "$U" <<<"/$X/jobs/sleep
/$X/jobs/tr"
expect_eq "waitall reads paths from stdin" "$RC:$ERR" "0:"
cli scrub /$X/jobs
expect_eq "scrub of an anchor with no element but sub-anchors" "$RC:$ERR" "0:"
cli ls /$X/jobs
expect_eq "keeps it and its sub-anchors" "$OUT" "/$X/jobs/sleep
/$X/jobs/tr"
cli scrub /$X/jobs/tr; cli scrub /$X/jobs/sleep
cli ls /$X/jobs
expect_eq "scrubbed children are gone, the parent stays" "$RC:$OUT" "0:"
cli scrub /$X/jobs
expect_eq "scrub of a bare anchor removes it" "$RC:$ERR" "0:"
cli ls /$X/jobs
expect_eq "it is gone" "$RC" 1

# --- the seed's channel example ---
cli mkchan /$X/this/is/charlie 3
expect_eq "mkchan 3 (anchors made implicitly)" "$RC:$OUT:$ERR" "0::"
cli peek /$X/this/is/charlie
expect_eq "peek of the new channel" "$OUT" '{
    "Cap": 3,
    "Closed": false,
    "Aborted": false,
    "NumSend": 0,
    "NumRecv": 0,
    "NumAborted": 0
}'
cli ls -l /$X/this/...
expect_eq "ls -l of a subtree" "$OUT" "empty        /$X/this/is
channel      /$X/this/is/charlie"
printf 'first\0message\n\nwith no newline at the end' >"$T_TMP/m1"
run timeout 10 "$C" send -d "$U" /$X/this/is/charlie <"$T_TMP/m1"
expect_eq "send (buffered)" "$RC:$ERR" "0:"
run timeout 10 "$C" send -d "$U" /$X/this/is/charlie <<<"second"
cli peek /$X/this/is/charlie
check "peek counts two sends" grep -qx '    "NumSend": 2,' <<<"$OUT"
timeout 10 "$C" recv -d "$U" /$X/this/is/charlie >"$T_TMP/r1"
expect_eq "recv exits 0" "$?" 0
check "recv gets the exact bytes" cmp "$T_TMP/m1" "$T_TMP/r1"
cli recv /$X/this/is/charlie
expect_eq "recv the second, in order" "$OUT" "second"
cli peek /$X/this/is/charlie
expect_eq "peek counters after two round trips" "$OUT" '{
    "Cap": 3,
    "Closed": false,
    "Aborted": false,
    "NumSend": 2,
    "NumRecv": 2,
    "NumAborted": 0
}'
# a big message straight to a waiting receiver: no size limit, exact bytes
head -c 20000000 /dev/urandom >"$T_TMP/big"
timeout 30 "$C" recv -d "$U" /$X/this/is/charlie >"$T_TMP/big.out" & rp=$!
sleep 0.3
run timeout 30 "$C" send -d "$U" /$X/this/is/charlie <"$T_TMP/big"
expect_eq "send 20 MB to a waiting receiver" "$RC:$ERR" "0:"
wait $rp
expect_eq "recv of 20 MB exits 0" "$?" 0
expect_eq "20 MB arrive intact" "$(sha256sum <"$T_TMP/big.out")" "$(sha256sum <"$T_TMP/big")"
head -c 40000 /dev/zero >"$T_TMP/40k"
run timeout 10 "$C" send -d "$U" /$X/this/is/charlie <"$T_TMP/40k"
expect_eq "a buffered message over 32 KiB fails" "$RC" 1
check "with EFBIG's text" grep -q "File too large" <<<"$ERR"
cli close /$X/this/is/charlie
expect_eq "close" "$RC:$ERR" "0:"
cli recv /$X/this/is/charlie
expect_eq "recv on a closed drained channel fails" "$RC" 1
check "with Broken pipe" grep -q "^circuit recv: .*Broken pipe" <<<"$ERR"
cli scrub /$X/this/is/charlie
cli ls /$X/...
expect_eq "scrub removes the leaf anchor" "$OUT" "/$X/this
/$X/this/is"

# --- errors ---
run timeout 10 "$C" mkproc -d "$U" /$X/bad <<<'{"Path": "/bin/ls", "Argz": []}'
expect_eq "mkproc with a bad field fails" "$RC" 1
check "with the server's message" grep -q '^circuit mkproc: /'"$X"'/bad: mkproc: unknown field "Argz"' <<<"$ERR"
cli ls /$X/...
check "a failed mkproc leaves no anchor" test -z "$(grep bad <<<"$OUT")"
cli peek /$X/nope
expect_eq "peek of a missing anchor fails" "$RC" 1
check "with No such file or directory" grep -q "^circuit peek: .*No such file or directory" <<<"$ERR"
expect_eq "one line" "$(wc -l <<<"$ERR")" 1
cli ls /$X/nope
check "ls of a missing anchor: No such file or directory" test "$RC" = 1 -a -n "$(grep 'No such file or directory' <<<"$ERR")"
cli mkchan /Xffffffffffffffff/c 1
expect_eq "mkchan on a server that is not there fails" "$RC" 1
cli mkchan /$X/this 1
run timeout 10 "$C" mkproc -d "$U" /$X/this <<<'{"Path": "/bin/true"}'
check "a second element on an anchor: File exists" test "$RC" = 1 -a -n "$(grep 'File exists' <<<"$ERR")"
cli signal /$X/this KILL
expect_eq "signal on a channel fails" "$RC" 1
cli scrub /$X/nope
check "scrub of a missing anchor fails" test "$RC" = 1 -a -n "$(grep 'No such file or directory' <<<"$ERR")"
cli stk /$X
expect_eq "stk answers" "$RC" 0
check "stk shows the server" grep -q "$X" <<<"$OUT"

check "server still healthy" server_healthy A
check "SIGTERM unmounts and exits" stop_server A
finish
