# mount.circuit and the server's mount life cycle: daemonize, errors, umount,
# stale mounts left by a killed server.
source "$(dirname "$0")/lib.sh"
M=$T_TMP/m
mkdir -p "$M"
LOG=$T_TMP/mount.log

url=$("$BIN/mount.circuit" "$M" -o "log=$LOG,a=127.0.0.1:0,rw,nosuid")
check "mount.circuit prints the URL" test "${url#circuit://127.0.0.1:}" != "$url"
T_MNTS+=("$M")
pid=$(pgrep -f "circuit start -m $M" | head -1)
[ -n "$pid" ] && T_PIDS+=("$pid")
check "the mount answers at once" test -e "$M/help"
expect_eq "the root lists the server" "$(ls "$M" | grep ^X)" "${url##*/}"
expect_fail "mounting twice is refused" "already mounted" "$BIN/mount.circuit" "$M"
expect_fail "a missing directory is refused" "No such file or directory" "$BIN/mount.circuit" "$T_TMP/nope"
expect_fail "an unknown option is refused" "unknown option" "$BIN/mount.circuit" "$T_TMP" -o bogus=1
check "umount stops the server" umount "$M"
check "the server exits after umount" wait_for 10 sh -c "! kill -0 $pid"

# A server killed with -9 leaves a stale mount; the next start clears it.
"$CIRCUIT" start -m "$M" >"$T_TMP/out" 2>"$T_TMP/err" &
pid=$!
T_PIDS+=("$pid")
check "a server mounts" wait_for 60 grep -q '^circuit://' "$T_TMP/out"
kill -9 "$pid"
wait_for 10 sh -c "! kill -0 $pid"
expect_fail "the stale mount is dead" "not connected" ls "$M"
"$CIRCUIT" start -m "$M" >"$T_TMP/out2" 2>"$T_TMP/err2" &
pid=$!
T_PIDS+=("$pid")
# The URL is printed once the mount is up: the readiness signal (slow under ASan).
check "a new server mounts over the stale mount" wait_for 60 grep -q '^circuit://' "$T_TMP/out2"
check "its mount answers" test -e "$M/help"
check "and says it cleared it" grep -q "cleared a stale mount" "$T_TMP/err2"
kill -TERM "$pid"
check "SIGTERM unmounts" wait_for 10 sh -c "! grep -q ' $M ' /proc/mounts"

# A live mount is never stacked over.
"$CIRCUIT" start -m "$M" >"$T_TMP/out3" 2>"$T_TMP/err3" &
pid=$!
T_PIDS+=("$pid")
check "a third server mounts" wait_for 60 grep -q '^circuit://' "$T_TMP/out3"
# Bounded: a second server that is wrongly let in would serve until killed.
expect_fail "a second server on a live mount is refused" "already mounted" \
	timeout 30 "$CIRCUIT" start -m "$M"
check "the first server is still healthy" test -e "$M/help"
finish
