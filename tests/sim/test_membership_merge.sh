#!/bin/bash
# Two clusters of 500 with 5 % loss merge through one join, within 30 s (~9 s:
# the gossip of many new members at once starts a full-state exchange with one
# of them).
set -e
cd "$(dirname "$0")/../.."
. tests/sim/lib.sh
sim_run merge --nodes 1000 --seconds 100 --seed 14 --loss 0.05 --merge
