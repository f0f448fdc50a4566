# A cluster larger than one MEMBERS frame holds (review of net/peer.c): the member
# table of ~830 servers passes the 64 KiB head limit, and it was then sent to nobody,
# so `circuit start -j` into such a cluster waited for the table forever.  Here 900
# fake servers on 127.1.x.y (tests/integration/frames.py style, one python process)
# make S1's table that big; S2 must join it and learn every member.
source "$(dirname "$0")/lib.sh"
N=900
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((4 * N)) ]; then
	echo "ok - skipped: ulimit -n is $(ulimit -n)"; exit 0
fi
cat >"$T_TMP/many.py" <<'PY'
# many.py N SERVER_URL: N fake servers on 127.1.(i/200).(i%200+1):PORT, each answering
# HELLO as its own XID and keeping its connections; the first dials SERVER and sends
# the table of all N (in frames of 200).
import selectors, socket, struct, json, sys, time
HDR = struct.Struct(">BBHII")
def msg(t, head):
    h = json.dumps(head).encode()
    p = struct.pack(">I", len(h)) + h
    return HDR.pack(1, t, 0, 0, len(p)) + p
n, target = int(sys.argv[1]), sys.argv[2]
probe = socket.socket(); probe.bind(("127.1.0.1", 0)); port = probe.getsockname()[1]
probe.close()
sel = selectors.DefaultSelector()
table = []
for i in range(n):
    ip = "127.1.%d.%d" % (i // 200, i % 200 + 1)
    xid = "X%016x" % (0xfa0000 + i)
    url = "circuit://%s:%d/%s" % (ip, port, xid)
    s = socket.socket()
    s.bind((ip, port)); s.listen(64); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, (xid, url))
    table.append({"id": xid, "url": url})
host, rest = target[len("circuit://"):].split(":")
c = socket.create_connection((host, int(rest.split("/")[0])))
c.sendall(msg(1, table[0]) + b"".join(msg(6, {"members": table[k:k + 200]})
                                      for k in range(0, n, 200)))
sel.register(c, selectors.EVENT_READ, None)
print("ready", flush=True)
end = time.time() + 120
while time.time() < end:
    for key, _ in sel.select(0.5):
        if key.data is not None:
            a, _ = key.fileobj.accept()
            a.sendall(msg(1, {"id": key.data[0], "url": key.data[1]}))
            sel.register(a, selectors.EVENT_READ, None)
            continue
        try:
            d = key.fileobj.recv(65536)
        except OSError:
            d = b""
        if not d:
            sel.unregister(key.fileobj); key.fileobj.close()
PY
count() { timeout 10 "$CIRCUIT" ls -insecure -d "$1" / | grep -c '^/X'; }
# knows URL N: URL's server lists exactly N members.  A function, so that wait_for
# asks again on every poll (a "$(count …)" argument would be counted only once).
knows() { [ "$(count "$1")" -eq "$2" ]; }
start_server S1 -insecure
python3 "$T_TMP/many.py" $N "$S1_URL" >"$T_TMP/many.out" 2>"$T_TMP/many.err" & T_PIDS+=($!)
check "the fakes are up" wait_for 10 grep -q ready "$T_TMP/many.out"
check "S1 knows all $((N + 1))" wait_for 20 knows "$S1_URL" $((N + 1))
start_server S2 -insecure -j "$S1_URL"
check "S2 joined: it knows all $((N + 2))" wait_for 20 knows "$S2_URL" $((N + 2))
check "S1 knows S2" wait_for 5 knows "$S1_URL" $((N + 2))
check "S1 healthy" server_healthy S1
check "S2 healthy" server_healthy S2
finish
