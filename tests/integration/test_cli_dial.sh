# Dialing in: a URL names one run of a server; a silent port is an error, not a hang.
source "$(dirname "$0")/lib.sh"
start_server A
expect_fail "a URL of an earlier run is refused" "the server there is now $A_ID (restarted?)" \
	"$CIRCUIT" peek -d "${A_URL%/*}/X0000000000000001" "/$A_ID"
check "the right URL works" sh -c "'$CIRCUIT' peek -d '$A_URL' '/$A_ID' >/dev/null"
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(30)' >"$T_TMP/port" &
T_PIDS+=("$!")
wait_for 5 test -s "$T_TMP/port"
expect_fail "a silent port: no answer within 10 s" "no answer to the key handshake within 10 s" \
	timeout 30 "$CIRCUIT" ls -d "circuit://127.0.0.1:$(cat "$T_TMP/port")/X0000000000000001" /
# A byte now and then is no answer either: the handshake has one deadline, not one per
# byte (an AUTH that says 4000 bytes and sends one a second would take an hour).
python3 -c '
import socket, struct, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.sendall(struct.pack(">BBHII", 1, 10, 0, 0, 4000))
for _ in range(60):
    time.sleep(1); c.sendall(b"x")' >"$T_TMP/tport" &
T_PIDS+=("$!")
wait_for 5 test -s "$T_TMP/tport"
expect_fail "a trickling port: no answer within 10 s" "no answer to the key handshake within 10 s" \
	timeout 30 "$CIRCUIT" ls -d "circuit://127.0.0.1:$(cat "$T_TMP/tport")/X0000000000000001" /
finish
