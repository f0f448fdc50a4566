#!/bin/bash
# A short combined run (loss, slow nodes, crashes, leaves, restarts, a
# partition and its heal) of the simulator built with AddressSanitizer and
# UBSan: the core's lists and tables must stay sound under churn.
set -e
cd "$(dirname "$0")/../.."
. tests/sim/lib.sh
SIM=${CIRCUIT_SIM_ASAN:-build/circuit-sim-asan}
sim_run asan --nodes 200 --seconds 240 --seed 21 --loss 0.05 --slow 0.1 \
    --crash 2 --leave 1 --restart 1 --partition-at 100 --heal-at 130
