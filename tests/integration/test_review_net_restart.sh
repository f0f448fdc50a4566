# A server restarted at the same address under a new XID (review of net/peer.c), while
# the connection to its earlier run has not noticed it died (a rebooted host sends no
# reset; here a fake server keeps that connection open and closes its port).  The old
# XID used to stay in the root of every server that had such a connection, forever.
# Since membership is the UDP core's alone, a HELLO lists no one: the ghost, which
# never speaks UDP, is never listed, and the new run is listed once the core has it.
source "$(dirname "$0")/cluster.sh"
T_SERVER_FLAGS=-insecure	# raw frames from Python, in plaintext
start_cluster 2 || exit 1
cat >"$T_TMP/ghost.py" <<'PY'
# ghost.py SERVER_URL: say HELLO to SERVER as a server at 127.0.0.7:PORT, print PORT,
# then close that port but keep the connection open (and silent) until killed.
import socket, sys, time
from frames import HELLO, msg
ls = socket.socket(); ls.bind(("127.0.0.7", 0)); ls.listen(8)
port = ls.getsockname()[1]
xid = "X00000000000000e1"
host, rest = sys.argv[1][len("circuit://"):].split(":")
c = socket.create_connection((host, int(rest.split("/")[0])))
c.sendall(msg(HELLO, 0, {"id": xid, "url": "circuit://127.0.0.7:%d/%s" % (port, xid)}))
time.sleep(1)
ls.close()
print(port, flush=True)
c.settimeout(1)
end = time.time() + 120
while time.time() < end:
    try:
        if not c.recv(65536):
            break
    except socket.timeout:
        pass
PY
PYTHONPATH=$T_PY python3 "$T_TMP/ghost.py" "$S1_URL" >"$T_TMP/ghost.out" 2>"$T_TMP/ghost.err" & T_PIDS+=($!)
check "the ghost's port is closed" wait_for 10 grep -q . "$T_TMP/ghost.out"
port=$(head -1 "$T_TMP/ghost.out")
# The restart: a real server at the ghost's address, joining S1.
dir=$T_TMP/R; mkdir -p "$dir/mnt"
"$CIRCUIT" start -insecure -a "127.0.0.7:$port" -m "$dir/mnt" -j "$S1_URL" >"$dir/out" 2>"$dir/err" &
T_PIDS+=($!); T_MNTS+=("$dir/mnt")
check "the new run starts" wait_for 10 grep -q '^circuit://' "$dir/out"
R_ID=$(head -1 "$dir/out"); R_ID=${R_ID##*/}
check "S1 lists the new run" wait_for 10 sh -c "ls '$S1_MNT' | grep -q $R_ID"
check "S2 lists the new run" wait_for 10 sh -c "ls '$S2_MNT' | grep -q $R_ID"
check "S1 does not list the old run" sh -c "! ls '$S1_MNT' | grep -q X00000000000000e1"
check "S2 has none either" sh -c "! ls '$S2_MNT' | grep -q X00000000000000e1"
check "S1 healthy" server_healthy S1
check "ops flow S1 -> the new run" mkdir "$S1_MNT/$R_ID/after"
finish
