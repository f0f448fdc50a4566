# Shutdown paths found in review: the server exits cleanly (status 0, mount gone)
#  - on `echo suicide > ctl` written through its own mount (the write's FUSE handler
#    must not see the session torn down under it);
#  - on SIGTERM while an open stream has a poll(2) handle and its element wakes the
#    stream during the shutdown scrub (no notification after the session is gone);
#  - on SIGTERM with requests waiting (local, or on another server): each fails with
#    EHOSTDOWN, never EINTR, and the other server's log says EHOSTDOWN too; a read
#    on another server of the stopping server's log fails with EHOSTDOWN, not EIO;
#  - on SIGTERM with a process's stdin held open through the mount: the log gives the
#    shutdown as the reason once, and no "writer vanished" line for the process.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_more.sh"

# exited VAR: wait (bounded) for the server to exit; EXITED = its status, plus
# "+mounted" if its mount is still there
exited() {
	local pid mnt
	pid=${1}_PID; pid=${!pid}
	mnt=${1}_MNT; mnt=${!mnt}
	wait_pid 10 "$pid"; EXITED=$?
	grep -q " $mnt " /proc/mounts && EXITED="$EXITED+mounted"
}

# --- suicide through the server's own mount ---
start_server A
wr "$A_MNT/$A_ID/ctl" "suicide"
expect_eq "echo suicide > own ctl succeeds" "$?" 0
exited A
expect_eq "the server exits 0 and unmounts" "$EXITED" 0

# --- SIGTERM with a polled stream open on a channel ---
start_server B
C=$B_MNT/$B_ID/c
mkdir "$C"
wr "$C/ctl" "mkchan 1"
timeout 20 python3 -c '
import os, select, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY)
p = select.poll(); p.register(fd, select.POLLOUT)
print(p.poll(1000), flush=True)
time.sleep(15)
' "$C/send" >"$T_TMP/poll.out" 2>&1 & py=$!
check "the poller saw send ready" wait_for 5 grep -q '(3, 4)\|, 4)' "$T_TMP/poll.out"
kill -TERM "$B_PID"
exited B
expect_eq "SIGTERM with a polled stream open: exits 0 and unmounts" "$EXITED" 0
kill "$py" 2>/dev/null; wait "$py" 2>/dev/null

# --- a read waiting when the server stops fails with EHOSTDOWN, not EINTR: no signal
# was sent to the reader; the server it waited on is gone ---
start_server D
mkdir "$D_MNT/$D_ID/w" "$D_MNT/$D_ID/p"
wr "$D_MNT/$D_ID/w/ctl" "mkchan 0"
# (and a process whose stdin is held open through the mount: the shutdown releases
# that stdin as cut, and the shutdown is the reason it ends, not a vanished writer)
wr "$D_MNT/$D_ID/p/ctl" 'mkproc {"Path":"/bin/cat"}'
sleep 60 >"$D_MNT/$D_ID/p/stdin" & holder=$!
timeout 20 cat "$D_MNT/$D_ID/w/recv" >/dev/null 2>"$T_TMP/cat.err" & catp=$!
# cat (timeout's child) is in the kernel, waiting for the server's answer
check "the reader waits" wait_for 5 sh -c "grep -q request_wait_answer /proc/\$(pgrep -P $catp)/wchan"
kill -TERM "$D_PID"
exited D
expect_eq "SIGTERM with a reader waiting: exits 0 and unmounts" "$EXITED" 0
wait "$catp"
expect_eq "the reader's cat fails with Host is down" "$?:$(cat "$T_TMP/cat.err")" \
	"1:cat: $D_MNT/$D_ID/w/recv: Host is down"
expect_eq "the log gives the shutdown as the reason, once, and no process's own" \
	"$(grep -v 'children not reaped' "$D_ERR")" "circuit: Terminated: shutting down"
expect_eq "the operation log says no writer vanished" \
	"$(grep -c 'writer vanished' "$T_TMP/D/var/log")" 0
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null

# --- the same through another server's mount: an open waiting on the owner (a remote
# call that ends at once when cancelled) and a read waiting on it (answered by the
# shutdown itself) both fail with EHOSTDOWN when the server they went through stops.
# The errno travels with the cancel; nothing maps EINTR afterwards ---
start_server E
start_server F -j "$E_URL"
check "F sees E" wait_for 20 test -e "$F_MNT/$E_ID/help"
W=$F_MNT/$E_ID
mkdir "$W/w" "$W/p"
wr "$W/w/ctl" "mkchan 0"
wr "$W/p/ctl" 'mkproc {"Path":"/bin/sleep","Args":["60"]}'
child=$(grep -o '"Pid": *[0-9]*' "$W/p/peek" | grep -o '[0-9]*$')
timeout 20 cat "$W/w/recv" >/dev/null 2>"$T_TMP/ropen.err" & ropen=$!
timeout 20 cat "$W/p/stdout" >/dev/null 2>"$T_TMP/rread.err" & rread=$!
check "the remote open waits" wait_for 10 sh -c "grep -q request_wait_answer /proc/\$(pgrep -P $ropen)/wchan"
check "the remote read waits" wait_for 10 sh -c "grep -q request_wait_answer /proc/\$(pgrep -P $rread)/wchan"
# (and, the other way, E reads F's log past its end: that read waits on F, the owner)
timeout 30 python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
while os.read(fd, 65536): pass
print("caught up", flush=True)
try:
    while os.read(fd, 65536): pass
    print("end of file")
except OSError as e:
    print(e.strerror)
' "$E_MNT/$F_ID/log" >"$T_TMP/logread.out" 2>&1 & logread=$!
check "the reader of F's log through E waits" wait_for 20 sh -c \
	"grep -q 'caught up' '$T_TMP/logread.out' && grep -q request_wait_answer /proc/\$(pgrep -P $logread)/wchan"
kill -TERM "$F_PID"
exited F
expect_eq "SIGTERM with remote requests waiting: exits 0 and unmounts" "$EXITED" 0
wait "$ropen"
expect_eq "the remote open fails with Host is down" "$?:$(cat "$T_TMP/ropen.err")" \
	"1:cat: $W/w/recv: Host is down"
# (cat's close then finds the mount gone: a second line, ENOTCONN, from the kernel)
wait "$rread"
expect_eq "the remote read fails with Host is down" "$?:$(head -1 "$T_TMP/rread.err")" \
	"1:cat: $W/p/stdout: Host is down"
# The CANCEL carries that errno to the owner, E: its log says what the caller got,
# not an interrupt, and the channel's error keeps no failure of its own
check "the owner logs the cancelled open as Host is down" wait_for 10 grep -q \
	" /$E_ID/w open recv error EHOSTDOWN: /$E_ID/w: Host is down\$" "$T_TMP/E/var/log"
expect_eq "the owner's channel has no error of it" "$(timeout 5 cat "$E_MNT/$E_ID/w/error")" ""
wait "$logread"
expect_eq "the read of the stopped owner's log fails with Host is down" \
	"$?:$(cat "$T_TMP/logread.out")" "0:caught up
Host is down"
[ -n "$child" ] && kill "$child" 2>/dev/null

finish
