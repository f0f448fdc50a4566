# A read at an offset (what tail -f does) of a frozen server's stdout ends at once when
# interrupted (issue 8: every wait has an end).  Such a read used to wait for the
# owner's answer, so a stopped owner held it until the membership dropped the owner
# (EHOSTDOWN seconds later) and the interrupt went unheard.  The frozen server is
# started with start_stoppable (setsid) and is always continued and killed on exit.
source "$(dirname "$0")/lib.sh"
start_server S1
start_stoppable S2 -j "$S1_URL"
M=$S1_MNT
check "the cluster has both servers" wait_for 10 test -e "$M/$S2_ID/peek"
mkdir "$M/$S2_ID/p"
echo 'mkproc {"Path": "/bin/sh", "Args": ["-c", "echo one; echo two; exec cat"]}' >"$M/$S2_ID/p/ctl"
check "its output is there" wait_for 10 sh -c "cat '$M/$S2_ID/p/peek' | grep -q running"

# The reader: lseek(SEEK_END) and a read at offset 0 (as tail does), then it stops the
# owner itself and reads at the end; an alarm interrupts that read after 0.3 s.
cat >"$T_TMP/reader.py" <<'PY'
import os, signal, sys, time
class Alarm(Exception):
    pass
def ring(sig, frame):
    raise Alarm()
signal.signal(signal.SIGALRM, ring)
fd = os.open(sys.argv[1], os.O_RDONLY)
end = os.lseek(fd, 0, os.SEEK_END)
deadline = time.time() + 20
while end < 8 and time.time() < deadline:	# both lines printed
    time.sleep(0.1)
    end = os.lseek(fd, 0, os.SEEK_END)
print("start %r" % os.pread(fd, 100, 0), flush=True)
os.kill(int(sys.argv[2]), signal.SIGSTOP)
signal.setitimer(signal.ITIMER_REAL, 0.3)
try:
    os.pread(fd, 100, end)
    print("read returned")
except Alarm:
    print("interrupted")
except OSError as e:
    print("failed: %s" % os.strerror(e.errno))
PY
timeout 60 python3 "$T_TMP/reader.py" "$M/$S2_ID/p/stdout" "$S2_PID" >"$T_TMP/reader.out" 2>&1
expect_eq "the interrupt ends the read, not the owner's death" "$(cat "$T_TMP/reader.out")" \
"start b'one\\ntwo\\n'
interrupted"
kill -CONT "$S2_PID"
check "after SIGCONT the owner's process answers again" wait_for 20 sh -c "cat '$M/$S2_ID/p/peek' | grep -q running"
check "S1 healthy" server_healthy S1
finish
