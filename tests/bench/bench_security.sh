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
pipe=() keyed=() plain=()
for r in $(seq "$RUNS"); do
	pipe+=("$(pipe_mbps "$SHM/100m")")
	keyed+=("$(chan_mbps "$SHM/100m" "$K1_MNT/$K2_ID/t/send" "$K2_MNT/$K2_ID/t/recv")")
	plain+=("$(chan_mbps "$SHM/100m" "$P1_MNT/$P2_ID/t/send" "$P2_MNT/$P2_ID/t/recv")")
done
rm -f "$SHM/100m"
P=$(stats_of "${pipe[@]}"); KY=$(stats_of "${keyed[@]}"); PL=$(stats_of "${plain[@]}")
row "cross-server channel, with the key" "$KY" "MB/s" "the same, -insecure" "$PL" "MB/s" ">=" 0.6
row "cross-server channel, with the key" "$KY" "MB/s" "cat | cat pipe" "$P" "MB/s" ">=" 1

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
