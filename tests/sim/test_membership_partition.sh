#!/bin/bash
# 500 nodes, 5 % loss, split 50/50 for 40 s: once healed, both sides list
# everyone again by themselves (reconnects to dead members) within 30 s, with
# no live node declared dead after the heal and at most 4 datagrams per node
# per second.  (The heal takes ~13 s: the gossip is paced to keep that budget,
# and a full-state exchange brought forward by the revivals completes it; at
# 1,000 nodes it takes ~25 s, with false deaths and over 4 datagrams per node
# per second: see docs/membership.md, "Known limits".)
set -e
cd "$(dirname "$0")/../.."
. tests/sim/lib.sh
sim_run partition --nodes 500 --seconds 200 --seed 13 --loss 0.05 \
    --partition-at 60 --heal-at 100
