# lib.sh - the harness every tests/bench/bench_*.sh shares: clocks, min / median / max,
# the figure-and-baseline rows with PASS/MISS, and the timed loops the scripts repeat.
# Source it after tests/integration/lib.sh (or cluster.sh) when servers are started.
#
#   bench_shm                   SHM = a fresh folder in /dev/shm, removed on exit along
#                               with everything tests/integration/lib.sh started
#   now_ns                      the clock, in nanoseconds
#   stats_of N...               "min median max" of the numbers N...
#   med STATS                   the median of a "min median max"
#   fmt STATS UNIT              "min / median / max UNIT", each 4 significant digits
#   verdict RATIO OP TARGET     PASS if RATIO OP TARGET (OP is >= or <=), else MISS
#   ratio STATS1 STATS2         the ratio of the two medians
#   mbps BYTES NS               megabytes per second
#   us_each N CMD...            runs CMD N times, its output thrown away; microseconds
#                               per run
#   pipe_mbps FILE              FILE through `cat | cat`; MB/s
#   chan_mbps FILE SEND RECV    FILE copied into the channel file SEND while RECV is
#                               read to the end; MB/s
#   line NAME STATS UNIT        a figure: the name in a column BENCH_COL wide (40
#                               unless the script sets it), then fmt
#   row NAME STATS UNIT BASE-NAME BASE-STATS UNIT2 OP TARGET [FLOOR]
#                               a figure, its baseline, and the ratio of the medians
#                               against its target: as "figure / target / verdict", or
#                               with BENCH_ROW=ratio as "ratio (medians) ..., target ...",
#                               then the issue's floor when given

BENCH_COL=${BENCH_COL:-40}
BENCH_ROW=${BENCH_ROW:-verdict}

bench_shm() {
	SHM=$(mktemp -d /dev/shm/circuit-bench.XXXXXX)
	trap 'rm -rf "$SHM"; t_cleanup' EXIT
}

now_ns() { date +%s%N; }
stats_of() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%g %g %g\n", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
med() { echo "$1" | awk '{ print $2 }'; }
fmt() { echo "$1" | awk -v u="$2" '{ printf "%8.4g / %8.4g / %8.4g %s", $1, $2, $3, u }'; }
verdict() { awk -v r="$1" -v t="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? r >= t : r <= t; printf "%s", ok ? "PASS" : "MISS" }'; }
ratio() { awk -v a="$(med "$1")" -v b="$(med "$2")" 'BEGIN { print (b > 0) ? a / b : 0 }'; }
mbps() { awk -v b="$1" -v ns="$2" 'BEGIN { print b / (ns / 1e9) / 1e6 }'; }

us_each() {
	local n=$1 t0 t1 i
	shift
	t0=$(now_ns)
	for i in $(seq "$n"); do "$@" >/dev/null; done
	t1=$(now_ns)
	echo $(( (t1 - t0) / n / 1000 ))
}

pipe_mbps() {
	local t0 t1
	t0=$(now_ns)
	cat "$1" | cat >/dev/null
	t1=$(now_ns)
	mbps "$(stat -c %s "$1")" $((t1 - t0))
}

chan_mbps() {
	local t0 t1 rp
	t0=$(now_ns)
	timeout 60 cat "$3" >/dev/null & rp=$!
	timeout 60 cp "$1" "$2"
	wait $rp
	t1=$(now_ns)
	mbps "$(stat -c %s "$1")" $((t1 - t0))
}

line() { printf '%-*s %s\n' "$BENCH_COL" "$1" "$(fmt "$2" "$3")"; }

row() {
	local r
	r=$(ratio "$2" "$5")
	line "$1" "$2" "$3"
	line "  baseline: $4" "$5" "$6"
	if [ "$BENCH_ROW" = ratio ]; then
		printf '  ratio (medians) %.3g x, target %s %s x: %s' "$r" "$7" "$8" "$(verdict "$r" "$7" "$8")"
		[ -n "${9:-}" ] && printf ', issue floor %s %s x: %s' "$7" "$9" "$(verdict "$r" "$7" "$9")"
		echo
	else
		printf '  figure / target / verdict: %.3g x / %s %s x / %s\n' "$r" "$7" "$8" "$(verdict "$r" "$7" "$8")"
	fi
}
