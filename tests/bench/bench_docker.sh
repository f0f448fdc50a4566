#!/usr/bin/env bash
# bench_docker.sh - the container cycle through the mount (mkdkr /bin/true, cat wait,
# scrub) against `docker run --rm` of the same image, measured in the same run.  The
# cycle's clock stops when scrub returns; the removal it starts (docker rm -f) runs
# on, so a second figure also waits until the container is gone from `docker ps -a`.
# Figures are min / median / max; there is no target in BENCHMARKS.md, so the ratio
# is shown against 2 x (informational).  Not part of `make test`.
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/../integration/lib_docker.sh"
source "$(dirname "$0")/lib.sh"
RUNS=${BENCH_RUNS:-10}
docker_or_skip
docker_image
gone() { [ -z "$(docker_left "circuit.anchor=$1")" ]; }

start_server A -docker
M=$A_MNT/$A_ID
echo "# bench_docker: $RUNS runs each, $(nproc) cores, server $A_ID, image $DKR_IMAGE"
run=() cyc=() full=()
for r in $(seq "$RUNS"); do
	t0=$(now_ns)
	timeout 60 docker run --rm "$DKR_IMAGE" /bin/true
	t1=$(now_ns); run+=("$(( (t1 - t0) / 1000000 ))")
	mkdir "$M/c$r"
	t0=$(now_ns)
	printf 'mkdkr {"Image": "%s", "Path": "/bin/true"}\n' "$DKR_IMAGE" >"$M/c$r/ctl"
	timeout 60 cat "$M/c$r/wait" >/dev/null
	echo scrub >"$M/c$r/ctl"
	t1=$(now_ns); cyc+=("$(( (t1 - t0) / 1000000 ))")
	wait_for 60 gone "/$A_ID/c$r"
	t2=$(now_ns); full+=("$(( (t2 - t0) / 1000000 ))")
done
R=$(stats_of "${run[@]}"); C=$(stats_of "${cyc[@]}"); F=$(stats_of "${full[@]}")
r=$(ratio "$C" "$R")
line "container cycle (mkdkr, wait, scrub)" "$C" ms
line "  ... until the container is gone" "$F" ms
line "  baseline: docker run --rm" "$R" ms
printf '  ratio (medians) %.3g x (until gone %.3g x), target <= 2 x: %s\n' "$r" "$(ratio "$F" "$R")" \
	"$(verdict "$r" "<=" 2)"
