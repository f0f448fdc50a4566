#!/usr/bin/env bash
# bench_dns.sh - queries per second of one DNS element against NSD (Debian's nsd, one
# server process) serving the same zone, both driven by dnsperf with the same query
# list, alternating, in the same run.  Target: at least 0.5 x NSD.  Skips with a
# message when nsd or dnsperf is missing (bench-only tools: apt-get install nsd dnsperf).
source "$(dirname "$0")/../integration/lib.sh"
BENCH_COL=34
source "$(dirname "$0")/lib.sh"
RUNS=${BENCH_RUNS:-3}
SECS=${BENCH_DNS_SECS:-5}
NAMES=${BENCH_DNS_NAMES:-1000}
NSD=$(command -v nsd || ls /usr/sbin/nsd 2>/dev/null)
PERF=$(command -v dnsperf)
if [ -z "$NSD" ] || [ -z "$PERF" ]; then
	echo "# bench_dns: skipped: needs nsd and dnsperf (apt-get install nsd dnsperf)"
	exit 0
fi
NSD_PID=
trap '[ -n "$NSD_PID" ] && kill "$NSD_PID" 2>/dev/null; t_cleanup' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --- the zone: an SOA, an NS, NAMES A records; queries: hits, NODATA, NXDOMAIN ---
Z=$T_TMP/zone
{
	echo "bench.example. 3600 IN SOA ns.bench.example. admin.bench.example. 1 3600 600 86400 60"
	echo "bench.example. 3600 IN NS ns.bench.example."
	echo "ns.bench.example. 3600 IN A 10.0.0.53"
	for i in $(seq "$NAMES"); do
		echo "host$i.bench.example. 3600 IN A 10.$((i / 65536 % 256)).$((i / 256 % 256)).$((i % 256))"
	done
} >"$Z"
for i in $(seq "$NAMES"); do
	echo "host$i.bench.example. A"
	[ $((i % 10)) -eq 0 ] && echo "host$i.bench.example. AAAA"
	[ $((i % 10)) -eq 5 ] && echo "nohost$i.bench.example. A"
done >"$T_TMP/queries"

# --- the element ---
start_server A
D=$A_MNT/$A_ID/dns
mkdir "$D"
echo "mkdns 127.0.0.1:0" >"$D/ctl"
while read -r rr; do printf 'set %s\n' "$rr" >"$D/ctl" || exit 1; done <"$Z"
EPORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Address"].rsplit(":", 1)[1])' "$D/peek")

# --- NSD, one server process, the same zone ---
NPORT=$(free_port)
mkdir -p "$T_TMP/nsd"
cp "$Z" "$T_TMP/nsd/bench.zone"
cat >"$T_TMP/nsd/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1
	port: $NPORT
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: "$T_TMP/nsd"
	database: ""
	zonelistfile: "$T_TMP/nsd/zone.list"
	xfrdfile: "$T_TMP/nsd/xfrd.state"
	pidfile: "$T_TMP/nsd/nsd.pid"
	logfile: "$T_TMP/nsd/nsd.log"
	verbosity: 0
	# Debian's NSD limits responses to 200/s per client network by default (RRL):
	# off, or it measures the limit, not the server.
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
remote-control:
	control-enable: no
zone:
	name: bench.example.
	zonefile: bench.zone
EOF
"$NSD" -d -c "$T_TMP/nsd/nsd.conf" >"$T_TMP/nsd/out" 2>&1 &
NSD_PID=$!
wait_for 10 sh -c "dig @127.0.0.1 -p $NPORT +time=1 +tries=1 +short host1.bench.example. A | grep -q 10.0.0.1" ||
	{ echo "# bench_dns: nsd did not come up:"; cat "$T_TMP/nsd/out" "$T_TMP/nsd/nsd.log" 2>/dev/null; exit 1; }
expect_same=$(dig @127.0.0.1 -p "$EPORT" +short host7.bench.example. A)
[ "$expect_same" = "10.0.0.7" ] || { echo "# bench_dns: the element does not answer ($expect_same)"; exit 1; }

# qps PORT: one dnsperf run against 127.0.0.1:PORT; prints queries per second
qps() {
	timeout $((SECS + 30)) "$PERF" -s 127.0.0.1 -p "$1" -d "$T_TMP/queries" -l "$SECS" \
		-c 4 -q 200 2>&1 | tee -a "$T_TMP/perf.log" |
		awk '/Queries per second:/ { print $4 }'
}
echo "# bench_dns: $RUNS runs of ${SECS}s each, $(nproc) cores, $NAMES names, dnsperf -c 4 -q 200"
ele=() nsd=()
for r in $(seq "$RUNS"); do
	nsd+=("$(qps "$NPORT")")
	ele+=("$(qps "$EPORT")")
done
E=$(stats_of "${ele[@]}"); N=$(stats_of "${nsd[@]}")
lost=$(awk '/Queries lost:/ { print $3 }' "$T_TMP/perf.log" | sort -n | tail -1)
r=$(ratio "$E" "$N")
line "DNS element, UDP queries" "$E" "q/s"
line "  baseline: NSD 4, one process" "$N" "q/s"
printf '  ratio (medians) %.3g x, target >= 0.5 x: %s (most queries lost in one run: %s)\n' "$r" \
	"$(verdict "$r" ">=" 0.5)" "${lost:-0}"
[ -n "${BENCH_VERBOSE:-}" ] && cat "$T_TMP/perf.log" "$T_TMP/nsd/nsd.log"
exit 0
