# close(2) of a stream on another server tells what became of the bytes written behind
# (NFS's close-to-open rule): it waits for the owner's answers and reports the first
# failure; a close with nothing outstanding answers at once (issue 8).
source "$(dirname "$0")/cluster.sh"
start_cluster 2
A_MNT=$S1_MNT; B_ID=$S2_ID; B_MNT=$S2_MNT
C=$A_MNT/$B_ID/ch
mkdir "$C" && printf 'mkchan 0\n' >"$C/ctl"

# The receiver (on the owner) takes the first MiB, waits, then goes away: the writes
# behind it fail with EPIPE after the writer has already called close(2).
timeout 30 python3 -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY); n = 0
while n < 1 << 20:
    b = os.read(fd, (1 << 20) - n)
    if not b: break
    n += len(b)
time.sleep(1); os.close(fd)' "$B_MNT/$B_ID/ch/recv" & r=$!
out=$(timeout 30 python3 -c '
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
for i in range(3): os.write(fd, b"x" * (1 << 20))
try:
    os.close(fd); print("close ok")
except OSError as e:
    print("close", errno.errorcode[e.errno])' "$C/send")
expect_eq "close(2) reports a write behind that failed after it was called" "$out" "close EPIPE"
wait "$r"

# Nothing outstanding: close answers at once, and succeeds.
timeout 10 cat "$B_MNT/$B_ID/ch/recv" >"$T_TMP/got" & r=$!
expect_eq "a whole message: close succeeds" "$(timeout 10 python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY); os.write(fd, b"hello\n")
fd2 = os.dup(fd); os.close(fd2)   # a FLUSH with nothing outstanding
os.close(fd); print("close ok")' "$C/send")" "close ok"
wait "$r"
expect_eq "and it arrived" "$(cat "$T_TMP/got")" "hello"
check "servers healthy" server_healthy S1
finish
