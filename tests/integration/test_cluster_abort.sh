# A message cut short is never passed off as complete: when its sender vanishes
# mid-way -- a `circuit send` killed, or the server of a writer through another
# server's mount -- the receiver's read ends in ECONNABORTED, not EOF, and the message
# counts as aborted (issue 8).
source "$(dirname "$0")/cluster.sh"
source "$(dirname "$0")/lib_more.sh"
start_cluster 3
A_URL=$S1_URL; A_PID=$S1_PID; A_MNT=$S1_MNT; B_ID=$S2_ID; B_MNT=$S2_MNT
C=$B_MNT/$B_ID/ch
mkdir "$C" && wr "$C/ctl" "mkchan 0"

# receive_bg NAME: a receiver on the owner's mount, its bytes in NAME.out, its exit
# status in NAME.rc, its stderr in NAME.err.
receive_bg() {
	( timeout 60 cat "$C/recv" >"$T_TMP/$1.out" 2>"$T_TMP/$1.err"; echo $? >"$T_TMP/$1.rc" ) &
}
# some_bytes NAME: the receiver has at least 1 MB (bounded wait).
some_bytes() { wait_for 30 sh -c "[ \$(stat -c %s '$T_TMP/$1.out' 2>/dev/null || echo 0) -gt 1000000 ]"; }
# cut NAME WHAT SIG VICTIM WRITER: once WHAT bytes flow to the receiver NAME, kill -SIG
# VICTIM; the receiver must fail instead of seeing EOF.  Then reap the WRITER's PID.
cut() {
	check "$2 bytes are flowing" some_bytes "$1"
	kill -"$3" "$4"
	wait_for 30 test -s "$T_TMP/$1.rc"
	expect_eq "its receiver fails instead of seeing EOF" "$(cat "$T_TMP/$1.rc"):$(cat "$T_TMP/$1.err")" \
		"1:cat: $C/recv: Software caused connection abort"
	wait "$5" 2>/dev/null
}

# --- a `circuit send` (dialed to A, which relays to B) killed mid-message ---
receive_bg cli
head -c 500000000 /dev/zero | "$CIRCUIT" send -d "$A_URL" "/$B_ID/ch" 2>/dev/null & wp=$!
cut cli "the CLI's" KILL $wp $wp

# --- a writer through S3's mount, and S3 stops (SIGTERM): its open files are
# released at unmount, but their writers never closed them ---
receive_bg term
timeout 60 sh -c "head -c 500000000 /dev/zero > '$S3_MNT/$B_ID/ch/send'" 2>/dev/null & wp=$!
cut term "the writer's" TERM "$S3_PID" $wp

# --- a writer through A's mount, and A dies ---
receive_bg fuse
timeout 60 sh -c "head -c 500000000 /dev/zero > '$A_MNT/$B_ID/ch/send'" 2>/dev/null & wp=$!
cut fuse "the mount writer's" KILL "$A_PID" $wp
expect_eq "all count as aborted, none as sent" "$(cat "$C/peek")" \
	'{"Cap": 0, "Closed": false, "Aborted": false, "NumSend": 0, "NumRecv": 3, "NumAborted": 3}'
expect_eq "the owner's error file says why" "$(cat "$C/error")" \
	"/$B_ID/ch: message aborted: its sender's server or connection was lost mid-message"

# --- the channel still works ---
receive_bg after
echo whole | timeout 10 "$CIRCUIT" send -d "$S2_URL" "/$B_ID/ch"
wait_for 10 test -s "$T_TMP/after.rc"
expect_eq "a whole message still ends in EOF" "$(cat "$T_TMP/after.rc"):$(cat "$T_TMP/after.out")" "0:whole"
check "B healthy" server_healthy S2
finish
