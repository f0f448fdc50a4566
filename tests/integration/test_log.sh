# The server's operation log: one line per operation, in execution order, with the
# result and errno; `cat log` ends, `tail -f log` follows new lines as they happen.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_more.sh"
start_server A
M=$A_MNT; X=$A_ID
LOG=$M/$X/log

check "cat log ends (a snapshot of the log so far)" sh -c "timeout 5 cat '$LOG' >/dev/null"
check "the first line is the server's start" sh -c "timeout 5 cat '$LOG' | head -1 | grep -q ' server /$X start ok\$'"

timeout 40 tail -n 0 -f "$LOG" >"$T_TMP/tail1" 2>"$T_TMP/tail1.err" & t1=$!
timeout 40 tail -n 0 -f "$LOG" >"$T_TMP/tail2" 2>&1 & t2=$!
sleep 0.5
# op PATTERN: the newest line of tail -f must come within 3 s and match PATTERN
seen() { grep -q -- "$1" "$T_TMP/tail1"; }
t0=$(now_ms)
mkdir "$M/$X/L"
check "tail -f shows the mkdir within 3 s" wait_for 3 seen "/$X/L mkdir ok"
echo "# mkdir seen by tail -f after $(( $(now_ms) - t0 )) ms"
L=$M/$X/L
wr "$L/ctl" "mkchan 1"
wr "$L/send" "hi"
timeout 5 cat "$L/recv" >/dev/null
wr "$L/ctl" "close"
cat "$L/peek" >/dev/null
wr "$L/ctl" "frob" 2>/dev/null
timeout 5 cat "$L/recv" >/dev/null 2>&1
wr "$L/ctl" "scrub"
mkdir "$L/sub"
wr "$L/sub/ctl" 'mkproc {"Path":"/bin/true"}'
timeout 5 cat "$L/sub/wait" >/dev/null
rmdir "$L/sub"
rmdir "$L"
check "tail -f shows the last rmdir within 3 s" wait_for 3 seen "/$X/L rmdir ok"
sleep 0.3
expect_eq "one line per operation, in order" "$(grep " /$X/L" "$T_TMP/tail1" | sed -E 's/^[^ ]+ [^ ]+ //; s/(error E[A-Z0-9]+):.*/\1/')" \
"/$X/L mkdir ok
/$X/L mkchan ok
/$X/L open send ok
/$X/L open recv ok
/$X/L close ok
/$X/L read peek ok
/$X/L frob error EINVAL
/$X/L open recv error EPIPE
/$X/L scrub ok
/$X/L/sub mkdir ok
/$X/L/sub mkproc ok
/$X/L/sub read wait ok
/$X/L/sub rmdir ok
/$X/L rmdir ok"
expect_eq "a second tail -f sees the same lines" "$(grep " /$X/L" "$T_TMP/tail2")" "$(grep " /$X/L" "$T_TMP/tail1")"
check "failures carry their message" grep -q "/$X/L frob error EINVAL: /$X/L: frob: unknown verb" "$T_TMP/tail1"
check "lines name the client" grep -q "^[^ ]* fuse:[0-9]* /$X/L mkdir ok\$" "$T_TMP/tail1"

# under concurrency: 4 clients x 50 mkdir/rmdir, every operation exactly once
for c in 1 2 3 4; do
	timeout 30 bash -c "for i in \$(seq 50); do mkdir '$M/$X/c$c-'\$i && rmdir '$M/$X/c$c-'\$i || exit 1; done" & pids[$c]=$!
done
cfail=0
for c in 1 2 3 4; do wait_pid 30 "${pids[$c]}" || cfail=$((cfail + 1)); done
expect_eq "the 4 clients succeeded" "$cfail" 0
check "tail -f caught up" wait_for 5 seen "/$X/c4-50 rmdir ok"
# tail -f polls a FUSE file once a second: lines appended after c4-50's may come
# one poll later, so wait (bounded) for the count rather than sleeping.
wait_for 5 test "$(grep -c " /$X/c[1-4]-[0-9]* \(mkdir\|rmdir\) ok\$" "$T_TMP/tail1")" -ge 400
expect_eq "400 operations, 400 lines" "$(grep -c " /$X/c[1-4]-[0-9]* \(mkdir\|rmdir\) ok\$" "$T_TMP/tail1")" 400
expect_eq "no operation logged twice" "$(grep " /$X/c[1-4]-" "$T_TMP/tail1" | awk '{print $3, $4}' | sort | uniq -d | wc -l)" 0
expect_eq "each mkdir before its rmdir" "$(grep " /$X/c[1-4]-" "$T_TMP/tail1" | awk '{ if ($4 == "mkdir") m[$3] = 1; else if (!m[$3]) bad++ } END { print bad + 0 }')" 0
expect_eq "every line has the format TIME CLIENT ANCHOR VERB... RESULT" \
	"$(timeout 5 cat "$LOG" | grep -Evc '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z [^ ]+ /X[0-9a-f]{16}(/[^ ]*)? .* (ok|error E[A-Z0-9]+: .*)$')" 0
expect_eq "times never go backwards" "$(timeout 5 cat "$LOG" | awk '{ if ($1 < last) bad++; last = $1 } END { print bad + 0 }')" 0
expect_eq "tail -f of log reported no error" "$(cat "$T_TMP/tail1.err")" ""
check "tail -f still running" kill -0 $t1
kill $t1 $t2 2>/dev/null
wait_pid 5 $t1; wait_pid 5 $t2
check "server still healthy" server_healthy A
finish
