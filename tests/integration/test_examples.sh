# The tutorials of examples/ (issue 12) against a local cluster of three servers,
# each with its exact output: wait-all runs a job on every server and waits for all;
# the virus moves from server to server, its payload reporting over a back channel;
# the watchbot restarts a killed process on another server.  Each leaves the tree
# as it found it.
source "$(dirname "$0")/cluster.sh"
EX=$(cd "$(dirname "$0")/../../examples" && pwd)
start_cluster 3
read -r X1 X2 X3 <<<"$(ids_of S1 S2 S3 | tr '\n' ' ')"
M=$S2_MNT	# any server's mount will do; not the first one's
host=$(uname -n)

# anchors: every anchor of the cluster below the servers' own (none are left behind).
anchors() { local x; for x in $X1 $X2 $X3; do ls -d "$M/$x"/*/ 2>/dev/null; done; }

out=$(timeout 60 "$EX/wait-all.sh" "$M")
expect_eq "wait-all: exits 0" "$?" 0
expect_eq "wait-all: one job per server, each waited for" "$out" \
"$X1: hello from $host, server $X1 (exit status 0)
$X2: hello from $host, server $X2 (exit status 0)
$X3: hello from $host, server $X3 (exit status 0)"
timeout 60 "$EX/wait-all.sh" "$M" '[ "$0" != '"$X2"' ]' >/dev/null
expect_eq "wait-all: fails when one job fails" "$?" 1
expect_eq "wait-all: leaves no anchor" "$(anchors)" ""

out=$(timeout 120 "$EX/virus.sh" "$M" 3)
expect_eq "virus: exits 0" "$?" 0
expect_eq "virus: each generation on the next server, the payload heard on the back channel" "$out" \
"generation 1: nucleus on $X1, payload 1 ran on $X2 (host $host)
generation 2: nucleus on $X2, payload 2 ran on $X3 (host $host)
generation 3: nucleus on $X3, payload 3 ran on $X1 (host $host)"
check "virus: leaves no anchor" wait_for 10 test -z "$(anchors)"

timeout 120 "$EX/watchbot.sh" "$M" "sleep 600" 2 >"$T_TMP/wb.out" 2>&1 &
wb=$!
T_PIDS+=("$wb")
# started N: the bot has started the watched process N times.
started() { [ "$(grep -c '^started' "$T_TMP/wb.out")" -ge "$1" ]; }
for k in 1 2; do
	wait_for 30 started "$k" && timeout 10 sh -c "echo signal KILL > '$M/$X2/watched/ctl'"
done
wait_for 30 started 3
wait "$wb"
expect_eq "watchbot: exits 0 after its restarts" "$?" 0
expect_eq "watchbot: restarted the killed process on the other server, twice" \
	"$(sed 's/pid [0-9]*$/pid N/' "$T_TMP/wb.out")" \
"watchbot at /$X1/watchbot
started on $X2: pid N
died on $X2: signal: killed
started on $X2: pid N
died on $X2: signal: killed
started on $X2: pid N"
check "watchbot: the last one still runs" grep -q '"Phase": "running"' "$M/$X2/watched/peek"
check "watchbot: three different processes" \
	test "$(grep -o 'pid [0-9]*' "$T_TMP/wb.out" | sort -u | wc -l)" = 3
rmdir "$M/$X2/watched" "$M/$X1/watchbot"
expect_eq "watchbot: removed, no anchor left" "$(anchors)" ""
finish
