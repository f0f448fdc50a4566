# lib.sh - shared by tests/sim/test_*.sh: run circuit-sim with --check,
# print the figures, and fail the script when the run misses an assertion.
SIM=${CIRCUIT_SIM:-bin/circuit-sim}

# sim_run NAME ARGS... : runs the simulator, prints a summary, exits 1 on a
# failed check (the simulator says which on stderr).
sim_run() {
	local name=$1 out rc
	shift
	echo "-- $name: circuit-sim $*"
	set +e
	out=$("$SIM" "$@" --check)
	rc=$?
	set -e
	echo "$out"
	python3 -c '
import json, sys
r = json.loads(sys.argv[1])
keys = ["nodes", "seconds", "seed", "converged_s", "crashes", "undetected",
        "undetected_pairs", "detect_median_s", "detect_p99_s", "false_deaths", "relisted",
        "datagrams_per_node_s", "bytes_per_node_s", "healed_s", "merged_s",
        "cpu_s"]
print("   " + ", ".join("%s=%s" % (k, r.get(k)) for k in keys))
' "$out"
	if [ $rc -ne 0 ]; then
		echo "FAIL: $name"
		exit 1
	fi
	echo "ok: $name"
}
