# lib_docker.sh - what the container tests and bench share (source after lib.sh).
#   docker_or_skip          exit 0 with "skipped: no docker engine" when no engine answers
#   docker_image            make the local test image $DKR_IMAGE: a `docker import` of a
#                           rootfs holding Debian's busybox-static (there is no registry
#                           here), tagged with this run's PID so that runs that overlap
#                           (a test and bench_docker) never remove each other's; removed
#                           at exit
#   docker_left LABEL=VAL   IDs of the containers (any state) carrying that label
DKR_IMAGE=circuit-test-busybox:run$$

docker_or_skip() {
	if ! timeout 20 docker info >/dev/null 2>&1; then
		echo "skipped: no docker engine (start one with .ci/docker-engine)"
		exit 0
	fi
}

docker_image() {
	local bb root
	timeout 20 docker image inspect "$DKR_IMAGE" >/dev/null 2>&1 && return 0
	bb=$(command -v busybox || true)
	if [ -z "$bb" ] || ! ldd "$bb" 2>&1 | grep -q 'not a dynamic'; then
		echo "no static busybox: apt-get install busybox-static" >&2
		exit 1
	fi
	root=$T_TMP/rootfs
	mkdir -p "$root/bin" "$root/tmp"
	cp "$bb" "$root/bin/busybox"
	for c in sh cat echo true false sleep ls env pwd kill; do ln -s busybox "$root/bin/$c"; done
	tar -C "$root" -c . | timeout 60 docker import - "$DKR_IMAGE" >/dev/null || {
		echo "docker import of the test image failed" >&2; exit 1; }
	T_DKR_IMAGE_MADE=1
}

docker_left() {
	timeout 20 docker ps -a -q --filter "label=$1"
}

t_docker_cleanup() {
	t_cleanup
	[ "${T_DKR_IMAGE_MADE:-0}" = 1 ] && timeout 30 docker rmi -f "$DKR_IMAGE" >/dev/null 2>&1
	return 0
}
trap t_docker_cleanup EXIT
