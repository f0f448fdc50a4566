# mount.circuit as mount(8) and /etc/fstab run it, after `make install` (issue 12),
# and the daemon it leaves behind (issue 8):
#  - `mount -t circuit` with a minimal PATH finds the circuit it was installed with
#    (PREFIX outside every PATH); an fstab line mounts with `mount DIR` and `mount -a`
#    (mount -T FILE), also joining another server (j=); umount stops either;
#  - the log goes to /var/log/circuit/NAME.log or VAR/server.log, is the daemon's
#    stderr, and is reopened on SIGHUP, with VAR/log; logrotate with the installed
#    policy rotates it;
#  - a symlink planted at the old log path (/tmp/circuit-mount.log) or at the log's
#    path is never followed;
#  - the daemon keeps no stray descriptor of mount.circuit: processes it runs see only
#    their 0, 1, 2;
#  - `circuit start` tells systemd READY=1 (sd_notify) once its mount answers.
# mount(8) finds helpers only in /sbin: this test runs in a mount namespace of its own
# where an overlay adds the installed mount.circuit to /usr/sbin, seen by nobody else.
if [ -z "${CIRCUIT_TEST_NS:-}" ]; then
	exec unshare --mount --propagation private env CIRCUIT_TEST_NS=1 bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
P=$T_TMP/prefix
MINPATH=/usr/sbin:/usr/bin:/sbin:/bin
PLANTED=()
trap 'rm -f "${PLANTED[@]}"; t_cleanup' EXIT

make -s -C "$ROOT" install PREFIX="$P" SBINDIR="$P/sbin" SYSCONFDIR="$P/etc" >"$T_TMP/make.log" 2>&1 ||
	{ cat "$T_TMP/make.log" >&2; exit 1; }
mount -t overlay overlay -o "lowerdir=$P/sbin:/usr/sbin" /usr/sbin ||
	{ echo "cannot overlay /usr/sbin" >&2; exit 1; }

# daemon_of DIR: the PID of the server mounted at DIR (also cleaned up at exit).
daemon_of() {
	local pid
	pid=$(pgrep -f "circuit start -m $1( |\$)" | head -1)
	[ -n "$pid" ] && T_PIDS+=("$pid")
	echo "$pid"
}
# logname DIR: the default log of the mount at DIR.
logname() { local n=${1#/}; echo "/var/log/circuit/${n//\//-}.log"; }
# quiet CMD...: CMD with its standard output (mount.circuit's URL) dropped.
quiet() { "$@" >/dev/null; }
# gone PID: the process has exited (bounded wait).
gone() { wait_for 10 sh -c "! kill -0 $1"; }

# --- mount -t circuit, minimal PATH, default log ---
M1=$T_TMP/m1
mkdir -p "$M1"
T_MNTS+=("$M1")
PLANTED+=("$(logname "$M1")")
[ -e /tmp/circuit-mount.log ] || { echo victim >"$T_TMP/victim"; ln -s "$T_TMP/victim" /tmp/circuit-mount.log &&
	PLANTED+=(/tmp/circuit-mount.log); }
url=$(env -i PATH=$MINPATH mount -t circuit circuit "$M1" -o a=127.0.0.1:0,nosuid 2>"$T_TMP/err")
expect_eq "mount -t circuit with a minimal PATH" "$?:$(cat "$T_TMP/err")" "0:"
check "it prints the URL" test "${url#circuit://127.0.0.1:}" != "$url"
pid1=$(daemon_of "$M1")
expect_eq "the root lists the server" "$(ls "$M1" | grep ^X)" "${url##*/}"
expect_eq "the daemon is the installed circuit" "$(readlink "/proc/$pid1/exe")" "$P/bin/circuit"
expect_eq "its log is $(logname "$M1"), as its stderr" "$(readlink "/proc/$pid1/fd/2")" "$(logname "$M1")"
expect_eq "the log is the daemon's alone" "$(stat -c %a:%U "$(logname "$M1")")" "640:root"
expect_eq "a symlink at the old log path is not followed" "$(cat "$T_TMP/victim" 2>/dev/null || echo victim)" victim

# logrotate with the installed policy, on this log only: rotated, and the daemon
# (found by its stderr, told by SIGHUP) writes to the new file.
sed "s|^/var/log/circuit/\*.log|$(logname "$M1")|" "$P/etc/logrotate.d/circuit" >"$T_TMP/logrotate.conf"
PLANTED+=("$(logname "$M1").1")
echo "a line to rotate" >>"$(logname "$M1")"
check "logrotate runs the installed policy" logrotate -f -s "$T_TMP/logrotate.state" "$T_TMP/logrotate.conf"
check "logrotate: the old log moved to .1" grep -q "a line to rotate" "$(logname "$M1").1"
check "logrotate: the daemon reopened the log" \
	wait_for 10 grep -q "SIGHUP: log files reopened" "$(logname "$M1")"
expect_eq "logrotate: the daemon's stderr is the new file" "$(readlink "/proc/$pid1/fd/2")" "$(logname "$M1")"

X=$(ls "$M1" | grep ^X)
mkdir "$M1/$X/fds"
echo 'mkproc {"Path":"/bin/ls","Args":["/proc/self/fd"]}' >"$M1/$X/fds/ctl"
expect_eq "a process of the daemon inherits no stray descriptor" \
	"$(timeout 10 cat "$M1/$X/fds/stdout" | tr '\n' ' ')" "0 1 2 3 "

check "umount stops it" env -i PATH=$MINPATH umount "$M1"
check "the daemon exits" gone "$pid1"

# --- a symlink at the log's own path is refused, and not followed ---
M2=$T_TMP/m2
mkdir -p "$M2"
T_MNTS+=("$M2")
echo victim >"$T_TMP/victim2"
ln -s "$T_TMP/victim2" "$(logname "$M2")" && PLANTED+=("$(logname "$M2")")
env -i PATH=$MINPATH mount -t circuit circuit "$M2" -o a=127.0.0.1:0 >/dev/null 2>"$T_TMP/err"
expect_eq "a symlink at the log path fails the mount" "$?" 32
check "saying why" grep -q "is a symbolic link (refused" "$T_TMP/err"
expect_eq "and is not followed" "$(cat "$T_TMP/victim2")" victim
check "nothing is mounted" sh -c "! grep -q ' $M2 ' /proc/mounts"

# --- fstab: mount DIR, mount -a, a=...,j=..., var= ---
mkdir -p "$M1" "$M2"
cat >"$T_TMP/fstab" <<FSTAB
# A test's own fstab (mount -T)
circuit $M1 circuit defaults,_netdev,a=127.0.0.1:0,var=$T_TMP/var1 0 0
FSTAB
check "fstab: mount DIR" quiet env -i PATH=$MINPATH mount -T "$T_TMP/fstab" "$M1"
pid1=$(daemon_of "$M1")
url1=$(cat "$T_TMP/var1/url")
check "fstab: the URL is in VAR/url" test "${url1#circuit://127.0.0.1:}" != "$url1"
expect_eq "fstab: the log is VAR/server.log" "$(readlink "/proc/$pid1/fd/2")" "$T_TMP/var1/server.log"
echo "circuit $M2 circuit defaults,_netdev,a=127.0.0.1:0,j=$url1 0 0" >>"$T_TMP/fstab"
PLANTED+=("$(logname "$M2")")
rm -f "$(logname "$M2")"
check "fstab: mount -a mounts the rest" quiet env -i PATH=$MINPATH mount -a -T "$T_TMP/fstab"
pid2=$(daemon_of "$M2")
check "fstab: j= joined the first server" wait_for 10 sh -c "[ \$(ls '$M2' | grep -c ^X) -eq 2 ]"

# --- SIGHUP reopens the log and VAR/log (logrotate) ---
mv "$T_TMP/var1/server.log" "$T_TMP/var1/server.log.1"
mv "$T_TMP/var1/log" "$T_TMP/var1/log.1"
kill -HUP "$pid1"
check "SIGHUP: a new server.log" wait_for 10 grep -q "SIGHUP: log files reopened" "$T_TMP/var1/server.log"
check "SIGHUP: the server still runs" kill -0 "$pid1"
X=$(ls "$M1" | grep "^${url1##*/}")
mkdir "$M1/$X/after-hup"
check "SIGHUP: VAR/log is written anew" wait_for 10 grep -q "after-hup" "$T_TMP/var1/log"
check "SIGHUP: nothing new in the rotated one" sh -c "! grep -q after-hup '$T_TMP/var1/log.1'"

check "umount of an fstab mount" env -i PATH=$MINPATH umount "$M2"
check "umount of the other" env -i PATH=$MINPATH umount "$M1"
check "both daemons exit" sh -c "$(declare -f wait_for gone); gone $pid1 && gone $pid2"

# --- sd_notify: READY=1 comes once the mount answers ---
M3=$T_TMP/m3
mkdir -p "$M3"
T_MNTS+=("$M3")
cat >"$T_TMP/notify.py" <<'PY'
import os, socket, subprocess, sys
path, mnt, circuit = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(20)
p = subprocess.Popen([circuit, "start", "-a", "127.0.0.1:0", "-m", mnt],
                     env=dict(os.environ, NOTIFY_SOCKET=path), stdout=subprocess.DEVNULL)
print(p.pid, flush=True)
msg = s.recv(4096).decode()
ready = "READY=1" in msg.split("\n")
answers = any(n.startswith("X") for n in os.listdir(mnt))
print("READY=1" if ready else msg, "and the mount answers" if answers else "but no mount", flush=True)
PY
timeout 30 python3 "$T_TMP/notify.py" "$T_TMP/notify.sock" "$M3" "$CIRCUIT" >"$T_TMP/notify.out" 2>&1
pid3=$(head -1 "$T_TMP/notify.out")
[ -n "$pid3" ] && T_PIDS+=("$pid3")
expect_eq "sd_notify: READY=1 once the mount answers" "$(sed -n 2p "$T_TMP/notify.out")" \
	"READY=1 and the mount answers"
finish
