#!/usr/bin/env bash
# virus.sh - a self-sustaining payload/nucleus pair that moves between hosts.
#
#   examples/virus.sh MOUNT [GENERATIONS]
#
# The nucleus (virus-nucleus.sh, a process) starts a payload on the next server and
# listens to it on a back channel (a circuit channel on its own server); then it
# starts its successor on the payload's server and exits.  Each generation thus
# lives on a different host, carried by nothing but the cluster: the program text
# travels in the process's arguments.  This script starts generation 1 on the first
# server, prints the report each generation sends to a channel here (GENERATIONS
# of them, default 5), and removes the anchors.
set -u
dir=$(dirname "$0")
. "$dir/circuit.sh"
mnt=${1:?usage: virus.sh MOUNT [GENERATIONS]}
gens=${2:-5}
origin=$(servers "$mnt" | head -1)
report=$mnt/$origin/virus/report
text="$(cat "$dir/circuit.sh" "$dir/virus-nucleus.sh")"

cleanup() {
	local x
	for x in $(servers "$mnt"); do
		[ -d "$mnt/$x/virus" ] && rmtree "$mnt/$x/virus"
	done
}
mkdir -p "$report" && ctl "$report" "mkchan $gens" || exit 1
mkproc "$mnt/$origin/virus/nucleus-1" true /bin/bash -c "$text" nucleus \
	"$mnt" "$origin" "$origin" 1 "$gens" || { cleanup; exit 1; }
for _ in $(seq "$gens"); do
	cat "$report/recv" || break
done
cleanup
