# lib.sh - the integration test harness: real servers on 127.0.0.1, real mounts.
#
# Source it from a test script (bash).  It gives:
#   start_server VAR [flags]   start `circuit start -a 127.0.0.1:0 -m DIR $T_SERVER_FLAGS
#                              flags`; sets
#                              VAR_URL, VAR_ID, VAR_MNT, VAR_PID, VAR_ERR (stderr file)
#   start_stoppable VAR [flags] start_server in a session of its own, for a test that
#                              stops it (SIGSTOP)
#   stop_server VAR            SIGTERM it and wait; the mount must go away
#   check NAME CMD...          run CMD; "ok"/"not ok" line; counts failures
#   expect_eq NAME GOT WANT    compare two strings
#   expect_fail NAME ERRTEXT CMD...  CMD must fail and its stderr contain ERRTEXT
#   finish                     exit 1 if anything failed
# Everything started is cleaned up on exit, even on failure: kill by PID (continued
# first, should a test have stopped it), lazy unmount, temp dirs removed.  Every wait
# is bounded.

set -u
BIN=${CIRCUIT_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/bin}
CIRCUIT=$BIN/circuit
T_TMP=$(mktemp -d /tmp/circuit-test.XXXXXX)
# The folder of frames.py, the frame format in Python, for the tests' own Python that
# speaks raw frames: `PYTHONPATH=$T_PY python3 ...` and `from frames import ...`.
T_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T_PIDS=()
# The key every server and CLI of a test uses by default: the user's own (net/key.h).
# Tests that speak raw frames start their servers with T_SERVER_FLAGS=-insecure.
T_KEY=${CIRCUIT_HMAC:-${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.circuit.key}
T_MNTS=()
T_FAILED=0
T_PASSED=0

t_cleanup() {
	local pid m
	for pid in "${T_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
		# A stopped process (a test's frozen server) acts on SIGTERM once continued.
		kill -CONT "$pid" 2>/dev/null
	done
	for pid in "${T_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
	done
	for m in "${T_MNTS[@]}"; do
		if grep -q " $m " /proc/mounts 2>/dev/null; then
			fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		fi
	done
	rm -rf "$T_TMP" 2>/dev/null
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS CMD...: poll CMD every 50 ms until it succeeds or time runs out.
wait_for() {
	local secs=$1; shift
	local n=$((secs * 20))
	for _ in $(seq "$n"); do
		"$@" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# mount_up MNT SECONDS: MNT/help exists, within SECONDS in all.  Each probe is a stat
# bounded by timeout: a stat on a mount whose server does not answer blocks for as long
# as it does not (the kernel waits on FUSE, killably).
mount_up() {
	local end=$((SECONDS + $2))
	while [ "$SECONDS" -lt "$end" ]; do
		timeout -k 1 2 test -e "$1/help" && return 0
		sleep 0.05
	done
	return 1
}

start_server() {
	local var=$1; shift
	local dir="$T_TMP/$var" url pid
	mkdir -p "$dir/mnt"
	${T_LAUNCH:-} "$CIRCUIT" start -a 127.0.0.1:0 -m "$dir/mnt" -var "$dir/var" \
		${T_SERVER_FLAGS:-} "$@" >"$dir/out" 2>"$dir/err" &
	pid=$!
	T_PIDS+=("$pid")
	T_MNTS+=("$dir/mnt")
	if ! wait_for 10 grep -q '^circuit://' "$dir/out"; then
		echo "server $var did not print its URL; stderr:" >&2
		cat "$dir/err" >&2
		exit 1
	fi
	url=$(head -1 "$dir/out")
	if ! mount_up "$dir/mnt" 10; then
		echo "mount of $var did not come up within 10 s (no $dir/mnt/help, or a stat" \
			"of it did not answer within 2 s: the server's loop stalls); stderr:" >&2
		cat "$dir/err" >&2
		exit 1
	fi
	printf -v "${var}_URL" '%s' "$url"
	printf -v "${var}_ID" '%s' "${url##*/}"
	printf -v "${var}_MNT" '%s' "$dir/mnt"
	printf -v "${var}_PID" '%s' "$pid"
	printf -v "${var}_ERR" '%s' "$dir/err"
}

# start_stoppable VAR [flags]: a server that the test freezes with SIGSTOP ("host hung,
# sockets still open") runs in a session of its own (setsid), so that no signal meant
# for the test's shell reaches it; t_cleanup continues it before it waits for its end.
start_stoppable() {
	T_LAUNCH=setsid start_server "$@"
}

stop_server() {
	local var=$1 pid mnt
	pid=${var}_PID; pid=${!pid}
	# A cross-server target (start_target) is owned by a server with a mount of its own.
	mnt=${var}_OWNMNT; mnt=${!mnt:-}
	[ -n "$mnt" ] || { mnt=${var}_MNT; mnt=${!mnt}; }
	kill -TERM "$pid" 2>/dev/null
	wait_for 10 sh -c "! kill -0 $pid" || { echo "server $var did not exit on SIGTERM" >&2; return 1; }
	! grep -q " $mnt " /proc/mounts
}

ok() { T_PASSED=$((T_PASSED + 1)); echo "ok - $1"; }
not_ok() { T_FAILED=$((T_FAILED + 1)); echo "not ok - $1"; [ $# -gt 1 ] && echo "   $2"; return 0; }

check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name" "command failed: $*"; fi
}

expect_eq() {
	if [ "$2" == "$3" ]; then ok "$1"; else
		not_ok "$1" "got: $(printf %q "$2") want: $(printf %q "$3")"
	fi
}

expect_fail() {
	local name=$1 text=$2 err; shift 2
	if err=$("$@" 2>&1 >/dev/null); then
		not_ok "$name" "succeeded, wanted failure '$text': $*"
	elif [[ "$err" == *"$text"* ]]; then
		ok "$name"
	else
		not_ok "$name" "stderr: $err (wanted '$text')"
	fi
}

# server_healthy VAR: the server answers on its mount and is alive.
server_healthy() {
	local pid mnt id
	pid=${1}_PID; pid=${!pid}
	mnt=${1}_MNT; mnt=${!mnt}
	id=${1}_ID; id=${!id}
	kill -0 "$pid" && timeout 5 cat "$mnt/$id/peek" >/dev/null
}

finish() {
	echo "# $T_PASSED passed, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ]
}

# start_target VAR: the server under test of a single-server suite, as VAR (VAR_MNT,
# VAR_ID, VAR_PID...).  With CIRCUIT_CROSS=1 it is a cluster of three instead: the
# elements live on the third server and are driven through the first one's mount, so
# every operation of the suite crosses the network (issue 3: the single-server suite
# run across servers).  VAR_PID is then the owner's, so server_healthy checks it.
start_target() {
	local var=$1 i
	if [ "${CIRCUIT_CROSS:-0}" != 1 ]; then
		start_server "$var"
		return
	fi
	start_server "${var}_1"
	local url=${var}_1_URL
	start_server "${var}_2" -j "${!url}"
	start_server "${var}_3" -j "${!url}"
	local mnt1=${var}_1_MNT id3=${var}_3_ID
	for i in $(seq 200); do
		[ "$(ls "${!mnt1}" | grep -c '^X')" -eq 3 ] && [ -e "${!mnt1}/${!id3}/peek" ] && break
		sleep 0.05
	done
	printf -v "${var}_MNT" '%s' "${!mnt1}"
	printf -v "${var}_ID" '%s' "${!id3}"
	for f in URL PID ERR; do
		local from=${var}_3_$f
		printf -v "${var}_$f" '%s' "${!from}"
	done
	local own=${var}_3_MNT
	printf -v "${var}_OWNMNT" '%s' "${!own}"
}
