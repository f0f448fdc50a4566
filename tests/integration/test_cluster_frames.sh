# Malformed, truncated, oversized and unknown-version frames sent to a server's port:
# each connection is refused (with a reason where one fits) and dropped, with a log
# line; the server stays healthy and keeps serving its peers.
source "$(dirname "$0")/cluster.sh"
T_SERVER_FLAGS=-insecure	# raw frames from Python, in plaintext
start_cluster 2 || exit 1
addr=${S1_URL#circuit://}; addr=${addr%/*}
got=$(timeout 60 python3 "$(dirname "$0")/frames.py" "$addr" 2>&1)
want='good: rep tag 7 rc 0 kind root
bad op: rc -22 open
unknown handle: rc -9 open
version 2: closed refused: protocol version 2 not supported (this server speaks version 1)
version 0, one byte: closed refused: protocol version 0 not supported (this server speaks version 1)
http: closed refused: protocol version 71 not supported (this server speaks version 1)
oversized length: closed refused: oversized frame (limit 1114112 bytes)
just over the limit: closed refused: oversized frame (limit 1114112 bytes)
unknown type: closed refused: unknown frame type 127
type zero: closed refused: unknown frame type 0
reserved bits: closed refused: reserved header bits set
truncated header: closed
truncated payload: closed
request before hello: closed refused: req frame before HELLO
hello bad json: closed refused: malformed HELLO
hello head length past the end: closed refused: malformed HELLO
hello empty payload: closed refused: malformed HELLO
hello array: closed refused: malformed HELLO
hello as a server with a bad id: closed refused: HELLO refused: Invalid argument
second hello: closed refused: bad hello frame
request head not an object: closed refused: bad req frame
request head length zero: closed refused: bad req frame
reply to nothing: closed refused: bad rep frame
cancel with a payload: closed refused: bad cancel frame
members from a client: closed refused: bad members frame
garbage after hello: closed refused: protocol version 0 not supported (this server speaks version 1)'
if [ "$got" == "$want" ]; then ok "every bad frame refused and dropped"; else
	not_ok "every bad frame refused and dropped" "diff:"
	diff <(echo "$want") <(echo "$got") | sed 's/^/   /'
fi
expect_eq "one log line per dropped connection" "$(grep -c ': dropped$' "$S1_ERR")" "21"
check "the server is healthy" server_healthy S1
check "and still a member of S2's cluster" roots_are "$(ids_of S1 S2)" S1 S2
check "and serves its peer" mkdir "$S2_MNT/$S1_ID/after-frames"
check "and the peer's ops" mkdir "$S1_MNT/$S2_ID/after-frames"
expect_eq "a CLI client still works" "$("$CIRCUIT" ls -insecure -d "$S1_URL" "/$S2_ID")" "/$S2_ID/after-frames"
finish
