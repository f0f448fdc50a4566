# The FUSE side of files that tools touch (issue 8): chmod and chown fail with EPERM
# instead of reporting a change that did not happen; touch still works; a directory
# held open at shutdown is freed; help and error report their true size (issue 12) (an ASan build's leak check sees it); a stale mount
# at a directory whose name holds a single quote is cleared (no shell ever sees it).
source "$(dirname "$0")/lib.sh"
start_server S1
A=$S1_MNT/$S1_ID/a
mkdir "$A" && echo 'mkchan 1' > "$A/ctl"
expect_fail "chmod of ctl fails" "Operation not permitted" chmod 0666 "$A/ctl"
expect_fail "chmod of send fails" "Operation not permitted" chmod 0644 "$A/send"
expect_fail "chown of peek fails" "Operation not permitted" chown 1:1 "$A/peek"
expect_fail "chmod of an anchor fails" "Operation not permitted" chmod 0755 "$A"
expect_eq "the modes did not change" "$(stat -c %a "$A/ctl" "$A/send" "$A")" "600
200
700"
check "touch still works" touch "$A/ctl"
expect_fail "a symlink cannot be made" "Operation not permitted" ln -s ctl "$A/link"
expect_fail "nor a hard link" "Operation not permitted" ln "$A/ctl" "$A/hard"

# help and error: their true size; error is empty until a failure, then one line.
size() { stat -c %s "$1"; }
E=$S1_MNT/$S1_ID/e; mkdir "$E"
check "error is empty before any failure" test ! -s "$E/error"
expect_eq "and its size is 0" "$(size "$E/error")" 0
echo bogus > "$E/ctl" 2>/dev/null
check "error is not empty after a failure" test -s "$E/error"
expect_eq "its size is what cat gives" "$(size "$E/error")" "$(cat "$E/error" | wc -c)"
expect_eq "it ends with a newline" "$(tail -c 1 "$E/error" | od -An -c | tr -d ' ')" '\n'
expect_eq "help's size is what cat gives" "$(size "$E/help")" "$(cat "$E/help" | wc -c)"
expect_eq "a channel's help too" "$(size "$A/help")" "$(cat "$A/help" | wc -c)"
expect_eq "the root's help too" "$(size "$S1_MNT/help")" "$(cat "$S1_MNT/help" | wc -c)"
check "help is not empty" test -s "$A/help"

# The root help's safe copy line takes no message and does not block on wait.
echo kept > "$A/send"
P=$S1_MNT/$S1_ID/p; mkdir "$P"
echo 'mkproc {"Path":"/bin/sleep","Args":["100"]}' > "$P/ctl"
line=$(sed -n '/take only the snapshot files:/,$p' "$S1_MNT/help" | tail -n +2)
line=${line//\/circuit/$S1_MNT}; line=${line//\/tmp\/snap\//$T_TMP/snap/}
mkdir "$T_TMP/snap"
check "the root help warns of cp -r, tar and grep -r" grep -q "cp -r, tar and grep -r of the tree take channel messages" "$S1_MNT/help"
check "the help's find line copies the tree's snapshots" timeout 60 bash -c "$line"
check "peek was copied" test -s "$T_TMP/snap/./$S1_ID/a/peek" -o -s "$T_TMP/snap/$S1_ID/a/peek"
expect_eq "the channel kept its message" "$(timeout 10 cat "$A/recv")" kept
echo 'scrub' > "$P/ctl"

# A directory held open while the server stops: its listing is freed at unmount.
exec {dirfd}<"$A"
check "the server stops with a directory open" stop_server S1
exec {dirfd}<&-

# A killed server leaves a stale mount at a directory named with a quote.
Q=$T_TMP/it\'s
mkdir -p "$Q"
T_MNTS+=("$Q")
"$CIRCUIT" start -a 127.0.0.1:0 -m "$Q" -var "$T_TMP/qvar" >"$T_TMP/q1" 2>&1 &
pid=$!; T_PIDS+=("$pid")
check "a server mounts at it's" wait_for 20 grep -q '^circuit://' "$T_TMP/q1"
kill -9 "$pid"
wait_for 10 sh -c "! kill -0 $pid"
expect_fail "the mount is stale" "not connected" ls "$Q"
"$CIRCUIT" start -a 127.0.0.1:0 -m "$Q" -var "$T_TMP/qvar" >"$T_TMP/q2" 2>&1 &
pid=$!; T_PIDS+=("$pid")
check "the next server clears it and mounts" wait_for 20 grep -q '^circuit://' "$T_TMP/q2"
check "and says so" grep -q "cleared a stale mount at $Q" "$T_TMP/q2"
check "its mount answers" test -e "$Q/help"
finish
