# tail -f of a process's stdout and stderr follows the output live while `cat stdout`
# still takes every byte once, in order (docs/decisions.md: stdout and stderr are files
# that grow): the same checks (tail_suite) first for processes of the mounting server,
# then for another server's (the offsets and sizes travel over the wire:
# docs/protocol.md), and a few more for the mounting server's alone.
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

# tail_suite DIR W ON [cat]: the checks run for the processes of the server whose
# directory is DIR.  Anchors and printed words start with W (so that one server's
# processes can never pass for the other's) and check names end with (ON).  With cat,
# a cat beside the first tail -f takes every byte once, in order; without it, what
# tail -f alone was shown counts as read.
tail_suite() {
	local D=$1 w=$2 on=$3 beside=${4:-} P t1 t2 cpid rpid lines
	# --- tail -f from before the first byte: the lines come while the process runs ---
	P=$D/${w}tailf
	lines="${w}line1
${w}line2
${w}line3"
	check "mkproc ($on): waits for a go, prints a line a second, then waits again" mk "$P" \
	    '{"Path":"/bin/sh","Args":["-c","read go; for i in 1 2 3; do echo '"$w"'line$i; sleep 1; done; echo '"$w"'oops >&2; read end; echo '"$w"'bye"]}'
	exec 7>"$P/stdin"
	if [ -n "$beside" ]; then
		cat "$P/stdout" >"$T_TMP/$on.c1" &
		cpid=$!
		T_PIDS+=("$cpid")
		wait_for 20 opened "$cpid" "$P/stdout" || not_ok "cat opened stdout ($on)"
	fi
	follow "$P/stdout" "$T_TMP/$on.t1"
	t1=$TPID
	follow "$P/stderr" "$T_TMP/$on.e1" -F
	t2=$TPID
	echo go >&7
	check "tail -f stdout shows the lines as they come ($on)" wait_for 30 has "$T_TMP/$on.t1" "$lines"
	check "tail -F stderr too ($on)" wait_for 30 has "$T_TMP/$on.e1" "${w}oops"
	expect_eq "while the process still runs ($on)" "$(phase "$P")" '"Phase": "running"'
	[ -z "$beside" ] ||
		check "and cat beside it has them too ($on)" wait_for 30 has "$T_TMP/$on.c1" "$lines"
	expect_eq "stat reports the bytes produced so far ($on)" "$(stat -c %s "$P/stdout")" \
	    "$((${#lines} + 1))"
	echo end >&7
	exec 7>&-
	check "and what comes after ($on)" wait_for 30 has "$T_TMP/$on.t1" "$lines
${w}bye"
	if [ -n "$beside" ]; then
		wait_pid 30 "$cpid"
		expect_eq "cat ends at the process's exit ($on)" "$?" "0"
		expect_eq "cat got every byte once, in order ($on)" "$(cat "$T_TMP/$on.c1")" "$lines
${w}bye"
	else
		check "the process exits ($on)" wait_for 30 sh -c "timeout 5 cat '$P/peek' | grep -q exited"
	fi
	TPID=$t1 unfollow
	TPID=$t2 unfollow
	expect_eq "tail -f said nothing on stderr (no 'file truncated', no 'Illegal seek') ($on)" \
	    "$(cat "$T_TMP/$on.t1.err" "$T_TMP/$on.e1.err")" ""
	[ -n "$beside" ] ||
		expect_eq "what tail -f alone was shown counts as read: cat gets EOF ($on)" \
		    "$(timeout 5 cat "$P/stdout")" ""

	# --- tail -f alone takes what it shows: more than the 256 KiB unread bound goes through ---
	P=$D/${w}alone
	check "mkproc ($on): seq 1 100000 (588,895 bytes), then a last line" mk "$P" \
	    '{"Path":"/bin/sh","Args":["-c","read go; seq 1 100000; echo last"]}'
	exec 7>"$P/stdin"
	follow "$P/stdout" "$T_TMP/$on.t3"
	echo go >&7
	exec 7>&-
	check "tail -f alone sees the last line: the process was not held up ($on)" \
	    wait_for 60 sh -c "tail -n 1 '$T_TMP/$on.t3' | grep -qx last"
	unfollow
	expect_eq "and every line before it, once, in order ($on)" "$(md5sum <"$T_TMP/$on.t3")" \
	    "$( (seq 1 100000; echo last) | md5sum)"

	# --- readers in order that give back what they read past a line (bash's read and
	# head seek back on a seekable file) still wait for the rest ---
	P=$D/${w}lines
	check "mkproc ($on): three lines at once, then two a second apart" mk "$P" \
	    '{"Path":"/bin/sh","Args":["-c","read go; printf \"a\\\\nb\\\\nc\\\\n\"; sleep 1; echo d; sleep 1; echo e"]}'
	exec 7>"$P/stdin"
	timeout 60 bash -c 'while read -r l; do echo "got $l"; done <"$1"' _ "$P/stdout" >"$T_TMP/$on.r" &
	rpid=$!
	T_PIDS+=("$rpid")
	wait_for 20 sh -c "ls -l /proc/*/fd 2>/dev/null | grep -q -- '-> $P/stdout\$'" ||
		not_ok "bash opened stdout ($on)"
	echo go >&7
	exec 7>&-
	wait_pid 60 "$rpid"
	expect_eq "while read gets every line, then EOF at the exit ($on)" "$(cat "$T_TMP/$on.r")" "got a
got b
got c
got d
got e"
	P=$D/${w}heads
	check "mkproc ($on): three lines, then one more" mk "$P" \
	    '{"Path":"/bin/sh","Args":["-c","printf \"a\\\\nb\\\\nc\\\\n\"; sleep 1; echo d"]}'
	expect_eq "head -n1; head -n1; cat on one open: each line once, in order ($on)" \
	    "$(timeout 30 bash -c '{ head -n1; head -n1; cat; } <"$1"' _ "$P/stdout" | tr '\n' ' ')" "a b c d "

	# --- cat: every byte (the size is no sparse file's), then EOF ---
	P=$D/${w}plain
	check "mkproc ($on): seq 1 20000" mk "$P" '{"Path":"/usr/bin/seq","Args":["1","20000"]}'
	expect_eq "cat stdout is exactly seq 1 20000 ($on)" "$(timeout 20 cat "$P/stdout" | md5sum)" \
	    "$(seq 1 20000 | md5sum)"
}

tail_suite "$M/$X" "" local

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

# --- cp: every byte (the size is no sparse file's), then EOF ---
P=$M/$X/cp
check "mkproc seq 1 20000" mk "$P" '{"Path":"/usr/bin/seq","Args":["1","20000"]}'
timeout 10 cat "$P/wait" >/dev/null
expect_eq "cp stdout copies every byte" \
    "$(timeout 20 cp "$P/stdout" "$T_TMP/cp" && md5sum <"$T_TMP/cp")" "$(seq 1 20000 | md5sum)"
expect_eq "then cat gets EOF: cp read them all" "$(timeout 10 cat "$P/stdout")" ""

# --- another server's process: the same checks through this mount, cat beside tail -f ---
start_server B -j "$A_URL"
both_listed() { ls "$A_MNT" | grep -qx "$B_ID" && ls "$B_MNT" | grep -qx "$A_ID"; }
check "B joins A" wait_for 30 both_listed
tail_suite "$M/$B_ID" r remote cat
check "the server is healthy" server_healthy A
check "so is B" server_healthy B
finish
