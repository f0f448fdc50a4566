# Keyed connections that stop half way are dropped at their deadline (issue 10): one
# that stops in the middle of its AUTH frame, one that sends its AUTH frame and no
# HELLO, one that stops in the middle of a record, one whose whole records hold half a
# frame.  A connection that is idle between frames is kept.  The deadlines are 10 s
# (handshake) and 30 s (a stalled frame or record); CIRCUIT_TEST_DEADLINE_MS sets both
# so that this test takes seconds.  A small Python client speaks the key handshake and
# the records itself, through libsodium (ctypes), as docs/protocol.md describes them.
source "$(dirname "$0")/lib.sh"

K=$T_TMP/key
"$CIRCUIT" keygen >"$K" && chmod 600 "$K"
CIRCUIT_TEST_DEADLINE_MS=3000 start_server R -hmac "$K"

got=$(PYTHONPATH=$T_PY timeout 60 python3 - "${R_URL#circuit://}" "$K" 2>&1 <<'PY'
import ctypes, ctypes.util, select, socket, struct, sys, time

from frames import AUTH, HDR, HELLO, REQ, frame, msg

lib = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
assert lib.sodium_init() >= 0
B, Z, U = ctypes.c_char_p, ctypes.c_size_t, ctypes.c_ulonglong
lib.crypto_generichash.argtypes = [B, Z, B, U, B, Z]
lib.crypto_kx_keypair.argtypes = [B, B]
lib.crypto_kx_client_session_keys.argtypes = [B, B, B, B, B]
lib.crypto_aead_chacha20poly1305_ietf_encrypt_detached.argtypes = [
    B, B, ctypes.c_void_p, B, U, B, U, ctypes.c_void_p, B, B]
lib.crypto_aead_chacha20poly1305_ietf_decrypt_detached.argtypes = [
    B, ctypes.c_void_p, B, U, B, B, U, B, B]

addr = sys.argv[1].split("/")[0]
host, port = addr.rsplit(":", 1)
ckey = bytes.fromhex(open(sys.argv[2]).read().strip())


def blake(data, key=None, n=32):
    out = ctypes.create_string_buffer(n)
    lib.crypto_generichash(out, n, data, len(data), key, len(key) if key else 0)
    return out.raw


def recv_exact(s, n):
    d = b""
    while len(d) < n:
        c = s.recv(n - len(d))
        if not c:
            raise EOFError
        d += c
    return d


class Keyed:
    """A client connection through the key handshake (we dial; no AES: ChaCha20)."""

    def __init__(self):
        self.s = socket.create_connection((host, int(port)), timeout=20)
        pk, sk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(32)
        lib.crypto_kx_keypair(pk, sk)
        mine = frame(AUTH, 0, pk.raw + b"\0")
        self.s.sendall(mine)
        h = recv_exact(self.s, HDR.size)
        theirs = h + recv_exact(self.s, HDR.unpack(h)[4])
        rx, tx = ctypes.create_string_buffer(32), ctypes.create_string_buffer(32)
        assert lib.crypto_kx_client_session_keys(rx, tx, pk.raw, sk.raw,
                                                 theirs[HDR.size:HDR.size + 32]) == 0
        th = blake(mine + theirs)
        self.tx = blake(b"circuit dialer\0" + th + tx.raw, ckey)
        self.rx = blake(b"circuit acceptor\0" + th + rx.raw, ckey)
        self.txseq = self.rxseq = 0

    def record(self, plain):
        ln = struct.pack(">I", len(plain))
        ct, tag = ctypes.create_string_buffer(len(plain)), ctypes.create_string_buffer(16)
        nonce = b"\0" * 4 + struct.pack("<Q", self.txseq)
        self.txseq += 1
        lib.crypto_aead_chacha20poly1305_ietf_encrypt_detached(
            ct, tag, None, plain, len(plain), ln, 4, None, nonce, self.tx)
        return ln + ct.raw + tag.raw

    def read_record(self):
        ln = recv_exact(self.s, 4)
        n = struct.unpack(">I", ln)[0]
        body = recv_exact(self.s, n + 16)
        out = ctypes.create_string_buffer(n)
        nonce = b"\0" * 4 + struct.pack("<Q", self.rxseq)
        self.rxseq += 1
        if lib.crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                out, None, body[:n], n, body[n:], ln, 4, nonce, self.rx) != 0:
            raise ValueError("a record from the server does not open")
        return out.raw

    def hello(self):
        self.s.sendall(self.record(msg(HELLO, 0, {"client": "stall-test"})))
        f = self.read_record()
        assert f[1] == HELLO, f[:2]


def up():
    """A connection through its handshake and HELLO.  On a loaded machine the deadline
    may pass before this client gets there: then try again (three times at most)."""
    for attempt in range(3):
        try:
            k = Keyed()
            k.hello()
            return k
        except (EOFError, OSError):
            pass
    raise SystemExit("no connection got through its handshake and HELLO in time")


conns = {}
# Half an AUTH frame, then silence.
s = socket.create_connection((host, int(port)), timeout=20)
s.sendall(frame(AUTH, 0, b"\1" * 33)[:20])
conns["half AUTH frame"] = s
# A whole AUTH frame, then no HELLO.
k = Keyed()
conns["AUTH and no HELLO"] = k.s
# Up, then the first 30 bytes of a 100-byte record.
k = up()
k.s.sendall(k.record(b"\0" * 100)[:30])
conns["half a record"] = k.s
# Up, then a whole record that holds the first 62 bytes of a 1,012-byte frame.
k = up()
k.s.sendall(k.record(HDR.pack(1, REQ, 0, 1, 1000) + b"\0" * 50))
conns["half a frame in whole records"] = k.s
# Up and idle between frames: kept.
idle = up()
print("handshakes done", flush=True)

# Each stalled one must be closed by the server (EOF), within a generous bound.
left = dict(conns)
end = time.time() + 40
while left and time.time() < end:
    r, _, _ = select.select(list(left.values()), [], [], 1)
    for name, s in list(left.items()):
        if s in r:
            try:
                d = s.recv(65536)
            except OSError:
                d = b""
            if not d:
                print("closed: %s" % name, flush=True)
                del left[name]
for name in left:
    print("still open: %s" % name, flush=True)
# The idle one is still open once every stalled one has gone (it has been quiet
# longer than they have), and a while later: the deadline is for bytes that stop half
# way, not for quiet.
time.sleep(2)
r, _, _ = select.select([idle.s], [], [], 0)
print("idle connection %s" % ("closed" if r else "kept"), flush=True)
PY
)
echo "$got" | sed 's/^/   /'
check "the Python client completed the key handshake" grep -qx "handshakes done" <<<"$got"
for what in "half AUTH frame" "AUTH and no HELLO" "half a record" "half a frame in whole records"; do
	check "dropped: $what" grep -qx "closed: $what" <<<"$got"
done
expect_eq "a connection idle between frames is kept" \
	"$(grep '^idle connection' <<<"$got")" "idle connection kept"
check "the log says: key handshake timed out" grep -q "key handshake timed out: dropped" "$R_ERR"
check "the log says: HELLO timed out" grep -q "HELLO timed out: dropped" "$R_ERR"
expect_eq "the log says twice: a frame half received" \
	"$(grep -c "a frame half received: no byte for 3 s: dropped" "$R_ERR")" 2
check "the server still serves" "$CIRCUIT" ls -hmac "$K" -d "$R_URL" /
finish
