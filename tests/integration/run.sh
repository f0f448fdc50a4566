#!/usr/bin/env bash
# Run integration test scripts, each with a time limit; print one summary line.
cd "$(dirname "$0")/../.."
passed=0 failed=0 failures=()
for t in "$@"; do
	echo "== $t${CIRCUIT_CROSS:+ (across servers)}"
	if timeout -k 10 600 bash "$t"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1)); failures+=("$t")
	fi
done
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "integration${CIRCUIT_CROSS:+ across servers}: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
