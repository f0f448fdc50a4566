# tail -f of a process's stdout and stderr follows the output live while `cat stdout`
# still takes every byte once, in order (docs/decisions.md: stdout and stderr are files
# that grow): first for processes of the mounting server, then for another server's
# (the offsets and sizes travel over the wire: docs/protocol.md).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_more.sh"
start_server A
M=$A_MNT; X=$A_ID

mk() {	# mk ANCHOR CMD-JSON: fresh anchor with a process
	mkdir -p "$1" && wr "$1/ctl" "mkproc $2"
}
phase() { timeout 5 cat "$1/peek" | grep -o '"Phase": "[a-z]*"'; }
# has FILE TEXT: FILE holds exactly TEXT (a trailing newline aside).
has() { [ "$(cat "$1")" == "$2" ]; }
# opened PID FILE: process PID has FILE open.
opened() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q -- "-> $2\$"; }
# follow FILE OUT [FLAG]: tail -f (or FLAG: -F) FILE into OUT (stderr OUT.err) in the
# background; sets TPID once tail has the file open.
follow() {
	tail "${3:--f}" "$1" >"$2" 2>"$2.err" &
	TPID=$!
	T_PIDS+=("$TPID")
	wait_for 20 opened "$TPID" "$1" || not_ok "tail opened $1"
}
unfollow() { kill "$TPID" 2>/dev/null; wait "$TPID" 2>/dev/null; }

# --- tail -f from before the first byte: the lines come while the process runs ---
P=$M/$X/tailf
check "mkproc: waits for a go, prints a line a second, then waits again" mk "$P" \
    '{"Path":"/bin/sh","Args":["-c","read go; for i in 1 2 3; do echo line$i; sleep 1; done; echo oops >&2; read end; echo bye"]}'
exec 7>"$P/stdin"
follow "$P/stdout" "$T_TMP/t1"
TPID1=$TPID
follow "$P/stderr" "$T_TMP/e1" -F
TPID2=$TPID
echo go >&7
check "tail -f stdout shows the lines as they come" wait_for 30 has "$T_TMP/t1" "line1
line2
line3"
check "tail -F stderr too" wait_for 30 has "$T_TMP/e1" "oops"
expect_eq "while the process still runs" "$(phase "$P")" '"Phase": "running"'
expect_eq "stat reports the bytes produced so far" "$(stat -c %s "$P/stdout")" "18"
echo end >&7
exec 7>&-
check "and what comes after" wait_for 30 has "$T_TMP/t1" "line1
line2
line3
bye"
check "the process exits" wait_for 30 sh -c "timeout 5 cat '$P/peek' | grep -q exited"
TPID=$TPID1 unfollow
TPID=$TPID2 unfollow
expect_eq "tail -f said nothing on stderr (no 'file truncated', no 'Illegal seek')" \
    "$(cat "$T_TMP/t1.err" "$T_TMP/e1.err")" ""
expect_eq "what tail -f alone was shown counts as read: cat gets EOF" \
    "$(timeout 5 cat "$P/stdout")" ""

# --- tail -f beside cat: cat takes every byte once, in order; tail sees them all ---
P=$M/$X/both
check "mkproc: 300 rows at once, then a line a second" mk "$P" \
    '{"Path":"/bin/sh","Args":["-c","read go; i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo row$i; done; for i in 1 2 3; do sleep 1; echo late$i; done; read end"]}'
exec 7>"$P/stdin"
cat "$P/stdout" >"$T_TMP/c2" &
CPID=$!
T_PIDS+=("$CPID")
wait_for 20 opened "$CPID" "$P/stdout" || not_ok "cat opened stdout"
follow "$P/stdout" "$T_TMP/t2"
echo go >&7
want=$(for i in $(seq 300); do echo "row$i"; done; echo late1; echo late2; echo late3)
check "tail -f beside cat sees every line" wait_for 60 has "$T_TMP/t2" "$want"
check "and cat has them too" wait_for 60 has "$T_TMP/c2" "$want"
echo end >&7
exec 7>&-
wait_pid 30 "$CPID"
expect_eq "cat ends at the process's EOF" "$?" "0"
expect_eq "cat got every byte once, in order" "$(cat "$T_TMP/c2")" "$want"
unfollow
expect_eq "tail -f beside cat: nothing on stderr" "$(cat "$T_TMP/t2.err")" ""

# --- tail -f alone takes what it shows: more than the 256 KiB unread bound goes through ---
P=$M/$X/alone
check "mkproc: seq 1 100000 (588,895 bytes), then a last line" mk "$P" \
    '{"Path":"/bin/sh","Args":["-c","read go; seq 1 100000; echo last"]}'
exec 7>"$P/stdin"
follow "$P/stdout" "$T_TMP/t3"
echo go >&7
exec 7>&-
check "tail -f alone sees the last line: the process was not held up" \
    wait_for 60 sh -c "tail -n 1 '$T_TMP/t3' | grep -qx last"
unfollow
expect_eq "and every line before it, once, in order" "$(md5sum <"$T_TMP/t3")" \
    "$( (seq 1 100000; echo last) | md5sum)"

# --- readers in order that give back what they read past a line (bash's read and
# head seek back on a seekable file) still wait for the rest ---
P=$M/$X/lines
check "mkproc: three lines at once, then two a second apart" mk "$P" \
    '{"Path":"/bin/sh","Args":["-c","read go; printf \"a\\\\nb\\\\nc\\\\n\"; sleep 1; echo d; sleep 1; echo e"]}'
exec 7>"$P/stdin"
timeout 60 bash -c 'while read -r l; do echo "got $l"; done <"$1"' _ "$P/stdout" >"$T_TMP/r" &
RPID=$!
wait_for 20 sh -c "ls -l /proc/*/fd 2>/dev/null | grep -q -- '-> $P/stdout\$'" || not_ok "bash opened stdout"
echo go >&7
exec 7>&-
wait_pid 60 "$RPID"
expect_eq "while read gets every line, then EOF at the exit" "$(cat "$T_TMP/r")" "got a
got b
got c
got d
got e"
P=$M/$X/heads
check "mkproc: the same lines" mk "$P" \
    '{"Path":"/bin/sh","Args":["-c","printf \"a\\\\nb\\\\nc\\\\n\"; sleep 1; echo d"]}'
expect_eq "head -n1; head -n1; cat on one open: each line once, in order" \
    "$(timeout 30 bash -c '{ head -n1; head -n1; cat; } <"$1"' _ "$P/stdout" | tr '\n' ' ')" "a b c d "

# --- tail (no -f) of an exited process: its last lines ---
P=$M/$X/done
check "mkproc seq 1 50" mk "$P" '{"Path":"/usr/bin/seq","Args":["1","50"]}'
timeout 10 cat "$P/wait" >/dev/null
expect_eq "tail -n 3 of an exited process's stdout" "$(timeout 10 tail -n 3 "$P/stdout")" "48
49
50"
expect_eq "a second tail sees them again (kept after being read)" \
    "$(timeout 10 tail -n 2 "$P/stdout")" "49
50"

# --- cp and cat: every byte (the size is no sparse file's), then EOF ---
P=$M/$X/plain
check "mkproc seq 1 20000" mk "$P" '{"Path":"/usr/bin/seq","Args":["1","20000"]}'
timeout 10 cat "$P/wait" >/dev/null
expect_eq "cp stdout copies every byte" \
    "$(timeout 20 cp "$P/stdout" "$T_TMP/cp" && md5sum <"$T_TMP/cp")" "$(seq 1 20000 | md5sum)"
expect_eq "then cat gets EOF: cp read them all" "$(timeout 10 cat "$P/stdout")" ""
P=$M/$X/plain2
check "mkproc seq 1 20000 again" mk "$P" '{"Path":"/usr/bin/seq","Args":["1","20000"]}'
expect_eq "cat stdout is exactly seq 1 20000" "$(timeout 20 cat "$P/stdout" | md5sum)" \
    "$(seq 1 20000 | md5sum)"
# --- another server's process: tail -f through this mount follows it live too ---
start_server B -j "$A_URL"
both_listed() { ls "$A_MNT" | grep -qx "$B_ID" && ls "$B_MNT" | grep -qx "$A_ID"; }
check "B joins A" wait_for 30 both_listed
P=$M/$B_ID/remote		# B's process, seen through A's mount
check "mkproc on B from A: a line a second, then waits on stdin" mk "$P" \
    '{"Path":"/bin/sh","Args":["-c","read go; for i in 1 2 3; do echo rline$i; sleep 1; done; echo roops >&2; read end; echo rbye"]}'
exec 7>"$P/stdin"
cat "$P/stdout" >"$T_TMP/rc" &
CPID=$!
T_PIDS+=("$CPID")
wait_for 20 opened "$CPID" "$P/stdout" || not_ok "cat opened the remote stdout"
follow "$P/stdout" "$T_TMP/rt"
TPID1=$TPID
follow "$P/stderr" "$T_TMP/re" -F
TPID2=$TPID
echo go >&7
check "tail -f of a remote stdout shows the lines as they come" wait_for 30 has "$T_TMP/rt" "rline1
rline2
rline3"
check "tail -F of a remote stderr too" wait_for 30 has "$T_TMP/re" "roops"
expect_eq "while the remote process still runs" "$(phase "$P")" '"Phase": "running"'
check "and cat beside it has them too" wait_for 30 has "$T_TMP/rc" "rline1
rline2
rline3"
expect_eq "stat through A reports the bytes B's process produced" \
    "$(stat -c %s "$P/stdout")" "21"
echo end >&7
exec 7>&-
check "and what comes after" wait_for 30 has "$T_TMP/rt" "rline1
rline2
rline3
rbye"
wait_pid 30 "$CPID"
expect_eq "cat of the remote stdout ends at the exit" "$?" "0"
expect_eq "cat got every byte once, in order" "$(cat "$T_TMP/rc")" "rline1
rline2
rline3
rbye"
TPID=$TPID1 unfollow
TPID=$TPID2 unfollow
expect_eq "remote tail -f said nothing on stderr" "$(cat "$T_TMP/rt.err" "$T_TMP/re.err")" ""
P=$M/$B_ID/ralone
check "mkproc on B: seq 1 100000, then a last line" mk "$P" \
    '{"Path":"/bin/sh","Args":["-c","read go; seq 1 100000; echo last"]}'
exec 7>"$P/stdin"
follow "$P/stdout" "$T_TMP/rt3"
echo go >&7
exec 7>&-
check "tail -f alone of a remote stdout sees the last line: the process was not held up" \
    wait_for 60 sh -c "tail -n 1 '$T_TMP/rt3' | grep -qx last"
unfollow
expect_eq "and every line before it, once, in order" "$(md5sum <"$T_TMP/rt3")" \
    "$( (seq 1 100000; echo last) | md5sum)"
P=$M/$B_ID/rlines
check "mkproc on B: three lines at once, then two a second apart" mk "$P" \
    '{"Path":"/bin/sh","Args":["-c","read go; printf \"a\\\\nb\\\\nc\\\\n\"; sleep 1; echo d; sleep 1; echo e"]}'
exec 7>"$P/stdin"
timeout 60 bash -c 'while read -r l; do echo "got $l"; done <"$1"' _ "$P/stdout" >"$T_TMP/rr" &
RPID=$!
T_PIDS+=("$RPID")
wait_for 20 sh -c "ls -l /proc/*/fd 2>/dev/null | grep -q -- '-> $P/stdout\$'" || not_ok "bash opened the remote stdout"
echo go >&7
exec 7>&-
wait_pid 60 "$RPID"
expect_eq "remote while read gets every line, then EOF at the exit" "$(cat "$T_TMP/rr")" "got a
got b
got c
got d
got e"
P=$M/$B_ID/rheads
check "mkproc on B: three lines, then one more" mk "$P" \
    '{"Path":"/bin/sh","Args":["-c","printf \"a\\\\nb\\\\nc\\\\n\"; sleep 1; echo d"]}'
expect_eq "remote head -n1; head -n1; cat on one open: each line once, in order" \
    "$(timeout 30 bash -c '{ head -n1; head -n1; cat; } <"$1"' _ "$P/stdout" | tr '\n' ' ')" "a b c d "
P=$M/$B_ID/rplain
check "mkproc on B: seq 1 20000" mk "$P" '{"Path":"/usr/bin/seq","Args":["1","20000"]}'
expect_eq "remote cat stdout is exactly seq 1 20000" "$(timeout 20 cat "$P/stdout" | md5sum)" \
    "$(seq 1 20000 | md5sum)"
check "the server is healthy" server_healthy A
check "so is B" server_healthy B
finish
