# cluster.sh - N servers on 127.0.0.1 joined into one cluster, each mounted.
#
# Source it from a test script (it sources lib.sh, which cleans everything up on
# exit).  It gives:
#   start_cluster N [star|chain] [P]  servers P1..PN (P defaults to S): P1 starts alone,
#                                 each next one joins P1 (star) or the one before it
#                                 (chain); returns once every mount's root lists exactly
#                                 those N (10 s at most), else fails
#   ids_of VAR...                 the XIDs of those servers, sorted, one per line
#   root_of VAR                   the server directories in VAR's root, one per line
#   roots_are WANT VAR...         every listed server's root is exactly WANT
#   jget FILE KEY                 the value of KEY in the JSON object in FILE (python3)
#   start_owner_chain             a chain of three where S3 owns a channel and a process
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ids_of() {
	local v id
	for v in "$@"; do
		id=${v}_ID
		echo "${!id}"
	done | sort
}

root_of() {
	local mnt=${1}_MNT
	ls "${!mnt}" | grep -v '^help$'
}

roots_are() {
	local want=$1 v; shift
	for v in "$@"; do
		[ "$(root_of "$v")" == "$want" ] || return 1
	done
}

start_cluster() {
	local n=$1 shape=${2:-star} p=${3:-S} i to all=()
	start_server "${p}1"
	for i in $(seq 2 "$n"); do
		if [ "$shape" == chain ]; then to=$p$((i - 1))_URL; else to=${p}1_URL; fi
		start_server "$p$i" -j "${!to}"
	done
	for i in $(seq 1 "$n"); do all+=("$p$i"); done
	if ! wait_for 10 roots_are "$(ids_of "${all[@]}")" "${all[@]}"; then
		echo "cluster of $n ($shape) did not converge:" >&2
		for i in $(seq 1 "$n"); do echo "$p$i: $(root_of "$p$i" | tr '\n' ' ')" >&2; done
		return 1
	fi
}

# start_owner_chain: start_cluster 3 chain, then a rendezvous channel ch and a process p
# (sleep 60) on S3, made through S1's mount, for the tests of an owner that dies or
# freezes.  Sets X (S3's XID), A (S3's directory in S1's mount) and child (p's pid).
# It fails only if the cluster does not converge: the checks that follow find the
# rest.  Needs lib_more.sh (wr).
start_owner_chain() {
	start_cluster 3 chain || return 1
	X=$S3_ID
	A=$S1_MNT/$X
	mkdir "$A/ch" && wr "$A/ch/ctl" "mkchan 0"
	mkdir "$A/p" && wr "$A/p/ctl" 'mkproc {"Path":"/bin/sleep","Args":["60"]}'
	child=$(jget "$A/p/peek" Pid)
	return 0
}

jget() {
	timeout 10 python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))[sys.argv[2]]
print(json.dumps(v) if not isinstance(v, str) else v)' "$1" "$2"
}
