#!/usr/bin/env bash
# bench_security.sh - what the cluster key costs (issue 10): a 100 MB cross-server
# channel with the key and without (-insecure), in the same run, against a pipe; and
# one whole `circuit peek` process (a new connection and its handshake) with and
# without.  Targets: keyed >= 0.6 x keyless and >= 1 x a pipe.  Not part of make test.
source "$(dirname "$0")/../integration/cluster.sh"
RUNS=${BENCH_RUNS:-3}
SHM=$(mktemp -d /dev/shm/circuit-bench.XXXXXX)
trap 'rm -rf "$SHM"; t_cleanup' EXIT

now_ns() { date +%s%N; }
stats() { sort -g | awk '{ v[NR] = $1 } END { printf "%g %g %g\n", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
med() { echo "$1" | awk '{ print $2 }'; }
fmt() { echo "$1" | awk -v u="$2" '{ printf "%8.4g / %8.4g / %8.4g %s", $1, $2, $3, u }'; }
verdict() { awk -v r="$1" -v t="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? r >= t : r <= t; printf "%s", ok ? "PASS" : "MISS" }'; }
ratio() { awk -v a="$(med "$1")" -v b="$(med "$2")" 'BEGIN { print a / b }'; }
mbps() { awk -v b="$1" -v ns="$2" 'BEGIN { print b / (ns / 1e9) / 1e6 }'; }
row() {
	local r; r=$(ratio "$2" "$5")
	printf '%-40s %s\n' "$1" "$(fmt "$2" "$3")"
	printf '%-40s %s\n' "  baseline: $4" "$(fmt "$5" "$6")"
	printf '  figure / target / verdict: %.3g x / %s %s x / %s\n' "$r" "$7" "$8" "$(verdict "$r" "$7" "$8")"
}

start_cluster 2 star K >/dev/null || { echo "bench_security: keyed cluster did not start"; exit 0; }
T_SERVER_FLAGS=-insecure
start_cluster 2 star P >/dev/null || { echo "bench_security: plaintext cluster did not start"; exit 0; }
echo "# bench_security: $RUNS runs each, $(nproc) cores; channel on server 2, sent via 1's mount, received via 2's"
SIZE=100000000
head -c $SIZE /dev/urandom >"$SHM/100m"
mkdir "$K1_MNT/$K2_ID/t" "$P1_MNT/$P2_ID/t"
echo "mkchan 0" >"$K1_MNT/$K2_ID/t/ctl"; echo "mkchan 0" >"$P1_MNT/$P2_ID/t/ctl"
# CPU time (user + system) of a process so far, in ms.  On a busy machine it swells
# less than wall time does, but it swells too: compare figures of one run only.
cpu_ms() { awk -v t="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / t) }' "/proc/$1/stat"; }
# xfer A B PID1 PID2 CPU1 CPU2: 100 MB written into A/send while B/recv reads it; MB/s.
# The CPU the sending server (PID1) and the receiving one (PID2) spent on it is added
# to the arrays named CPU1 and CPU2.
xfer() {
	local t0 t1 rp c1 c2
	c1=$(cpu_ms "$3"); c2=$(cpu_ms "$4")
	t0=$(now_ns)
	timeout 60 cat "$2/recv" >/dev/null & rp=$!
	timeout 60 cp "$SHM/100m" "$1/send"
	wait $rp; t1=$(now_ns)
	eval "$5+=($(( $(cpu_ms "$3") - c1 )))"; eval "$6+=($(( $(cpu_ms "$4") - c2 )))"
	mbps $SIZE $((t1 - t0)) >"$SHM/mbps"
}
pipe=() keyed=() plain=() kc1=() kc2=() pc1=() pc2=()
for r in $(seq "$RUNS"); do
	t0=$(now_ns); cat "$SHM/100m" | cat >/dev/null; t1=$(now_ns)
	pipe+=("$(mbps $SIZE $((t1 - t0)))")
	xfer "$K1_MNT/$K2_ID/t" "$K2_MNT/$K2_ID/t" "$K1_PID" "$K2_PID" kc1 kc2
	keyed+=("$(cat "$SHM/mbps")")
	xfer "$P1_MNT/$P2_ID/t" "$P2_MNT/$P2_ID/t" "$P1_PID" "$P2_PID" pc1 pc2
	plain+=("$(cat "$SHM/mbps")")
done
rm -f "$SHM/100m"
P=$(printf '%s\n' "${pipe[@]}" | stats); KY=$(printf '%s\n' "${keyed[@]}" | stats)
PL=$(printf '%s\n' "${plain[@]}" | stats)
row "cross-server channel, with the key" "$KY" "MB/s" "the same, -insecure" "$PL" "MB/s" ">=" 0.6
row "cross-server channel, with the key" "$KY" "MB/s" "cat | cat pipe" "$P" "MB/s" ">=" 1
# Where the key's cost goes: the servers' CPU per 100 MB.  With the key, the difference
# is the AEAD's work (docs/decisions.md).
cpu_row() { printf '%-40s %s\n' "$1" "$(fmt "$(printf '%s\n' "${@:2}" | stats)" ms)"; }
cpu_row "  sending server's CPU, with the key" "${kc1[@]}"
cpu_row "  sending server's CPU, -insecure" "${pc1[@]}"
cpu_row "  receiving server's CPU, with the key" "${kc2[@]}"
cpu_row "  receiving server's CPU, -insecure" "${pc2[@]}"

# One whole `circuit peek` process: a connection, its handshake, one request.
kp=() pp=()
for r in $(seq "$RUNS"); do
	t0=$(now_ns); for i in $(seq 50); do "$CIRCUIT" peek -d "$K1_URL" "/$K2_ID" >/dev/null; done; t1=$(now_ns)
	kp+=("$(( (t1 - t0) / 50 / 1000 ))")
	t0=$(now_ns); for i in $(seq 50); do "$CIRCUIT" peek -insecure -d "$P1_URL" "/$P2_ID" >/dev/null; done; t1=$(now_ns)
	pp+=("$(( (t1 - t0) / 50 / 1000 ))")
done
KC=$(printf '%s\n' "${kp[@]}" | stats); PC=$(printf '%s\n' "${pp[@]}" | stats)
printf '%-40s %s\n' "circuit peek process, with the key" "$(fmt "$KC" us)"
printf '%-40s %s\n' "circuit peek process, -insecure" "$(fmt "$PC" us)"
printf '  the handshake costs %d us per new connection (medians)\n' "$(( $(med "$KC" | cut -d. -f1) - $(med "$PC" | cut -d. -f1) ))"
exit 0
