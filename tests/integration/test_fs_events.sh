# Event-driven readers (issue 8): one poll(2) loop over several stream files opened
# with O_NONBLOCK gets each line as it is produced, and a read on an O_NONBLOCK
# stream file never waits: EAGAIN while nothing is there.
source "$(dirname "$0")/lib.sh"
start_server S1
M=$S1_MNT/$S1_ID
for a in p1 p2; do
	mkdir "$M/$a"
	echo "mkproc {\"Path\":\"/bin/sh\",\"Args\":[\"-c\",\"for i in 1 2 3; do echo $a \$i; sleep 0.2; done\"]}" > "$M/$a/ctl"
done
mkdir "$M/c" && echo 'mkchan 0' > "$M/c/ctl"
(sleep 0.3; (echo m1; sleep 0.3; echo m2) > "$M/c/send") & sender=$!
got=$(timeout 60 python3 "$(dirname "$0")/events.py" "$M/p1/stdout" "$M/p2/stdout" "$M/c/recv")
wait "$sender"
expect_eq "one poll loop reads every stream to its end" "$got" "p1/stdout: p1 1 p1 2 p1 3
p2/stdout: p2 1 p2 2 p2 3
c/recv: m1 m2
open at the end: 0
blocked: 0
eagain: no"

# Reads that would wait: a quiet process's stdout, a message whose sender has not
# written yet, the log once read to its end.
mkdir "$M/q" && echo 'mkproc {"Path":"/bin/sleep","Args":["100"]}' > "$M/q/ctl"
mkdir "$M/c2" && echo 'mkchan 0' > "$M/c2/ctl"
exec {sendfd}> >(cat > "$M/c2/send")
got=$(timeout 60 python3 - "$M" <<'PY'
import os, sys
M = sys.argv[1]
for f in ("q/stdout", "q/stderr", "c2/recv", "log"):
    fd = os.open(M + "/" + f, os.O_RDONLY | os.O_NONBLOCK)
    if f == "log":
        while os.read(fd, 1 << 20):
            pass
    try:
        r = os.read(fd, 100)
    except BlockingIOError:
        r = "EAGAIN"
    print(f, r)
PY
)
exec {sendfd}>&-
expect_eq "an O_NONBLOCK read that would wait is EAGAIN" "$got" "q/stdout EAGAIN
q/stderr EAGAIN
c2/recv EAGAIN
log EAGAIN"
check "EAGAIN is not an error of the anchor" test ! -s "$M/q/error"
echo scrub > "$M/q/ctl"
finish
