#!/usr/bin/env python3
"""chan_stress.py: concurrent senders and receivers on one channel, through its files.

  chan_stress.py send DIR SENDER COUNT   send COUNT messages, one open-write-close each:
        "SENDER SEQ SHA256(payload) payload", payload 0..3000 bytes chosen from SENDER
        and SEQ; every third message is written in several write() calls.
  chan_stress.py recv DIR OUT            receive until the channel is closed and drained
        (open fails EPIPE); append each message, in the order received, as one line
        "SENDER SEQ OK|BAD" to OUT.
  chan_stress.py check SENDERS COUNT OUT...   every (sender, seq) exactly once, good
        checksums, and in each OUT each sender's sequence numbers increasing.
"""
import errno, hashlib, os, random, sys


def payload(sender, seq):
    r = random.Random(sender * 100003 + seq)
    n = r.randrange(0, 3000)
    return bytes(r.randrange(97, 123) for _ in range(n))


def send(d, sender, count):
    for seq in range(count):
        p = payload(sender, seq)
        msg = b"%d %d %s %s" % (sender, seq, hashlib.sha256(p).hexdigest().encode(), p)
        fd = os.open(os.path.join(d, "send"), os.O_WRONLY)
        if seq % 3 == 0 and len(msg) > 10:
            k = len(msg) // 3
            for part in (msg[:k], msg[k:2 * k], msg[2 * k:]):
                os.write(fd, part)
        else:
            assert os.write(fd, msg) == len(msg)
        os.close(fd)


def recv(d, out):
    with open(out, "a") as f:
        while True:
            try:
                fd = os.open(os.path.join(d, "recv"), os.O_RDONLY)
            except OSError as e:
                if e.errno == errno.EPIPE:
                    return
                raise
            chunks = []
            while True:
                b = os.read(fd, 65536)
                if not b:
                    break
                chunks.append(b)
            os.close(fd)
            m = b"".join(chunks)
            parts = m.split(b" ", 3)
            if len(parts) < 3:
                f.write("? ? BAD\n")
                continue
            p = parts[3] if len(parts) == 4 else b""
            good = hashlib.sha256(p).hexdigest().encode() == parts[2]
            f.write("%s %s %s\n" % (parts[0].decode(), parts[1].decode(), "OK" if good else "BAD"))
            f.flush()


def check(senders, count, outs):
    seen = {}
    bad = 0
    disorder = 0
    for out in outs:
        last = {}
        for line in open(out):
            s, q, st = line.split()
            if st != "OK":
                bad += 1
                continue
            s, q = int(s), int(q)
            seen[(s, q)] = seen.get((s, q), 0) + 1
            if q <= last.get(s, -1):
                disorder += 1
            last[s] = q
    missing = sum(1 for s in range(senders) for q in range(count) if (s, q) not in seen)
    dup = sum(n - 1 for n in seen.values() if n > 1)
    print("messages=%d missing=%d duplicated=%d bad=%d disorder=%d" %
          (sum(seen.values()), missing, dup, bad, disorder))


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "recv":
        recv(sys.argv[2], sys.argv[3])
    else:
        check(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:])
