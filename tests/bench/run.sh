#!/usr/bin/env bash
# make bench: run every tests/bench/bench_*.sh; each prints figure, target, PASS/MISS.
cd "$(dirname "$0")/../.."
for b in tests/bench/bench_*.sh; do
	[ -e "$b" ] || continue
	echo "== $b"
	bash "$b" || echo "($b failed)"
done
