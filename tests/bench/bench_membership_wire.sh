#!/bin/bash
# bench_membership_wire.sh - real servers on loopback (no mounts), N = 50 and N = 200
# by default (BENCH_MEMBERSHIP_N="50" for one): formation time, idle CPU of the whole
# cluster over 30 s, RSS per server, datagrams per server per second, the time until
# every survivor drops a kill -9ed and a SIGSTOPped server, and false leaves while two
# CPU hogs run (BENCH_HOG_S seconds; default 60 at N < 200 and the issue's 10 minutes,
# 600 s, at N >= 200, so `make bench` takes ~15 minutes).  Figures, not tests: always succeeds.
#
# Beside the idle CPU it prints the floor under it, measured the same way right after:
# N processes of tests/bench/wake_floor.c, each a libuv loop that pings a random other
# one every 750 ms over loopback UDP, as an idle server does, and does nothing else.
# Wake-ups per second (voluntary context switches) are printed for both: on this kind
# of machine the CPU of an idle cluster is the wake-ups, not the work done in them.
#
# The drop times come from the survivors' own logs (each line stamped as it is
# written): polling 49 or 199 servers with `circuit ls` every 0.2 s loaded the two
# cores so much that it measured the pollers (5.7 s for a drop the logs put at 0.1 s).
cd "$(dirname "$0")/../.."
C=$PWD/bin/circuit
[ -x "$C" ] || { echo "bench_membership_wire: bin/circuit not built"; exit 0; }
T=$(mktemp -d /tmp/circuit-bench.XXXXXX)
PIDS=()
HOGS=()
cleanup() {
	local p
	for p in "${HOGS[@]}" "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
	for p in "${HOGS[@]}" "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
now() { echo "$EPOCHREALTIME"; }
# stamp FILE: each line of stdin, prefixed with the time it was read, to FILE.
stamp() { local l; while IFS= read -r l; do echo "$EPOCHREALTIME $l"; done >"$1"; }
cpu_ticks() {	# utime + stime of the given PIDs, in clock ticks
	local p s=0
	for p in "$@"; do
		[ -r /proc/$p/stat ] && s=$((s + $(awk '{print $14 + $15}' /proc/$p/stat)))
	done
	echo $s
}
wakes() {	# voluntary context switches of the given PIDs: the times each slept
	local p s=0
	for p in "$@"; do
		[ -r /proc/$p/status ] &&
		    s=$((s + $(awk '/^voluntary_ctxt_switches/ {print $2}' /proc/$p/status)))
	done
	echo $s
}
FLOOR=""
cc -O2 -o "$T/wake_floor" tests/bench/wake_floor.c $(pkg-config --cflags --libs libuv) \
    2>/dev/null && FLOOR=$T/wake_floor
# floor N: idle CPU and wake-ups of N wake_floor processes over 30 s.
floor() {
	local n=$1 i base=$((20000 + RANDOM % 20000)) c0 c1 x0 x1 w0 w1 hz
	local fp=()
	for i in $(seq 0 $((n - 1))); do "$FLOOR" $base "$n" "$i" & fp+=($!); PIDS+=($!); done
	sleep 5
	c0=$(cpu_ticks "${fp[@]}"); x0=$(wakes "${fp[@]}"); w0=$(now)
	sleep 30
	c1=$(cpu_ticks "${fp[@]}"); x1=$(wakes "${fp[@]}"); w1=$(now)
	hz=$(getconf CLK_TCK)
	echo "membership-wire N=$n floor (wake_floor.c), 30 s          $(echo "scale=2; 100 * ($c1 - $c0) / $hz / ($w1 - $w0)" | bc) % of one core, $(echo "scale=2; ($x1 - $x0) / $n / ($w1 - $w0)" | bc) wake-ups/process/s"
	for i in "${fp[@]}"; do kill -KILL "$i" 2>/dev/null; done
	for i in "${fp[@]}"; do wait "$i" 2>/dev/null; done
}
count_on() { "$C" ls -d "$1" / 2>/dev/null | grep -c .; }
lists() { "$C" ls -d "$1" / 2>/dev/null | grep -q "/$2\$"; }
sent() {
	local v
	v=$("$C" peek -d "$1" "/${1##*/}" 2>/dev/null | grep -o '"sent": [0-9]*' | grep -o '[0-9]*$')
	echo "${v:-0}"
}
# all_dropped ID URLS...: none of the URLs lists ID.
all_dropped() {
	local id=$1 u; shift
	for u in "$@"; do lists "$u" "$id" && return 1; done
	return 0
}

for n in ${BENCH_MEMBERSHIP_N:-50 200}; do
	PIDS=(); URLS=()
	t0=$(now)
	"$C" start -a 127.0.0.1:0 >"$T/out0" 2> >(stamp "$T/err0") & PIDS+=($!)
	for _ in $(seq 100); do grep -q '^circuit://' "$T/out0" && break; sleep 0.05; done
	URLS+=("$(head -1 "$T/out0")")
	for i in $(seq 1 $((n - 1))); do
		"$C" start -a 127.0.0.1:0 -j "${URLS[0]}" >"$T/out$i" 2> >(stamp "$T/err$i") & PIDS+=($!)
	done
	for i in $(seq 1 $((n - 1))); do
		for _ in $(seq 400); do grep -q '^circuit://' "$T/out$i" && break; sleep 0.05; done
		URLS+=("$(head -1 "$T/out$i")")
	done
	formed=""
	for _ in $(seq 600); do
		ok=1
		for u in "${URLS[0]}" "${URLS[$((n / 2))]}" "${URLS[$((n - 1))]}"; do
			[ "$(count_on "$u")" -eq "$n" ] || { ok=0; break; }
		done
		[ $ok -eq 1 ] && { formed=$(echo "$(now) - $t0" | bc); break; }
		sleep 0.1
	done
	echo "membership-wire N=$n formation (3 sampled servers list all)  ${formed:-never} s"
	sleep 5
	# Each server's counter is read at the same offset in both passes, so the
	# time between the ends of the two passes is each server's interval.
	s0=0; for u in "${URLS[@]}"; do s0=$((s0 + $(sent "$u"))); done
	e0=$(now)
	c0=$(cpu_ticks "${PIDS[@]}"); x0=$(wakes "${PIDS[@]}"); w0=$(now)
	sleep 30
	c1=$(cpu_ticks "${PIDS[@]}"); x1=$(wakes "${PIDS[@]}"); w1=$(now)
	s1=0; for u in "${URLS[@]}"; do s1=$((s1 + $(sent "$u"))); done
	e1=$(now)
	hz=$(getconf CLK_TCK)
	echo "membership-wire N=$n idle CPU, whole cluster, 30 s     $(echo "scale=2; 100 * ($c1 - $c0) / $hz / ($w1 - $w0)" | bc) % of one core (target <= 5 % at N=200), $(echo "scale=2; ($x1 - $x0) / $n / ($w1 - $w0)" | bc) wake-ups/server/s; load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "membership-wire N=$n datagrams/server/s (idle)         $(echo "scale=2; ($s1 - $s0) / $n / ($e1 - $e0)" | bc)"
	rss=0; for p in "${PIDS[@]}"; do rss=$((rss + $(awk '/VmRSS/ {print $2}' /proc/$p/status))); done
	echo "membership-wire N=$n RSS per server                    $((rss / n)) KiB"
	# kill -9 the last server; SIGSTOP the one before.
	for sig in KILL STOP; do
		if [ $sig == KILL ]; then k=$((n - 1)); else k=$((n - 2)); fi
		id=${URLS[$k]##*/}
		rest=("${URLS[@]:0:$k}")
		t0=$(now)
		kill -$sig "${PIDS[$k]}"
		# Each survivor logs "member ID (URL) left: why" when it drops the server;
		# wait (at most 30 s) until every survivor has, then check the listings.
		done_t=""
		for _ in $(seq 150); do
			[ "$(grep -l "member $id (.*) left:" "$T"/err* | wc -l)" -ge "${#rest[@]}" ] && break
			sleep 0.2
		done
		if [ "$(grep -l "member $id (.*) left:" "$T"/err* | wc -l)" -ge "${#rest[@]}" ] &&
		    all_dropped "$id" "${rest[@]}"; then
			# The first drop in each survivor's log; the last of those.
			last=$(for f in "$T"/err*; do grep -m1 "member $id (.*) left:" "$f"; done |
			    cut -d' ' -f1 | sort -n | tail -1)
			done_t=$(echo "$last - $t0" | bc)
		fi
		echo "membership-wire N=$n every survivor drops a $sig-ed server  ${done_t:-never} s (target <= 5 s; from the survivors' logs)"
	done
	kill -CONT "${PIDS[$((n - 2))]}" 2>/dev/null
	if [ "$n" -ge 200 ]; then hog=${BENCH_HOG_S:-600}; else hog=${BENCH_HOG_S:-60}; fi
	before=$(cat "$T"/err* | grep -c "left:")
	for _ in 1 2; do (while :; do :; done) & HOGS+=($!); done
	sleep "$hog"
	for p in "${HOGS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; HOGS=()
	after=$(cat "$T"/err* | grep -c "left:")
	echo "membership-wire N=$n member removals during ${hog} s with 2 CPU hogs  $((after - before)) (target 0)"
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	PIDS=()
	[ -n "$FLOOR" ] && floor "$n"
	PIDS=()
done
exit 0
