#!/bin/bash
# Two clusters of 500 with 5 % loss merge through one join.
set -e
cd "$(dirname "$0")/../.."
. tests/sim/lib.sh
sim_run merge --nodes 1000 --seconds 100 --seed 14 --loss 0.05 --merge
