# The circuit CLI on a cluster of two servers: join, ls of both, elements on one
# driven through the other, stk, suicide.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_cli.sh"
start_server A
start_server B

# cli SERVER ARGS...: one command dialed into that server.
cli() { local u=${1}_URL; shift; run timeout 10 "$C" "$@" -d "${!u}"; }
BOTH=$(printf '/%s\n/%s\n' "$A_ID" "$B_ID" | sort)

cli A join /$A_ID "$B_URL"
expect_eq "join through the CLI" "$RC:$OUT:$ERR" "0::"
wait_for 5 sh -c "[ \"\$('$C' ls -d '$B_URL' / 2>/dev/null)\" = '$BOTH' ]"
cli A ls /
expect_eq "ls / through A lists both servers" "$OUT" "$BOTH"
cli B ls -l /...
expect_eq "ls -l /... through B" "$OUT" "$(sed 's/^/server       /' <<<"$BOTH")"

# an element on B, made, fed and read through A; read back through B
cli A mkchan /$B_ID/x/ch 1
expect_eq "mkchan on B through A" "$RC:$ERR" "0:"
run timeout 10 "$C" send -d "$A_URL" /$B_ID/x/ch <<<"across"
expect_eq "send through A" "$RC:$ERR" "0:"
cli B recv /$B_ID/x/ch
expect_eq "recv through B" "$RC:$OUT" "0:across"
run timeout 10 "$C" mkproc -d "$B_URL" /$A_ID/p <<<'{"Path": "/bin/echo", "Args": ["on", "A"]}'
expect_eq "mkproc on A through B" "$RC:$ERR" "0:"
cli B stdout /$A_ID/p
expect_eq "its stdout through B" "$OUT" "on A"
cli A ls -l /...
expect_eq "ls -l /... of the cluster" "$OUT" "$(
	for id in $(printf '%s\n' "$A_ID" "$B_ID" | sort); do
		echo "server       /$id"
		[ "$id" = "$A_ID" ] && echo "process      /$A_ID/p"
		[ "$id" = "$B_ID" ] && printf 'empty        /%s/x\nchannel      /%s/x/ch\n' "$B_ID" "$B_ID"
	done)"

cli A stk /$B_ID/x
expect_eq "stk of B through A" "$RC" 0
check "stk names B" grep -q "\"ID\": \"$B_ID\"" <<<"$OUT"

cli A suicide /$B_ID
expect_eq "suicide of B through A" "$RC:$ERR" "0:"
check "B exits" wait_for 10 sh -c "! kill -0 $B_PID"
check "A lists only itself" wait_for 10 sh -c "[ \"\$('$C' ls -d '$A_URL' / 2>/dev/null)\" = '/$A_ID' ]"
cli A peek /$B_ID/x/ch
expect_eq "an element of the gone server fails" "$RC" 1
check "server A still healthy" server_healthy A
cli A suicide /$A_ID
expect_eq "suicide of the dialed server itself" "$RC:$ERR" "0:"
check "A exits" wait_for 10 sh -c "! kill -0 $A_PID"
finish
