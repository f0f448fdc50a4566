#!/bin/bash
# 1,000 nodes, 5 % loss, split 50/50 for 40 s: once healed, both sides list
# everyone again by themselves (reconnects to dead members).
set -e
cd "$(dirname "$0")/../.."
. tests/sim/lib.sh
sim_run partition --nodes 1000 --seconds 150 --seed 13 --loss 0.05 \
    --partition-at 40 --heal-at 80
