# `circuit start` on bad input (review of cmd/start.c and net/peer.c):
#  - a malformed -a HOST:PORT is a usage error (exit 2), never a crash nor a silently
#    different port ("[:0" segfaulted, "127.0.0.1:99999" listened on 34463);
#  - a -j target that answers HELLO and then leaves (LEAVE) or hangs up before its
#    member table ends the server with exit 1 and a message (LEAVE freed the member
#    twice: the failed join shut the server down inside net/'s drop of that member).
source "$(dirname "$0")/lib.sh"

# start_bad ADDR: exit status of `circuit start -a ADDR` (killed after 2 s if it runs)
start_bad() {
	timeout -s KILL 2 "$CIRCUIT" start -a "$1" </dev/null >/dev/null 2>"$T_TMP/a.err"
}
for a in '[:0' '[]:0' '[::1:0' '127.0.0.1:abc' '127.0.0.1:99999' '127.0.0.1:-5' '127.0.0.1:' ':0'; do
	start_bad "$a"
	expect_eq "-a $a is a usage error" "$?" 2
	check "-a $a says HOST:PORT" grep -q "HOST:PORT" "$T_TMP/a.err"
done
out=$(timeout 5 "$CIRCUIT" start -a 127.0.0.1:0 </dev/null | head -1)
check "-a 127.0.0.1:0 still works" test "${out#circuit://127.0.0.1:}" != "$out"

# A fake server: answers HELLO as X...f1, then MODE: leave (LEAVE) or close.
cat >"$T_TMP/fake.py" <<'PY'
import socket, sys, time
from frames import HELLO, LEAVE, msg
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(8)
xid = "X00000000000000f1"
url = "circuit://127.0.0.1:%d/%s" % (ls.getsockname()[1], xid)
print(url, flush=True)
ls.settimeout(10)
c, _ = ls.accept()
c.sendall(msg(HELLO, 0, {"id": xid, "url": url}))
time.sleep(0.3)
if sys.argv[1] == "leave":
    c.sendall(msg(LEAVE, 0, {"id": xid}))
time.sleep(0.5)
c.close()
time.sleep(1)
PY
for mode in leave close; do
	PYTHONPATH=$T_PY python3 "$T_TMP/fake.py" $mode >"$T_TMP/fake.url" & T_PIDS+=($!)
	wait_for 5 grep -q circuit:// "$T_TMP/fake.url"
	timeout 10 "$CIRCUIT" start -insecure -a 127.0.0.1:0 -j "$(head -1 "$T_TMP/fake.url")" \
		>"$T_TMP/j.out" 2>"$T_TMP/j.err"
	expect_eq "-j to a target that does '$mode' before its table exits 1" "$?" 1
	check "and says the join failed" grep -q "circuit start: -j .*connection lost" "$T_TMP/j.err"
	check "and printed no URL" test ! -s "$T_TMP/j.out"
done
finish
