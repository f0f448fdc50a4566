#!/usr/bin/env bash
# wait-all.sh - run a job on every server of the cluster and wait for all of them.
#
#   examples/wait-all.sh MOUNT [COMMAND]
#
# Starts COMMAND (/bin/sh -c; default: a line naming the host) as a process on every
# live server at XID/wait-all.PID, all at once; then waits for each, prints its
# output and how it ended, and removes the anchors.  Exit status 0 when every job
# exited 0.
set -u
. "$(dirname "$0")/circuit.sh"
mnt=${1:?usage: wait-all.sh MOUNT [COMMAND]}
cmd=${2:-'echo "hello from $(uname -n), server $0"'}
run=wait-all.$$
jobs=() status=0

for x in $(servers "$mnt"); do
	# $0 of the job is its server's XID.
	if mkproc "$mnt/$x/$run" false /bin/sh -c "$cmd" "$x"; then
		jobs+=("$x")
	else
		echo "$x: cannot start: $(cat "$mnt/$x/$run/error")" >&2
		status=1
	fi
done
for x in "${jobs[@]}"; do
	out=$(cat "$mnt/$x/$run/stdout")
	end=$(cat "$mnt/$x/$run/wait")
	code=$(json_field "$end" ExitCode)
	printf '%s: %s (%s)\n' "$x" "$out" "$(json_field "$end" Exit)"
	[ "$code" = 0 ] || status=1
	rmdir "$mnt/$x/$run"
done
exit $status
