# The cluster key and untrusted peers (issue 10, SPEC section 5): a keyed cluster of
# three works end to end; servers and clients without the key, or with another, are
# refused with a clear message and a log line; another local user cannot act through
# the port; a key file others may read is refused; spoofed HELLO and DEAD frames evict
# no one; a flood of silent connections leaves the server serving.
source "$(dirname "$0")/cluster.sh"
source "$(dirname "$0")/lib_more.sh"

K=$T_TMP/key
"$CIRCUIT" keygen >"$K" && chmod 600 "$K"
expect_eq "keygen prints 64 hex digits" "$(grep -cE '^[0-9a-f]{64}$' "$K")" 1
K2=$T_TMP/key2
"$CIRCUIT" keygen >"$K2" && chmod 600 "$K2"
cp "$K" "$T_TMP/key644" && chmod 644 "$T_TMP/key644"
expect_fail "the server refuses a key file others may read" \
	"key file $T_TMP/key644: other users may read it (mode 0644): chmod 600 $T_TMP/key644" \
	timeout 10 "$CIRCUIT" start -hmac "$T_TMP/key644"
expect_fail "so does the CLI" "other users may read it (mode 0644)" \
	"$CIRCUIT" ls -hmac "$T_TMP/key644" -d circuit://127.0.0.1:1/X0000000000000001 /

# A cluster of three with the key.
T_SERVER_FLAGS="-hmac $K"
start_cluster 3 || exit 1
expect_eq "peek says Secure" "$(jget "$S1_MNT/$S1_ID/peek" Secure)" true
expect_eq "the CLI with the key lists the three" \
	"$("$CIRCUIT" ls -hmac "$K" -d "$S2_URL" / | sort)" "$(ids_of S1 S2 S3 | sed 's|^|/|')"
expect_eq "CIRCUIT_HMAC works as -hmac" \
	"$(CIRCUIT_HMAC=$K "$CIRCUIT" ls -d "$S2_URL" / | wc -l)" 3

# A membership datagram captured on loopback and sent again is dropped and counted.
dgram() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Datagrams"][sys.argv[2]])' "$S1_MNT/$S1_ID/peek" "$1"; }
port=${S1_URL##*:}; port=${port%%/*}
before=$(dgram dropped_replayed)
got=$(timeout 20 python3 - "$port" <<'PY'
import socket, struct, sys, time
port = int(sys.argv[1])
raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
raw.bind(("lo", 0)); raw.settimeout(15)
while True:
    f = raw.recv(65536)
    ip = f[14:]
    if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
        continue
    ihl = (ip[0] & 15) * 4
    sport, dport = struct.unpack(">HH", ip[ihl:ihl + 4])
    if dport == port:
        payload = ip[ihl + 8:struct.unpack(">H", ip[2:4])[0]]
        break
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(payload, ("127.0.0.1", port))
u.sendto(b"\x01" + payload[1:], ("127.0.0.1", port))
print("replayed %d bytes" % len(payload))
PY
)
check "a live membership datagram was captured and sent again" grep -q '^replayed [0-9]* bytes$' <<<"$got"
check "the replay is dropped and counted" wait_for 5 sh -c "test \$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"Datagrams\"][\"dropped_replayed\"])' '$S1_MNT/$S1_ID/peek') -gt $before"
check "the altered copy is counted as forged" test "$(dgram dropped_forged)" -gt 0
check "and logged" wait_for 5 grep -q "membership: .* datagrams dropped" "$S1_ERR"

# 100 MB through a rendezvous channel owned by S3: S1's mount writes, S2's reads.
A=$S1_MNT/$S3_ID; B=$S2_MNT/$S3_ID
mkdir "$A/bulk" && wr "$A/bulk/ctl" "mkchan 0"
expect_bulk "100 MB across keyed servers, sha256" "$A/bulk/send" "$B/bulk/recv"

# Clients without the key.
run() { OUT=$("$@" 2>"$T_TMP/run.err"); RC=$?; ERR=$(cat "$T_TMP/run.err"); }
run "$CIRCUIT" ls -hmac "$K2" -d "$S1_URL" /
expect_eq "the CLI with another key is refused" "$RC:$ERR" "1:circuit ls: $S1_URL: refused: \
the key handshake failed (the server holds another cluster key) (Permission denied)"
run "$CIRCUIT" ls -insecure -d "$S1_URL" /
expect_eq "the CLI without a key is refused" "$RC:$ERR" "1:circuit ls: $S1_URL: refused: \
that server requires a cluster key (-hmac FILE, or your own key without -insecure) (Permission denied)"
check "the server logs the wrong key" wait_for 5 grep -q \
	"the key handshake failed (a wrong cluster key?): dropped" "$S1_ERR"
check "and the missing one" wait_for 5 grep -q \
	"no key handshake: the other side runs without a key, and this server requires" "$S1_ERR"

# Servers without the key cannot join.
for how in "-insecure" "-hmac $K2"; do
	timeout 20 "$CIRCUIT" start -a 127.0.0.1:0 $how -j "$S1_URL" >"$T_TMP/j.out" 2>"$T_TMP/j.err"
	expect_eq "a server started with $how cannot join (exit 1, no URL)" \
		"$?:$(cat "$T_TMP/j.out")" "1:"
	check "and says why" grep -q "circuit start: -j $S1_URL: refused: the cluster keys \
differ, or one side has none" "$T_TMP/j.err"
done
check "the cluster is still the three" roots_are "$(ids_of S1 S2 S3)" S1 S2 S3

# Another local user cannot act through the port of a server that runs with the
# default (its user's own) key: the issue's reproduction.
T_SERVER_FLAGS=
start_server R
chmod 755 "$T_TMP"
cp "$CIRCUIT" "$T_TMP/circuit" && chmod 755 "$T_TMP/circuit"
for home in /nonexistent "$HOME"; do
	out=$(echo '{"Path": "/usr/bin/id"}' | timeout 20 su nobody -s /bin/sh -c \
		"HOME=$home '$T_TMP/circuit' mkproc -d '$R_URL' /$R_ID/p$RANDOM" 2>&1)
	rc=$?
	expect_eq "nobody (HOME=$home) cannot mkproc as root: refused" \
		"$rc:$(grep -c 'circuit mkproc: ' <<<"$out")" "1:1"
done
out=$(echo '{"Path": "/usr/bin/id"}' | timeout 20 su nobody -s /bin/sh -c \
	"'$T_TMP/circuit' mkproc -insecure -d '$R_URL' /$R_ID/p" 2>&1)
expect_eq "nor without a key" "$?:$out" "1:circuit mkproc: $R_URL: refused: that server \
requires a cluster key (-hmac FILE, or your own key without -insecure) (Permission denied)"
expect_eq "no process was made" "$(ls "$R_MNT/$R_ID" | grep -cE '^p[0-9]*$')" 0
check "root's own CLI works with no flag" "$CIRCUIT" mkchan -d "$R_URL" "/$R_ID/mine" 1

# The own key lives beside the seed's ~/.circuit URL file (which stays a file).
mkdir -p "$T_TMP/h" && echo "$R_URL" >"$T_TMP/h/.circuit"
HOME=$T_TMP/h start_server H
expect_eq "a new user's first server makes ~/.circuit.key, mode 600" \
	"$(stat -c %a "$T_TMP/h/.circuit.key")" 600
expect_eq "and that user's CLI uses it with no flag" \
	"$(HOME=$T_TMP/h "$CIRCUIT" ls -d "$H_URL" / | sort)" "$(ids_of H | sed 's|^|/|')"
run env HOME="$T_TMP/h" CIRCUIT="~/.circuit" "$CIRCUIT" ls /
expect_eq "its key is not root's: root's server refuses it" "$RC" 1

# A flood of silent connections: pushed out oldest first, the server keeps serving.
python3 - "${R_URL#circuit://}" >"$T_TMP/flood.out" 2>&1 <<'PY' &
import socket, sys, time
host, port = sys.argv[1].split("/")[0].rsplit(":", 1)
socks = []
for i in range(1000):
    s = socket.socket(); s.connect((host, int(port))); socks.append(s)
print("open", flush=True)
time.sleep(4)
PY
T_PIDS+=($!)
check "1,000 silent connections opened" wait_for 30 grep -q open "$T_TMP/flood.out"
expect_eq "the CLI still works during the flood" \
	"$("$CIRCUIT" peek -d "$R_URL" "/$R_ID/mine" | grep -c '"Cap": 1')" 1
check "the server is healthy" server_healthy R
check "and logged why it dropped them" grep -q \
	"too many connections still in their handshake" "$R_ERR"

# Spoofed HELLO and DEAD on a plaintext cluster: anyone may talk, nobody is evicted.
T_SERVER_FLAGS=-insecure
start_cluster 2 star P || exit 1
PYTHONPATH=$T_PY python3 - "$P1_URL" "$P2_URL" "$P2_ID" >"$T_TMP/spoof.out" 2>&1 <<'PY'
import socket, sys, time
from frames import DEAD, HELLO, msg
p1, p2, p2id = sys.argv[1:4]
addr1 = p1[len("circuit://"):].split("/")[0]
addr2 = p2[len("circuit://"):].split("/")[0]
host, port = addr1.rsplit(":", 1)
c = socket.create_connection((host, int(port)))
fake = "X00000000000000ee"
c.sendall(msg(HELLO, 0, {"id": fake, "url": "circuit://%s/%s" % (addr2, fake)}))
c.sendall(msg(DEAD, 0, {"id": p2id}))
time.sleep(2)
print("sent", flush=True)
PY
expect_eq "the spoofer ran" "$(cat "$T_TMP/spoof.out")" sent
check "P2 is still a member of P1" wait_for 5 sh -c "ls '$P1_MNT' | grep -q $P2_ID"
check "P1 checked P2 instead of believing" grep -q "member $P2_ID .*checking" "$P1_ERR"
check "P2 is healthy" server_healthy P2
check "ops flow P1 -> P2" mkdir "$P1_MNT/$P2_ID/after-spoof"

# Half-sent frames: 300 connections each say HELLO, then a header of a 1 MiB frame and
# a few bytes of it.  The server holds what came, not a frame's worth each.
rss() { awk '/^VmRSS/ { print int($2 / 1024) }' "/proc/$1/status"; }
before=$(rss "$P1_PID")
PYTHONPATH=$T_PY python3 - "${P1_URL#circuit://}" >"$T_TMP/half.out" 2>&1 <<'PY' &
import socket, sys, time
from frames import HDR, HELLO, REQ, msg
host, port = sys.argv[1].split("/")[0].rsplit(":", 1)
hello = msg(HELLO, 0, {"client": "half"})
socks = []
for i in range(300):
    s = socket.create_connection((host, int(port)))
    s.sendall(hello + HDR.pack(1, REQ, 0, 1, 1 << 20) + b"\0" * 100)
    socks.append(s)
print("sent", flush=True)
time.sleep(5)
PY
half=$!
T_PIDS+=("$half")
check "300 half frames sent" wait_for 30 grep -q sent "$T_TMP/half.out"
sleep 0.5
after=$(rss "$P1_PID")
check "the server holds little for them (RSS ${before} -> ${after} MiB)" test $((after - before)) -lt 64
check "and serves meanwhile" server_healthy P1
# Their sockets close before the next step: while the server still accepts them, each
# pushes out the oldest stranger, which could be the next step's connection.
check "the half frames' client ended" wait_for 30 sh -c "! kill -0 $half 2>/dev/null"
# Before its HELLO a stranger gets a small buffer: a larger first frame is refused.
got=$(PYTHONPATH=$T_PY timeout 30 python3 - "${P1_URL#circuit://}" 2>&1 <<'PY'
import socket, sys
from frames import HDR, HELLO
host, port = sys.argv[1].split("/")[0].rsplit(":", 1)
n = 0
for i in range(20):
    s = socket.create_connection((host, int(port))); s.settimeout(10)
    s.sendall(HDR.pack(1, HELLO, 0, 0, 1 << 20) + b"\0" * 100)
    data = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except ConnectionResetError:
        pass
    n += b"oversized frame before HELLO (limit 4096 bytes)" in data
print(n)
PY
)
expect_eq "a 1 MiB first frame is refused at its header, 20 of 20" "$got" 20
finish
