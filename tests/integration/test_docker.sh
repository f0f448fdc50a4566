# Container elements (mkdkr) on a real docker engine, through files and the CLI: stdio
# streaming, wait with the exit code, signal, peek (the inspect document), scrub and
# Scrub: true (no container left), bad specs and a missing image, no -docker, no engine,
# and the removal of a killed server's containers by the next server started.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_more.sh"
source "$(dirname "$0")/lib_docker.sh"
docker_or_skip
docker_image
start_server A -docker
M=$A_MNT/$A_ID; X=$A_ID
mk() { mkdir -p "$M/$1" && wr "$M/$1/ctl" "mkdkr $2"; }
spec() { printf '{"Image": "%s", "Path": "/bin/sh", "Args": ["-c", "%s"]%s}' "$DKR_IMAGE" "$1" "${2:-}"; }
# jq-like: a field of the JSON document in FILE by a Python expression on d.
none_left() { [ -z "$(docker_left "$1")" ]; }
first_line() { timeout 30 sed -n '1{p;q}' "$1"; }
jget() { timeout 30 cat "$1" | python3 -c "import json, sys; d = json.load(sys.stdin); print($2)"; }

# --- through files: stdin to cat, stdout and stderr, wait with the exit code ---
check "mkdkr through ctl" mk c1 "$(spec 'echo hi; echo oops >&2; cat; exit 7')"
expect_eq "ctl says container" "$(cat "$M/c1/ctl")" "/$X/c1 container"
expect_eq "container files" "$(ls "$M/c1" | tr '\n' ' ')" "ctl error help peek stderr stdin stdout wait "
check "write stdin" wr "$M/c1/stdin" hello
expect_eq "stdout: its output, then cat's" "$(timeout 30 cat "$M/c1/stdout")" "$(printf 'hi\nhello')"
expect_eq "stderr" "$(timeout 30 cat "$M/c1/stderr")" "oops"
expect_eq "wait: inspect document with the exit code" "$(jget "$M/c1/wait" 'd["State"]["Status"], d["State"]["ExitCode"]')" "exited 7"
expect_eq "peek: the inspect document" \
	"$(jget "$M/c1/peek" 'd["Id"][:12] != "", d["Path"], d["Config"]["Labels"]["circuit.server"], d["Config"]["Labels"]["circuit.anchor"]')" \
	"True /bin/sh $X /$X/c1"
id=$(jget "$M/c1/peek" 'd["Id"]')
check "scrub" wr "$M/c1/ctl" scrub
expect_eq "scrub leaves the bare anchor" "$(ls "$M/c1" | tr '\n' ' ')" "ctl error help "
check "scrub removes the container" wait_for 30 none_left "circuit.anchor=/$X/c1"

# --- output streams as it is produced, before stdin closes or the container exits ---
mk c2 "$(spec 'echo first; echo efirst >&2; cat >/dev/null; echo last')"
expect_eq "stdout line while running" "$(first_line "$M/c2/stdout")" "first"
expect_eq "stderr line while running" "$(first_line "$M/c2/stderr")" "efirst"
expect_eq "still running" "$(jget "$M/c2/peek" 'd["State"]["Running"]')" "True"
wr "$M/c2/stdin" ""
expect_eq "the rest after stdin closed" "$(timeout 30 cat "$M/c2/stdout")" "last"
expect_eq "exit code 0" "$(jget "$M/c2/wait" 'd["State"]["ExitCode"]')" "0"

# --- signals: a trapped TERM, then KILL ---
mk c3 "$(spec 'trap \"exit 3\" TERM; echo ready; sleep 300 & wait')"
first_line "$M/c3/stdout" >/dev/null
check "signal TERM" wr "$M/c3/ctl" "signal TERM"
expect_eq "the trap's exit code" "$(jget "$M/c3/wait" 'd["State"]["ExitCode"]')" "3"
expect_fail "signal after exit: ESRCH" "No such process" wr "$M/c3/ctl" "signal TERM"
# A signal right after mkdkr, maybe before the engine has started the container: the
# kill is retried until it runs.
mk c4k "$(spec 'sleep 300')"
check "signal KILL right after mkdkr" wr "$M/c4k/ctl" "signal KILL"
expect_eq "killed at once: 128+9" "$(jget "$M/c4k/wait" 'd["State"]["ExitCode"]')" "137"
mk c4 "$(spec 'sleep 300')"
running() { [ "$(jget "$1/peek" 'd["State"]["Running"]')" = True ]; }
wait_for 60 running "$M/c4"
check "signal 9" wr "$M/c4/ctl" "signal 9"
expect_eq "killed: 128+9" "$(jget "$M/c4/wait" 'd["State"]["ExitCode"]')" "137"
expect_fail "bad signal: EINVAL" "Invalid argument" wr "$M/c4/ctl" "signal NOPE"

# --- scrub of a running container, rmdir, Scrub: true ---
mk c5 "$(spec 'sleep 300')"
check "scrub while running" wr "$M/c5/ctl" scrub
check "rmdir of a container's anchor" mk c6 "$(spec 'sleep 300')"
check "rmdir" rmdir "$M/c6"
mk c7 "$(spec 'exit 0' ', "Scrub": true')"
check "Scrub: true removes the element at exit" wait_for 30 grep -q "c7 empty" "$M/c7/ctl"
for a in c2 c3 c4 c4k; do wr "$M/$a/ctl" scrub; done
check "no container of this server left" wait_for 30 none_left "circuit.server=$X"

# --- spec fields reach the engine ---
mk c8 "{\"Image\": \"$DKR_IMAGE\", \"Memory\": 67108864, \"CpuShares\": 512, \"Dir\": \"/tmp\", \"Env\": [\"K=V w\"], \"Volume\": [\"$T_TMP:/host:ro\"], \"Entry\": \"/bin/sh\", \"Args\": [\"-c\", \"pwd; echo \$K; ls /host/A >/dev/null && echo vol\"]}"
expect_eq "Dir, Env, Volume, Entry" "$(timeout 30 cat "$M/c8/stdout")" "$(printf '/tmp\nV w\nvol')"
expect_eq "Memory, CpuShares" "$(jget "$M/c8/wait" 'd["HostConfig"]["Memory"], d["HostConfig"]["CpuShares"]')" "67108864 512"
wr "$M/c8/ctl" scrub

# --- errors ---
mkdir -p "$M/bad"
expect_fail "missing image: ENOENT" "No such file or directory" wr "$M/bad/ctl" 'mkdkr {"Image": "circuit-no-such-image:0"}'
expect_err_line "with the engine's words" "$M/bad" "No such image: circuit-no-such-image:0"
expect_eq "a failed mkdkr leaves the anchor empty" "$(cat "$M/bad/ctl")" "/$X/bad empty"
expect_fail "Lxc: EINVAL" "Invalid argument" wr "$M/bad/ctl" "mkdkr {\"Image\": \"$DKR_IMAGE\", \"Lxc\": [\"lxc.cgroup.cpuset.cpus = 0\"]}"
expect_err_line "Lxc is refused clearly" "$M/bad" "dropped its LXC driver"
expect_fail "unknown field: EINVAL" "Invalid argument" wr "$M/bad/ctl" "mkdkr {\"Image\": \"$DKR_IMAGE\", \"Cmd\": \"ls\"}"
expect_fail "no Image: EINVAL" "Invalid argument" wr "$M/bad/ctl" 'mkdkr {"Path": "/bin/true"}'
expect_fail "bad JSON: EINVAL" "Invalid argument" wr "$M/bad/ctl" 'mkdkr {"Image": '
expect_fail "Memory not a number: EINVAL" "Invalid argument" wr "$M/bad/ctl" "mkdkr {\"Image\": \"$DKR_IMAGE\", \"Memory\": \"1g\"}"
expect_fail "the engine refuses: EINVAL" "Invalid argument" wr "$M/bad/ctl" "mkdkr {\"Image\": \"$DKR_IMAGE\", \"Memory\": 1000}"
expect_err_line "with the engine's words" "$M/bad" "Minimum memory limit"
expect_fail "an option as Image: EINVAL" "Invalid argument" wr "$M/bad/ctl" 'mkdkr {"Image": "--privileged"}'

# --- the CLI, the seed's example ---
out=$("$CIRCUIT" mkdkr -d "$A_URL" "/$X/docky" <<<"$(spec 'echo hi; cat')" 2>&1)
expect_eq "circuit mkdkr" "$out" ""
echo hello | timeout 30 "$CIRCUIT" stdin -d "$A_URL" "/$X/docky"
expect_eq "circuit stdout" "$(timeout 30 "$CIRCUIT" stdout -d "$A_URL" "/$X/docky")" "$(printf 'hi\nhello')"
expect_eq "circuit wait" "$(timeout 30 "$CIRCUIT" wait -d "$A_URL" "/$X/docky" | python3 -c 'import json, sys; print(json.load(sys.stdin)["State"]["ExitCode"])')" "0"
expect_eq "circuit peek" "$(timeout 30 "$CIRCUIT" peek -d "$A_URL" "/$X/docky" | python3 -c 'import json, sys; print(json.load(sys.stdin)["Config"]["Image"])')" "$DKR_IMAGE"
expect_fail "circuit mkdkr of a missing image" "No such image" "$CIRCUIT" mkdkr -d "$A_URL" "/$X/nope" <<<'{"Image": "circuit-no-such-image:0"}'
check "circuit scrub" "$CIRCUIT" scrub -d "$A_URL" "/$X/docky"

# --- across servers: A's container driven from B's mount; B has no -docker ---
start_server B -j "$A_URL"
wait_for 30 test -e "$B_MNT/$X/help"
R=$B_MNT/$X/remote
mkdir "$R"
check "mkdkr on A through B" wr "$R/ctl" "mkdkr $(spec 'echo hi; cat; exit 5')"
check "stdin through B" wr "$R/stdin" hello
expect_eq "stdout through B" "$(timeout 30 cat "$R/stdout")" "$(printf 'hi\nhello')"
expect_eq "wait through B" "$(jget "$R/wait" 'd["State"]["ExitCode"]')" "5"
check "scrub through B" wr "$R/ctl" scrub

# --- without -docker (B); with no engine (C) ---
mkdir "$B_MNT/$B_ID/d"
expect_fail "without -docker: EOPNOTSUPP" "Operation not supported" wr "$B_MNT/$B_ID/d/ctl" "mkdkr $(spec 'true')"
expect_err_line "says how to enable it" "$B_MNT/$B_ID/d" "start it with -docker"
DOCKER_HOST=unix://$T_TMP/no-engine.sock start_server C -docker
mkdir "$C_MNT/$C_ID/d"
expect_fail "no engine: ECONNREFUSED" "Connection refused" wr "$C_MNT/$C_ID/d/ctl" "mkdkr $(spec 'true')"
expect_err_line "says the engine is not running" "$C_MNT/$C_ID/d" "the docker engine is not running"
# With no docker client on its PATH (the exec helper finds none): EOPNOTSUPP.
mkdir "$T_TMP/nodocker"
printf '#!/bin/sh\nPATH=%s exec %s "$@"\n' "$T_TMP/nodocker" "$CIRCUIT" >"$T_TMP/circuit-nodocker"
chmod +x "$T_TMP/circuit-nodocker"
CIRCUIT=$T_TMP/circuit-nodocker start_server N -docker
mkdir "$N_MNT/$N_ID/d"
expect_fail "no docker client: EOPNOTSUPP" "Operation not supported" wr "$N_MNT/$N_ID/d/ctl" "mkdkr $(spec 'true')"
expect_err_line "says it is not installed" "$N_MNT/$N_ID/d" "the docker command-line client is not installed"
# A PATH whose first entry is inside the server's own mount: the search for docker
# must not stall the server (the exec helper searches after uv_spawn has returned).
printf '#!/bin/sh\nPATH=%s exec %s "$@"\n' "$T_TMP/P/mnt/bin:$PATH" "$CIRCUIT" >"$T_TMP/circuit-mntpath"
chmod +x "$T_TMP/circuit-mntpath"
CIRCUIT=$T_TMP/circuit-mntpath start_server P -docker
mkdir "$P_MNT/$P_ID/d"
check "PATH into its own mount: mkdkr" wr "$P_MNT/$P_ID/d/ctl" "mkdkr $(spec 'exit 4')"
expect_eq "PATH into its own mount: it ran" "$(jget "$P_MNT/$P_ID/d/wait" 'd["State"]["ExitCode"]')" "4"
wr "$P_MNT/$P_ID/d/ctl" scrub

# --- a killed server's containers go when the next one starts ---
start_server D -docker
mk live "$(spec 'sleep 300')"
mkdir "$D_MNT/$D_ID/k"
wr "$D_MNT/$D_ID/k/ctl" "mkdkr $(spec 'sleep 300')"
expect_eq "a container of D runs" "$(docker_left "circuit.server=$D_ID" | wc -l)" "1"
kill -KILL "$D_PID"
wait_for 10 sh -c "! kill -0 $D_PID"
expect_eq "it outlives kill -9 of D" "$(docker_left "circuit.server=$D_ID" | wc -l)" "1"
start_server E -docker
check "the next server removes it" wait_for 60 none_left "circuit.server=$D_ID"
expect_eq "a live server's container survives it" "$(docker_left "circuit.anchor=/$X/live" | wc -l)" "1"
check "E logged it" grep -q "removing container" "$E_ERR"
check "server A healthy" server_healthy A

# --- a clean stop removes the containers it runs (live, still running) ---
check "stop A" stop_server A
check "stopping removed its container" wait_for 30 none_left "circuit.server=$X"
finish
