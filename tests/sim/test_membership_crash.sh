#!/bin/bash
# 1,000 nodes, 5 % loss: everyone lists everyone after the joins, and every
# crash is seen by every live node, with no live node ever declared dead.
set -e
cd "$(dirname "$0")/../.."
. tests/sim/lib.sh
sim_run crash --nodes 1000 --seconds 300 --seed 11 --loss 0.05 --crash 10
