#!/bin/bash
# Everything at once, over five seeds: 300 nodes, 5 % loss, 10 % slow nodes,
# crashes, clean leaves and restarts, and a 50/50 partition from 150 s to
# 210 s.  Each run must show every departure seen by every live node, no live
# node ever declared dead (not even after the heal), no crashed member listed
# again, the heal within 30 s, detection p99 (per observer and crash) within
# 5 s and at most 4 datagrams per node per second over the whole run.
set -e
cd "$(dirname "$0")/../.."
. tests/sim/lib.sh
for seed in 1 2 3 4 5; do
	sim_run "combined seed $seed" --nodes 300 --seconds 400 --seed $seed \
	    --loss 0.05 --slow 0.1 --crash 6 --leave 3 --restart 3 \
	    --partition-at 150 --heal-at 210
done
