# Interrupts: every blocking open or read returns at once on a signal and leaves the
# element consistent; an interrupted receiver loses no message.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_more.sh"
start_target A
M=$A_MNT; X=$A_ID
IR=$(tool intr_read)
peek0() { printf '{"Cap": %s, "Closed": %s, "Aborted": false, "NumSend": %s, "NumRecv": %s, "NumAborted": 0}' "$@"; }
# timed_int SECS CMD...: run CMD under `timeout -s INT SECS`; sets RC and MS (elapsed)
timed_int() {
	local secs=$1 t0; shift
	t0=$(now_ms)
	timeout -k 5 -s INT "$secs" "$@" >/dev/null 2>&1
	RC=$?; MS=$(( $(now_ms) - t0 ))
}

# --- Ctrl-C on cat recv of an empty channel, cap 0 and cap 3 ---
for cap in 0 3; do
	C=$M/$X/c$cap; mkdir "$C"; wr "$C/ctl" "mkchan $cap"
	timed_int 1 cat "$C/recv"
	expect_eq "cap $cap: interrupted recv exits 124" "$RC" 124
	expect_in "cap $cap: and returns at once (ms)" 900 1900 "$MS"
	expect_eq "cap $cap: counters untouched" "$(cat "$C/peek")" "$(peek0 "$cap" false 0 0)"
	timeout 10 bash -c "echo after > '$C/send'" & s=$!
	expect_eq "cap $cap: a later recv gets the next message" "$(timeout 5 cat "$C/recv")" "after"
	wait_pid 5 $s; expect_eq "cap $cap: its sender done" "$?" 0
	expect_eq "cap $cap: counters 1/1" "$(cat "$C/peek")" "$(peek0 "$cap" false 1 1)"
done
# the errno itself is EINTR, on the open
"$IR" "$M/$X/c0/recv" 300 >/dev/null 2>"$T_TMP/ir.err"
expect_eq "open of recv returns EINTR to a handler" "$?:$(cat "$T_TMP/ir.err")" "4:EINTR open"

# --- an interrupted send open (cap 0, nobody receiving) ---
C=$M/$X/c0
timed_int 1 bash -c "echo lost > '$C/send'"
expect_eq "interrupted send exits 124" "$RC" 124
expect_in "and returns at once (ms)" 900 1900 "$MS"
timed_int 0.5 cat "$C/recv"
expect_eq "the interrupted send left nothing behind" "$RC" 124
expect_eq "counters still 1/1" "$(cat "$C/peek")" "$(peek0 0 false 1 1)"

# --- kill -9 of a blocked cat recv ---
expect_eq "kill -9 of a blocked recv is immediate" \
	"$(timeout 5 sh -c 'cat "$1" >/dev/null 2>&1 & p=$!; sleep 0.3; kill -KILL $p; wait $p; echo $?' sh "$C/recv" 2>/dev/null)" 137

# --- a receiver interrupted mid-rendezvous gives the message back ---
# the sender opens (pairing with our receiver), waits 3 s, then writes; the receiver
# is interrupted after 1.5 s in its read, with nothing read yet
# (python can take seconds to start on a loaded machine: the receiver starts only
# once the sender is blocked in its open, so the 1.5 s fall inside its read)
python3 -c '
import os, signal, sys, time
signal.alarm(10)
fd = os.open(sys.argv[1], os.O_WRONLY); time.sleep(3); os.write(fd, b"precious\n"); os.close(fd)' "$C/send" & s=$!
in_open() { read -r nr _ < "/proc/$1/syscall" && [ "$nr" = 257 ]; }
wait_for 20 in_open $s || echo "# the sender never reached its open"
"$IR" "$C/recv" 1500 >"$T_TMP/mid.out" 2>"$T_TMP/mid.err"
expect_eq "the paired receiver is interrupted in read, empty-handed" "$?:$(cat "$T_TMP/mid.err"):$(cat "$T_TMP/mid.out")" "5:EINTR read after 0:"
expect_eq "the next receiver gets the message" "$(timeout 5 cat "$C/recv")" "precious"
wait_pid 5 $s; expect_eq "the sender finished" "$?" 0
expect_eq "counted once" "$(cat "$C/peek")" "$(peek0 0 false 2 2)"

# --- race: receivers interrupted at random moments lose nothing, keep order ---
for cap in 0 2; do
	R=$M/$X/race$cap; mkdir "$R"; wr "$R/ctl" "mkchan $cap"
	timeout 60 bash -c "for i in \$(seq 200); do [ \$((RANDOM % 4)) = 0 ] && sleep 0.00\$((RANDOM % 10)); echo \$i > '$R/send' || exit 1; done; echo close > '$R/ctl'" & s=$!
	: >"$T_TMP/race.out"; nint=0; n=0
	while [ $n -lt 2000 ]; do
		n=$((n + 1))
		"$IR" "$R/recv" "$((RANDOM % 5)).$((RANDOM % 10))" >>"$T_TMP/race.out" 2>"$T_TMP/race.err"
		rc=$?
		[ $rc -ge 4 ] && nint=$((nint + 1))
		if [ $rc -eq 1 ]; then break; fi
	done
	wait_pid 30 $s; expect_eq "cap $cap race: sender done" "$?" 0
	expect_eq "cap $cap race: ended by EPIPE on the closed channel" "$(cat "$T_TMP/race.err")" "open: Broken pipe"
	expect_eq "cap $cap race: 200 messages, once each, in order" "$(tr '\n' ' ' <"$T_TMP/race.out")" "$(seq 200 | tr '\n' ' ')"
	expect_eq "cap $cap race: counters" "$(cat "$R/peek")" "$(peek0 "$cap" true 200 200)"
	echo "# cap $cap race: $nint of $n receivers interrupted"
done

# --- cat wait of a running sleep 100 ---
P=$M/$X/sleeper; mkdir "$P"; wr "$P/ctl" 'mkproc {"Path":"/bin/sleep","Args":["100"]}'
timed_int 1 cat "$P/wait"
expect_eq "interrupted wait exits 124" "$RC" 124
expect_in "and returns at once (ms)" 900 1900 "$MS"
"$IR" "$P/wait" 300 >/dev/null 2>"$T_TMP/w.err"
expect_eq "wait: EINTR to a handler" "$?:$(cat "$T_TMP/w.err")" "4:EINTR open"
expect_eq "the process still runs" "$(json_field "$P/peek" Phase)" '"running"'
# --- a blocked cat stdout ---
timed_int 1 cat "$P/stdout"
expect_eq "interrupted stdout exits 124" "$RC" 124
expect_in "and returns at once (ms)" 900 1900 "$MS"
"$IR" "$P/stdout" 300 >/dev/null 2>"$T_TMP/o.err"
expect_eq "stdout read: EINTR to a handler" "$?:$(cat "$T_TMP/o.err")" "5:EINTR read after 0"
# --- a stdin write blocked by back-pressure ---
timed_int 1 bash -c "head -c 5000000 /dev/zero > '$P/stdin'"
expect_eq "interrupted stdin write exits 124" "$RC" 124
expect_in "and returns at once (ms)" 900 1900 "$MS"
timeout 10 cat "$P/wait" >"$T_TMP/sleeper.wait" & w=$!
sleep 0.3
check "the process can still be signaled" wr "$P/ctl" "signal TERM"
wait_pid 5 $w; expect_eq "and waited for" "$(json_field "$T_TMP/sleeper.wait" Signal)" '"TERM"'
check "rmdir" rmdir "$P"

# --- output written after an interrupted read still arrives ---
P=$M/$X/later; mkdir "$P"; wr "$P/ctl" 'mkproc {"Path":"/bin/cat"}'
timed_int 0.5 cat "$P/stdout"
wr "$P/stdin" "still here"
expect_eq "stdout after an interrupted read" "$(timeout 5 cat "$P/stdout")" "still here"
check "rmdir" rmdir "$P"

check "server still healthy" server_healthy A
finish
