#!/bin/bash
# 1,000 nodes, 5 % loss, 10 % slow nodes (each datagram delayed up to 300 ms
# at a slow node) for 1,800 simulated seconds: zero false deaths, and the
# crashes in between are still detected by everyone.
set -e
cd "$(dirname "$0")/../.."
. tests/sim/lib.sh
sim_run slow --nodes 1000 --seconds 1800 --seed 12 --loss 0.05 --slow 0.1 \
    --crash 10
