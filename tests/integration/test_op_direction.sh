# A stream handle used against its direction (a READ on a channel's send handle, a
# WRITE on its recv handle) from a raw TCP client gets EBADF, as read(2) on a
# write-only fd does, and the server lives on: the operation layer checks every
# handle's open mode before dispatch (issue 8: this was a SIGSEGV).  The same through
# the mount: the kernel refuses a read on an O_WRONLY fd, and an open against a file's
# declared direction is EACCES.
source "$(dirname "$0")/lib.sh"
start_server S1 -insecure	# handles.py speaks raw frames, in plaintext
addr=${S1_URL#circuit://}; addr=${addr%/*}
mkdir "$S1_MNT/$S1_ID/c" && echo 'mkchan 3' > "$S1_MNT/$S1_ID/c/ctl"
got=$(cd "$(dirname "$0")" && timeout 60 python3 handles.py "$addr" "/$S1_ID/c" 2>&1)
expect_eq "wrong-way handles are refused with EBADF" "$got" \
"open send for writing: rc 0
read on the send handle: rc -9 read: the stream is open for writing only
write on the send handle: rc 6
open recv for reading: rc 0
write on the recv handle: rc -9 write: the stream is open for reading only
read on the recv handle: b'hello\\n'
open send read-write: rc -13
snapshot of recv: rc -22
open of peek as a stream: rc -22
stat of the root: rc 0"
check "the server is alive" kill -0 "$S1_PID"
expect_eq "and answers through its mount" "$(timeout 10 cat "$S1_MNT/$S1_ID/c/ctl")" \
	"/$S1_ID/c channel"
expect_eq "the refusal is in the anchor's error file" \
	"$(timeout 10 cat "$S1_MNT/$S1_ID/c/error")" "/$S1_ID/c: peek is a snapshot, not a stream"
expect_eq "file modes follow the declared directions" \
	"$(cd "$S1_MNT/$S1_ID/c" && stat -c '%n %a' ctl help error send recv peek | tr '\n' ' ')" \
	"ctl 600 help 400 error 400 send 200 recv 400 peek 400 "
expect_fail "send cannot be opened for reading" "Permission denied" \
	timeout 10 cat "$S1_MNT/$S1_ID/c/send"
finish
