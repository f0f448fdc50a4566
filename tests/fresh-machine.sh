#!/usr/bin/env bash
# fresh-machine.sh - prove that `make run` and `make test` each work alone on a fresh
# Debian 12 machine, as the README promises.  Not part of `make test` (it downloads a
# Debian system and then every build dependency: minutes and a few hundred MB).
#
# Run as root on a Debian host with /dev/fuse, from a checkout (its committed HEAD is
# what gets tested):
#
#   apt-get install debootstrap
#   bash tests/fresh-machine.sh [run|test|both]      (default: both)
#
# What it does, so it can be repeated by hand:
#
#   debootstrap --variant=minbase --include=build-essential,git,ca-certificates \
#       bookworm BASE http://deb.debian.org/debian
#   cp -a BASE ROOT; git clone REPO ROOT/src
#   unshare --mount --pid --fork --kill-child: bind ROOT onto itself, /dev, /proc, /sys
#   into it, then
#   chroot ROOT sh -c 'cd /src && make run'    (a server must answer at /circuit)
#   chroot ROOT sh -c 'cd /src && make test'   (in another fresh copy of BASE)
#
# Each stage gets its own copy of the bare system, so neither profits from what the
# other installed.  The mount and PID namespaces end with the script: every process
# and mount made inside goes with them.  BASE is kept in $FRESH_CACHE (default
# /var/tmp/circuit-fresh) to save the download next time; delete it to start over.
# Environment: FRESH_MIRROR (default http://deb.debian.org/debian), FRESH_CACHE, and
# FRESH_TEST, the test stage's command (default: make test; for one suite, e.g.
# FRESH_TEST='make deps && make all && bash tests/integration/test_mount.sh').
set -euo pipefail
what=${1:-both}
case $what in run|test|both) ;; *) echo "usage: $0 [run|test|both]" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "$0: run as root (debootstrap, chroot, mounts)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "$0: apt-get install debootstrap" >&2; exit 2; }
[ -e /dev/fuse ] || { echo "$0: no /dev/fuse (modprobe fuse)" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
mirror=${FRESH_MIRROR:-http://deb.debian.org/debian}
cache=${FRESH_CACHE:-/var/tmp/circuit-fresh}
base=$cache/base
work=$(mktemp -d /var/tmp/circuit-fresh-run.XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT

if [ ! -e "$base/.complete" ]; then
	rm -rf --one-file-system "$base"
	mkdir -p "$cache"
	echo "== debootstrap bookworm (minbase + build-essential + git) into $base"
	debootstrap --variant=minbase --include=build-essential,git,ca-certificates \
		bookworm "$base" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
		{ tail -20 "$cache/debootstrap.log" >&2; exit 1; }
	touch "$base/.complete"
fi

# stage NAME COMMAND: a fresh copy of the base, the committed source, COMMAND inside.
stage() {
	local name=$1 cmd=$2 root=$work/$1
	echo "== $name: fresh copy of the base system"
	cp -a "$base" "$root"
	git clone -q "$repo" "$root/src"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	echo "deb $mirror bookworm main" >"$root/etc/apt/sources.list"
	echo "== $name: $cmd"
	unshare --mount --pid --fork --kill-child --propagation private bash -c '
		set -e
		root=$1
		# The root a mount point of its own, as in any container: tests that
		# unshare with private propagation remount it.
		mount --bind "$root" "$root"
		mount --rbind /dev "$root/dev"
		mount -t proc proc "$root/proc"
		mount --rbind /sys "$root/sys"
		mkdir -p "$root/run" "$root/tmp"
		mount -t tmpfs tmpfs "$root/run"
		exec chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			bash -c "$2"' _ "$root" "$cmd"
}

# make run must end in a server that answers at /circuit; it runs until stopped, so
# the check runs beside it, in a session of its own that Ctrl-C (SIGINT) then ends.
run_check='cd /src && { setsid make run >/tmp/run.log 2>&1 & }; pid=$!
for i in $(seq 1200); do ls /circuit 2>/dev/null | grep -q "^X" && break
	kill -0 $pid 2>/dev/null || break; sleep 0.5; done
if ls /circuit | grep -q "^X" && grep -q . /circuit/help; then
	echo "make run: a server answers at /circuit:"; ls /circuit; status=0
else echo "make run: no server at /circuit; its output:"; tail -30 /tmp/run.log; status=1; fi
kill -INT -- -$pid 2>/dev/null; wait $pid; exit $status'

status=0
if [ "$what" != test ]; then
	if stage run "$run_check"; then echo "fresh-machine: make run OK"
	else echo "fresh-machine: make run FAILED"; status=1; fi
fi
if [ "$what" != run ]; then
	if stage test "cd /src && ${FRESH_TEST:-make test}"; then echo "fresh-machine: make test OK"
	else echo "fresh-machine: make test FAILED"; status=1; fi
fi
exit $status
