#!/usr/bin/env bash
# bench_cluster.sh - three servers on 127.0.0.1: cross-server channel throughput
# through the files and through the CLI (vs a pipe and a raw loopback TCP copy), remote
# `cat peek` latency vs a local one, and one whole `circuit peek` process vs /bin/true.
# min / median / max over repeated runs, baselines measured in the same run, each with
# its target and PASS/MISS (BENCHMARKS.md, issue 3).  Not part of `make test`.
source "$(dirname "$0")/../integration/cluster.sh"
source "$(dirname "$0")/lib.sh"
RUNS=${BENCH_RUNS:-5}
bench_shm

start_cluster 3 chain >/dev/null || { echo "bench_cluster: cluster did not start"; exit 0; }
X=$S3_ID
echo "# bench_cluster: $RUNS runs each, $(nproc) cores; channel on S3, sent via S1, received via S2"

# --- baselines: a pipe, and a raw loopback TCP copy (python3 sockets, 1 MiB writes) ---
SIZE=100000000
head -c $SIZE /dev/urandom >"$SHM/100m"
cat >"$SHM/tcp.py" <<'PY'
import socket, sys, threading
data = open(sys.argv[1], "rb").read()
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
def sink():
    c, _ = srv.accept()
    buf = bytearray(1 << 20)
    while c.recv_into(buf):
        pass
t = threading.Thread(target=sink); t.start()
s = socket.create_connection(srv.getsockname())
mv = memoryview(data)
for i in range(0, len(data), 1 << 20):
    s.sendall(mv[i:i + (1 << 20)])
s.close(); t.join()
PY
# CPU time (user + system, ms) of the three servers, and of this script's children
# reaped so far (cp and cat, or the two CLI processes): where the work goes.  On a
# busy machine it swells less than wall time does, but it swells too: compare figures
# of one run only.
tck=$(getconf CLK_TCK)
srv_ms() { cat "/proc/$S1_PID/stat" "/proc/$S2_PID/stat" "/proc/$S3_PID/stat" | awk -v t="$tck" '{ s += $14 + $15 } END { print int(s * 1000 / t) }'; }
kid_ms() { awk -v t="$tck" '{ print int(($16 + $17) * 1000 / t) }' /proc/$$/stat; }
pipe=() tcp=() chan=() cli=() chan_s=() chan_k=() cli_s=() cli_k=()
mkdir "$S1_MNT/$X/tput"; echo "mkchan 0" >"$S1_MNT/$X/tput/ctl"
for r in $(seq "$RUNS"); do
	pipe+=("$(pipe_mbps "$SHM/100m")")
	t0=$(now_ns); python3 "$SHM/tcp.py" "$SHM/100m"; t1=$(now_ns)
	tcp+=("$(mbps $SIZE $((t1 - t0)))")
	s0=$(srv_ms); k0=$(kid_ms); t0=$(now_ns)
	timeout 60 cat "$S2_MNT/$X/tput/recv" >/dev/null & rp=$!
	timeout 60 cp "$SHM/100m" "$S1_MNT/$X/tput/send"
	wait $rp; t1=$(now_ns)
	chan+=("$(mbps $SIZE $((t1 - t0)))")
	chan_s+=($(( $(srv_ms) - s0 ))); chan_k+=($(( $(kid_ms) - k0 )))
	s0=$(srv_ms); k0=$(kid_ms); t0=$(now_ns)
	timeout 60 "$CIRCUIT" recv -d "$S2_URL" "/$X/tput" >/dev/null & rp=$!
	timeout 60 "$CIRCUIT" send -d "$S1_URL" "/$X/tput" <"$SHM/100m"
	wait $rp; t1=$(now_ns)
	cli+=("$(mbps $SIZE $((t1 - t0)))")
	cli_s+=($(( $(srv_ms) - s0 ))); cli_k+=($(( $(kid_ms) - k0 )))
done
rm -f "$SHM/100m"
P=$(stats_of "${pipe[@]}"); T=$(stats_of "${tcp[@]}")
Q=$(stats_of "${chan[@]}"); L=$(stats_of "${cli[@]}")
row "cross-server cap-0 channel, files" "$Q" "MB/s" "cat | cat pipe" "$P" "MB/s" ">=" 0.5
row "cross-server cap-0 channel, files" "$Q" "MB/s" "raw loopback TCP copy" "$T" "MB/s" ">=" 0.25
row "cross-server cap-0 channel, CLI" "$L" "MB/s" "cat | cat pipe" "$P" "MB/s" ">=" 0.5
row "cross-server cap-0 channel, CLI" "$L" "MB/s" "raw loopback TCP copy" "$T" "MB/s" ">=" 0.25
line "  CPU, the 3 servers (files)" "$(stats_of "${chan_s[@]}")" ms
line "  CPU, cp and cat (files)" "$(stats_of "${chan_k[@]}")" ms
line "  CPU, the 3 servers (CLI)" "$(stats_of "${cli_s[@]}")" ms
line "  CPU, circuit send and recv (CLI)" "$(stats_of "${cli_k[@]}")" ms

# --- remote vs local `cat peek`, N per run, microseconds per cat ---
N=${BENCH_PEEKS:-200}
loc=() rem=()
for r in $(seq "$RUNS"); do
	loc+=("$(us_each "$N" cat "$S3_MNT/$X/peek")")
	rem+=("$(us_each "$N" cat "$S1_MNT/$X/peek")")
done
row "remote cat peek (S1 -> S3)" "$(stats_of "${rem[@]}")" "us" \
	"local cat peek on S3" "$(stats_of "${loc[@]}")" "us" "<=" 2

# --- one whole `circuit peek -d URL /X` process vs /bin/true ---
tru=() cp=()
for r in $(seq "$RUNS"); do
	tru+=("$(us_each 50 /bin/true)")
	cp+=("$(us_each 50 "$CIRCUIT" peek -d "$S1_URL" "/$X")")
done
C=$(stats_of "${cp[@]}")
row "circuit peek -d S1 /S3 (whole process)" "$C" "us" "/bin/true" "$(stats_of "${tru[@]}")" "us" "<=" 3
printf '  figure / target / verdict: %.3g ms / < 10 ms / %s\n' "$(awk -v m="$(med "$C")" 'BEGIN { print m / 1000 }')" \
	"$(verdict "$(med "$C")" "<=" 10000)"
exit 0
