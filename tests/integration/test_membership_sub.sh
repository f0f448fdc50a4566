# @join and @leave subscriptions across three servers on loopback: the exact sequence
# of events when a server joins, leaves cleanly, is killed, and a server started with
# the same command line comes back; peek, the CLI, close and scrub.
source "$(dirname "$0")/cluster.sh"
source "$(dirname "$0")/lib_more.sh"
start_cluster 2 star || exit 1
W=$S1_MNT/$S1_ID
mkdir "$W/j" "$W/l"
wr "$W/j/ctl" "mk@join"
"$CIRCUIT" mk@leave -d "$S1_URL" "/$S1_ID/l"
expect_eq "peek of a new @join" "$(cat "$W/j/peek")" '{"Source": "join", "Pending": 0, "Closed": false, "Overflow": 0}'
expect_eq "peek of a new @leave" "$(cat "$W/l/peek")" '{"Source": "leave", "Pending": 0, "Closed": false, "Overflow": 0}'
timeout 20 cat "$W/j/recv" >"$T_TMP/first" 2>&1 & r=$!
sleep 0.3
check "recv waits for an event" kill -0 $r
start_server S3 -j "$S1_URL"
wait_pid 10 $r
expect_eq "the waiting recv gets the joiner" "$(cat "$T_TMP/first")" "/$S3_ID"
stop_server S3
check "S3's clean leave reaches S1" wait_for 5 roots_are "$(ids_of S1 S2)" S1
start_server S4 -j "$S1_URL"
check "S4 is listed" wait_for 5 roots_are "$(ids_of S1 S2 S4)" S1
{ kill -KILL "$S4_PID"; wait "$S4_PID"; } 2>/dev/null
check "killed S4 leaves S1's root within 5 s" wait_for 5 roots_are "$(ids_of S1 S2)" S1
start_server S5 -j "$S1_URL"
check "S5 is listed" wait_for 5 roots_are "$(ids_of S1 S2 S5)" S1
expect_eq "peek counts what waits" "$(jget "$W/j/peek" Pending)" 2
# An open of recv closed before its first byte (an interrupted open answered too late,
# an opener that vanished) gives its event back, as a channel's recv does; here and
# through another server's mount (RELEASE over the wire).
pending_is() { grep -q "\"Pending\": $1," "$W/j/peek"; }
check "open and close of recv here" timeout 10 sh -c ': <"$1"' sh "$W/j/recv"
expect_eq "gives the event back" "$(jget "$W/j/peek" Pending)" 2
check "open and close of recv through S2" timeout 10 sh -c ': <"$1"' sh "$S2_MNT/$S1_ID/j/recv"
check "gives the event back too" wait_for 10 pending_is 2
expect_eq "@join: S4 then S5 (CLI recv)" \
    "$("$CIRCUIT" recv -d "$S1_URL" "/$S1_ID/j"; "$CIRCUIT" recv -d "$S1_URL" "/$S1_ID/j")" \
    "$(printf '/%s\n/%s' "$S4_ID" "$S5_ID")"
expect_eq "@leave: S3 then S4 (through another mount)" \
    "$(timeout 10 cat "$S2_MNT/$S1_ID/l/recv"; timeout 10 cat "$S2_MNT/$S1_ID/l/recv")" \
    "$(printf '/%s\n/%s' "$S3_ID" "$S4_ID")"
wr "$W/j/ctl" close
expect_fail "recv on a closed, drained @join" "Broken pipe" timeout 10 cat "$W/j/recv"
timeout 20 cat "$W/l/recv" >/dev/null 2>"$T_TMP/scrub.err" & r=$!
sleep 0.3
"$CIRCUIT" scrub -d "$S1_URL" "/$S1_ID/l"
wait_pid 5 $r; expect_eq "scrub fails a waiting recv" "$?" 1
check "with Broken pipe" grep -q "Broken pipe" "$T_TMP/scrub.err"
check "help names the files" grep -q "Overflow" "$W/j/help"
for v in S1 S2 S5; do check "$v healthy" server_healthy $v; done
finish
