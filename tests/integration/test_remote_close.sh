# A close(2) never passes for a stream that did not end whole: a writer through this
# server's mount to another server's send or stdin whose connection to the owner is
# lost before the close (here: the owner dies) has its message aborted at the owner,
# never delivered as whole, so its close fails with EHOSTDOWN -- as the client
# library's close does (docs/protocol.md, Connection loss).  A close with the owner
# still there passes.
source "$(dirname "$0")/cluster.sh"
source "$(dirname "$0")/lib_more.sh"
start_cluster 2 || exit 1
W=$S1_MNT/$S2_ID
mkdir "$W/c" "$W/c2" "$W/p"
wr "$W/c/ctl" "mkchan 1"
wr "$W/c2/ctl" "mkchan 1"
wr "$W/p/ctl" 'mkproc {"Path":"/bin/cat"}'
child=$(grep -o '"Pid": *[0-9]*' "$W/p/peek" | grep -o '[0-9]*$')

# The writer: sends one whole message to c2 (its close must pass), opens both files,
# writes to each, says so, then waits (20 s at most) for
# the go file, polls each until it reports the error (20 s at most), closes each and
# prints how each close ended.
timeout 60 python3 -c '
import errno, os, select, sys, time
send, stdin, ready, go, send2 = sys.argv[1:6]
fd = os.open(send2, os.O_WRONLY)
os.write(fd, b"whole\n")
os.close(fd); print("close ok")
fds = [os.open(send, os.O_WRONLY), os.open(stdin, os.O_WRONLY)]
for fd in fds:
    os.write(fd, b"hello\n")
open(ready, "w").close()
end = time.time() + 20
while not os.path.exists(go) and time.time() < end:
    time.sleep(0.05)
for fd in fds:
    p = select.poll(); p.register(fd, select.POLLOUT)
    end = time.time() + 20
    while time.time() < end and not any(ev & select.POLLERR for _, ev in p.poll(100)):
        pass
for fd in fds:
    try:
        os.close(fd); print("close ok")
    except OSError as e:
        print("close", errno.errorcode[e.errno])
' "$W/c/send" "$W/p/stdin" "$T_TMP/ready" "$T_TMP/go" "$W/c2/send" >"$T_TMP/w.out" 2>&1 & wp=$!
check "the writer wrote to both" wait_for 20 test -e "$T_TMP/ready"
expect_eq "a close with the owner there passes: the message is whole" \
	"$(timeout 10 cat "$W/c2/recv")" "whole"
kill -KILL "$S2_PID"
wait_pid 10 "$S2_PID"
[ -n "$child" ] && kill "$child" 2>/dev/null
touch "$T_TMP/go"
wait_pid 60 "$wp"
expect_eq "the whole message's close passed; both cut ones fail with EHOSTDOWN" \
	"$(tr '\n' ' ' <"$T_TMP/w.out")" "close ok close EHOSTDOWN close EHOSTDOWN "
check "S1 healthy" server_healthy S1
finish
