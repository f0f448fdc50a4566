# poll(2) on another server's stream is exact before the first byte too, and a read
# with O_NONBLOCK never blocks: EAGAIN until the owner says bytes are there (issue 8;
# a remote recv used to be "readable" at once, and its non-blocking read then waited).
source "$(dirname "$0")/cluster.sh"
start_cluster 2
A_MNT=$S1_MNT; B_ID=$S2_ID; B_MNT=$S2_MNT
C=$B_MNT/$B_ID/ch
mkdir "$C" && printf 'mkchan 0\n' >"$C/ctl"
# The sender opens on the owner's mount, the receiver (O_NONBLOCK) through A's.
out=$(timeout 60 python3 -c '
import errno, os, select, sys, threading
send, recv = sys.argv[1], sys.argv[2]
box = {}
t = threading.Thread(target=lambda: box.setdefault("fd", os.open(send, os.O_WRONLY)))
t.start()
r = os.open(recv, os.O_RDONLY | os.O_NONBLOCK)	# pairs with the sender
t.join(20)
p = select.poll(); p.register(r, select.POLLIN)
print("before:", [e for _, e in p.poll(1000)])
try:
    os.read(r, 100); print("read: bytes")
except OSError as e:
    print("read:", errno.errorcode[e.errno])
w = threading.Thread(target=lambda: os.write(box["fd"], b"x\n")); w.start()
print("after:", [e for _, e in p.poll(20000)])
print("got:", os.read(r, 100))
w.join(20)
os.close(box["fd"])
print("at the end:", [e for _, e in p.poll(20000)])
print("got:", os.read(r, 100))
os.close(r)' "$C/send" "$A_MNT/$B_ID/ch/recv" 2>&1)
expect_eq "readiness and non-blocking reads of a remote recv" "$out" "before: []
read: EAGAIN
after: [1]
got: b'x\n'
at the end: [1]
got: b''"
expect_eq "one message sent and received" "$(cat "$C/peek")" \
	'{"Cap": 0, "Closed": false, "Aborted": false, "NumSend": 1, "NumRecv": 1, "NumAborted": 0}'
check "servers healthy" server_healthy S1
finish
