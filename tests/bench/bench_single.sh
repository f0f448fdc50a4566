#!/usr/bin/env bash
# bench_single.sh - one server, through its mounted files: channel throughput, tiny
# messages, process round trip, `cat peek` latency, idle RSS and CPU.  Every figure is
# min / median / max over repeated runs, next to its baseline measured in the same run,
# with the target and PASS/MISS (BENCHMARKS.md).  Not part of `make test`.
source "$(dirname "$0")/../integration/lib.sh"
RUNS=${BENCH_RUNS:-5}
BENCH_COL=34 BENCH_ROW=ratio
source "$(dirname "$0")/lib.sh"
bench_shm
# BENCH_ONLY="proc idle" runs only those sections (tput tiny proc peek idle); idle
# always runs last, as it measures the server started first.
only() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }

# the idle server is started first; it is measured after >= 30 s of no operations
start_server IDLE
start_server A
M=$A_MNT; X=$A_ID
IDLE_T0=$(now_ns)
IDLE_TICKS0=$(awk '{ print $14 + $15 }' /proc/"$IDLE_PID"/stat)
echo "# bench_single: $RUNS runs each, $(nproc) cores, server $X"

if only tput; then
# --- 1. channel throughput, cap 0, 100 MB: cp into send, cat recv; vs cat | cat ---
SIZE=100000000
head -c $SIZE /dev/urandom >"$SHM/100m"
C=$M/$X/tput; mkdir "$C"; echo "mkchan 0" >"$C/ctl"
pipe=() chan=()
for r in $(seq "$RUNS"); do
	pipe+=("$(pipe_mbps "$SHM/100m")")
	chan+=("$(chan_mbps "$SHM/100m" "$C/send" "$C/recv")")
done
rm -f "$SHM/100m"
row "cap-0 channel, 100 MB, cp | cat" "$(stats_of "${chan[@]}")" "MB/s" \
	"cat | cat pipe" "$(stats_of "${pipe[@]}")" "MB/s" ">=" 1 0.5

fi

if only tiny; then
# --- 2. tiny messages, cap 16: echo $i > send / cat recv; vs FIFO + /bin/echo ---
N=${BENCH_MSGS:-500}
C=$M/$X/tiny; mkdir "$C"; echo "mkchan 16" >"$C/ctl"
mkfifo "$SHM/fifo"
fifo=() tiny=()
for r in $(seq "$RUNS"); do
	: >"$SHM/fifo.out"
	rm -f "$SHM/stop"
	(while [ ! -e "$SHM/stop" ]; do cat "$SHM/fifo"; done >>"$SHM/fifo.out") & rl=$!
	t0=$(now_ns)
	timeout 60 bash -c "for i in \$(seq $N); do /bin/echo \$i > '$SHM/fifo'; done"
	t1=$(now_ns)
	touch "$SHM/stop"; timeout 5 sh -c ": > '$SHM/fifo'"	# lets the last cat end
	wait $rl
	fifo+=("$(awk -v n=$N -v ns=$((t1 - t0)) 'BEGIN { print n / (ns / 1e9) }')")
	t0=$(now_ns)
	timeout 60 bash -c "for i in \$(seq $N); do cat '$C/recv'; done" >"$SHM/tiny.out" & rp=$!
	timeout 60 bash -c "for i in \$(seq $N); do echo \$i > '$C/send'; done"
	wait $rp
	t1=$(now_ns)
	tiny+=("$(awk -v n=$N -v ns=$((t1 - t0)) 'BEGIN { print n / (ns / 1e9) }')")
	[ "$(wc -l <"$SHM/tiny.out")" -eq "$N" ] || echo "  (tiny messages: received $(wc -l <"$SHM/tiny.out") of $N)"
done
row "tiny messages, cap 16, $N each" "$(stats_of "${tiny[@]}")" "msg/s" \
	"FIFO + /bin/echo" "$(stats_of "${fifo[@]}")" "msg/s" ">=" 1

# --- 2b. what one tiny message costs a reader, by the size it asks for (issue 8: a
# read's cost must follow the bytes returned): open, read to EOF, close in one process,
# 4 KiB reads vs 1 MiB reads (what cat asks for, st_blksize), each with a fresh buffer
# as a new cat has; vs the same on a tmpfs file ---
python3 - "$C" "$SHM" "${BENCH_MSGS:-300}" <<'PY'
import mmap, os, sys, time
d, shm, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
open(shm + "/tiny.file", "w").write("abc\n")
def one(path, size, send):
    t = 0.0
    for _ in range(n):
        if send:
            fd = os.open(d + "/send", os.O_WRONLY); os.write(fd, b"abc\n"); os.close(fd)
        t0 = time.perf_counter()
        fd = os.open(path, os.O_RDONLY)
        buf = mmap.mmap(-1, size)
        while os.readv(fd, [buf]):
            pass
        buf.close()
        os.close(fd)
        t += time.perf_counter() - t0
    return t / n * 1e6
for size in (4096, 1 << 20):
    us = one(d + "/recv", size, True)
    base = one(shm + "/tiny.file", size, False)
    print("%-34s %8.0f us per message (tmpfs file: %.0f us, %+.0f us)" % (
        "  reader, %s reads" % ("4 KiB" if size == 4096 else "1 MiB"), us, base, us - base))
PY

fi

if only proc; then
# --- 3. process round trip from bash: mkdir, mkproc /bin/true, cat wait, rmdir; vs
# sh -c true (issue 8: <= 3 x) and vs the bash floor: the same mkdir, echo >, cat,
# rmdir on tmpfs plus one /bin/true (BENCHMARKS.md: <= 1.3 x) ---
N=${BENCH_PROCS:-100}
base=() cyc=() floor=()
mkdir "$SHM/d"
for r in $(seq "$RUNS"); do
	t0=$(now_ns)
	for i in $(seq "$N"); do
		a=$SHM/d/p$i
		mkdir "$a"
		echo 'mkproc {"Path":"/bin/true"}' >"$a.ctl"
		cat "$a.ctl" >/dev/null
		rmdir "$a"
		/bin/true
	done
	t1=$(now_ns); floor+=("$(( (t1 - t0) / N / 1000 ))")
	rm -f "$SHM"/d/*.ctl
	base+=("$(us_each "$N" sh -c true)")
	t0=$(now_ns)
	for i in $(seq "$N"); do
		a=$M/$X/p$i
		mkdir "$a"
		echo 'mkproc {"Path":"/bin/true"}' >"$a/ctl"
		cat "$a/wait" >/dev/null
		rmdir "$a"
	done
	t1=$(now_ns); cyc+=("$(( (t1 - t0) / N / 1000 ))")
done
Q=$(stats_of "${cyc[@]}")
row "process round trip" "$Q" "us" "sh -c true" "$(stats_of "${base[@]}")" "us" "<=" 3
# BENCHMARKS.md's baseline for the same figure: the bash floor.
row "  the same, vs the bash floor" "$Q" "us" "bash floor (tmpfs + /bin/true)" "$(stats_of "${floor[@]}")" "us" "<=" 1.3

fi

if only peek; then
# --- 4. cat peek latency vs cat of a tmpfs file ---
N=${BENCH_PEEKS:-300}
cat "$M/$X/peek" >"$SHM/peek.copy"
base=() pk=()
for r in $(seq "$RUNS"); do
	base+=("$(us_each "$N" cat "$SHM/peek.copy")")
	pk+=("$(us_each "$N" cat "$M/$X/peek")")
done
row "cat peek" "$(stats_of "${pk[@]}")" "us" "cat of a tmpfs file" "$(stats_of "${base[@]}")" "us" "<=" 3
fi

# --- 5. the idle server: RSS and CPU over >= 30 s without operations ---
left=$(( 30 - ( $(now_ns) - IDLE_T0 ) / 1000000000 ))
[ "$left" -gt 0 ] && sleep "$left"
ticks=$(( $(awk '{ print $14 + $15 }' /proc/"$IDLE_PID"/stat) - IDLE_TICKS0 ))
secs=$(awk -v ns=$(( $(now_ns) - IDLE_T0 )) 'BEGIN { print ns / 1e9 }')
rss=$(awk '/^VmRSS/ { print $2 }' /proc/"$IDLE_PID"/status)
cpu=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v s="$secs" 'BEGIN { print 100 * t / hz / s }')
printf '%-34s %d kB (%.2f MiB), target <= 4 MiB: %s\n' "idle server RSS after ${secs%.*} s" "$rss" \
	"$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$(verdict "$rss" "<=" 4096)"
printf '%-34s %.3f %% (%d ticks), target <= 0.1 %%: %s\n' "idle server CPU over ${secs%.*} s" "$cpu" "$ticks" \
	"$(verdict "$cpu" "<=" 0.1)"
printf '%-34s %d kB (after all of the above)\n' "busy server RSS" "$(awk '/^VmRSS/ { print $2 }' /proc/"$A_PID"/status)"
