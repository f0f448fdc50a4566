# Another server's log through this server's mount: cat ends, tail -f follows.
source "$(dirname "$0")/cluster.sh"

check "two servers" start_cluster 2
L=$S1_MNT/$S2_ID/log
check "cat of a remote log ends" sh -c "timeout 10 cat '$L' >/dev/null"
tail -f "$L" >"$T_TMP/tail" 2>"$T_TMP/tail.err" &
TAIL=$!
T_PIDS+=("$TAIL")
sleep 1.5
check "mkdir on the owner" mkdir "$S2_MNT/$S2_ID/followed"
check "tail -f of a remote log shows it" wait_for 10 grep -q "/$S2_ID/followed mkdir ok" "$T_TMP/tail"
kill "$TAIL"
expect_eq "tail did not complain (truncation, seek)" "$(cat "$T_TMP/tail.err")" ""
finish
