# The client library example (examples/pipeline.c) against a real server: a process
# and a channel move a line, and the example leaves the tree as it found it.
L=$(dirname "$0")/lib.sh; [ -f "$L" ] || L=$(dirname "$0")/../lib.sh
source "$L"
C=$CIRCUIT
export -n CIRCUIT
unset CIRCUIT_HMAC
EX=$BIN/example-pipeline
[ -x "$EX" ] || { echo "no $EX (make builds it)" >&2; exit 1; }
start_server A
X=$A_ID; U=$A_URL

OUT=$(timeout 20 "$EX" "$U" 2>"$T_TMP/err"); RC=$?
expect_eq "example exits 0" "$RC" 0
expect_eq "the line came back through process and channel" "$OUT" "HELLO FROM THE CIRCUIT CLIENT LIBRARY"
check "it reports the process's exit" grep -q '"Phase": "exited"' "$T_TMP/err"
expect_eq "it leaves no anchor behind" "$(timeout 10 "$C" ls -d "$U" /$X/...)" ""
OUT=$(timeout 10 "$EX" "circuit://127.0.0.1:1/X0000000000000000" 2>"$T_TMP/err"); RC=$?
expect_eq "a refused dial fails" "$RC" 1
OUT=$(timeout 10 "$EX" 2>"$T_TMP/err"); RC=$?
expect_eq "no URL is a usage error" "$RC" 2
check "server still healthy" server_healthy A
finish
