#!/usr/bin/env bash
# bench_security.sh - what the cluster key costs (issue 10): a 100 MB cross-server
# channel with the key and without (-insecure), in the same run, against a pipe; and
# one whole `circuit peek` process (a new connection and its handshake) with and
# without.  Targets: keyed >= 0.6 x keyless and >= 1 x a pipe.  Not part of make test.
source "$(dirname "$0")/../integration/cluster.sh"
source "$(dirname "$0")/lib.sh"
RUNS=${BENCH_RUNS:-3}
bench_shm

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
	pipe+=("$(pipe_mbps "$SHM/100m")")
	xfer "$K1_MNT/$K2_ID/t" "$K2_MNT/$K2_ID/t" "$K1_PID" "$K2_PID" kc1 kc2
	keyed+=("$(cat "$SHM/mbps")")
	xfer "$P1_MNT/$P2_ID/t" "$P2_MNT/$P2_ID/t" "$P1_PID" "$P2_PID" pc1 pc2
	plain+=("$(cat "$SHM/mbps")")
done
rm -f "$SHM/100m"
P=$(stats_of "${pipe[@]}"); KY=$(stats_of "${keyed[@]}"); PL=$(stats_of "${plain[@]}")
row "cross-server channel, with the key" "$KY" "MB/s" "the same, -insecure" "$PL" "MB/s" ">=" 0.6
row "cross-server channel, with the key" "$KY" "MB/s" "cat | cat pipe" "$P" "MB/s" ">=" 1
# Where the key's cost goes: the servers' CPU per 100 MB.  With the key, the difference
# is the AEAD's work (docs/decisions.md).
cpu_row() { line "$1" "$(stats_of "${@:2}")" ms; }
cpu_row "  sending server's CPU, with the key" "${kc1[@]}"
cpu_row "  sending server's CPU, -insecure" "${pc1[@]}"
cpu_row "  receiving server's CPU, with the key" "${kc2[@]}"
cpu_row "  receiving server's CPU, -insecure" "${pc2[@]}"

# One whole `circuit peek` process: a connection, its handshake, one request.
kp=() pp=()
for r in $(seq "$RUNS"); do
	kp+=("$(us_each 50 "$CIRCUIT" peek -d "$K1_URL" "/$K2_ID")")
	pp+=("$(us_each 50 "$CIRCUIT" peek -insecure -d "$P1_URL" "/$P2_ID")")
done
KC=$(stats_of "${kp[@]}"); PC=$(stats_of "${pp[@]}")
line "circuit peek process, with the key" "$KC" us
line "circuit peek process, -insecure" "$PC" us
printf '  the handshake costs %d us per new connection (medians)\n' "$(( $(med "$KC" | cut -d. -f1) - $(med "$PC" | cut -d. -f1) ))"
exit 0
