# Five hosts in network namespaces around a bridge in a "switch" namespace (DESIGN.md):
# each runs `circuit start -if eI -discover` with no -j.  They find each other by
# multicast; a partition ({1,2,3} | {4,5}) drops each side from the other within 5 s
# and @leave fires; the heal merges them within 30 s and @join fires; a server killed
# and started again with the same command line rejoins and its earlier self is gone;
# -if picks the interface's address; `mount.circuit -o discover,if=eI` does all this from
# a mount (host 5 again).  Namespaces are unique to this run, always deleted.
source "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
	echo "ok - skipped (needs root and iproute2)"; finish; exit
fi
P=cm$$
SW=${P}sw
N=5
ns_cleanup() {
	t_cleanup
	for i in $(seq $N); do ip netns del "${P}h$i" 2>/dev/null; done
	ip netns del "$SW" 2>/dev/null
}
trap ns_cleanup EXIT
ip netns add "$SW" && ip -n "$SW" link add br0 type bridge && ip -n "$SW" link set br0 up &&
    ip -n "$SW" link add br1 type bridge && ip -n "$SW" link set br1 up || exit 1
for i in $(seq $N); do
	h=${P}h$i
	ip netns add "$h" &&
	ip link add "e$i" netns "$h" type veth peer name "s$i" netns "$SW" &&
	ip -n "$SW" link set "s$i" master br0 up &&
	ip -n "$h" addr add "10.77.0.$i/24" dev "e$i" &&
	ip -n "$h" link set "e$i" up && ip -n "$h" link set lo up &&
	ip -n "$h" route add 224.0.0.0/4 dev "e$i" || exit 1
done

# run_on I CMD...: a circuit command inside host I.
run_on() { local i=$1; shift; ip netns exec "${P}h$i" "$CIRCUIT" "$@"; }
# two_events NAME: the next two events of host 1's subscription NAME, sorted.
two_events() {
	local k
	for k in 1 2; do timeout 10 ip netns exec "${P}h1" "$CIRCUIT" recv -d "${URL[1]}" \
	    "/${ID[1]}/$1" 2>&1; done | sort
}
start_on() {
	local i=$1 out="$T_TMP/out$i.$2"
	ip netns exec "${P}h$i" "$CIRCUIT" start -if "e$i" -discover >"$out" 2>"$T_TMP/err$i.$2" &
	T_PIDS+=("$!")
	PID[$i]=$!
	wait_for 10 grep -q '^circuit://' "$out" || { echo "host $i did not start" >&2; cat "$T_TMP/err$i.$2" >&2; exit 1; }
	URL[$i]=$(head -1 "$out")
	ID[$i]=${URL[$i]##*/}
}
# roots_on I IDS...: host I lists exactly these servers.
roots_on() {
	local i=$1; shift
	[ "$(run_on "$i" ls -d "${URL[$i]}" / 2>/dev/null)" == "$(printf '/%s\n' "$@" | sort)" ]
}
declare -a PID URL ID
for i in $(seq $N); do start_on "$i" 1; done
for i in $(seq $N); do
	expect_eq "-if: host $i listens on its address" "${URL[$i]%:*}" "circuit://10.77.0.$i"
done
for i in $(seq $N); do
	check "host $i discovers everyone" wait_for 20 roots_on "$i" "${ID[@]:1}"
done

expect_eq "CLI -discover finds a server" "$(timeout 10 ip netns exec "${P}h3" "$CIRCUIT" ls \
    -discover /)" "$(printf '/%s\n' "${ID[@]:1}" | sort)"
# A query is answered without a key, to whatever source it names: at most 10 answers
# a second, or a forged flood would be reflected (6 times larger) at its victim.
got=$(timeout 30 ip netns exec "${P}h3" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for _ in range(200):
    s.sendto(b"circuit-query 1\n", ("10.77.0.1", 8822))
n = 0
try:
    while True:
        s.recv(2048)
        n += 1
except OSError:
    pass
print("answers", n)')
check "200 queries at once get 1 to 20 answers (got: $got)" \
    test "${got#answers }" -ge 1 -a "${got#answers }" -le 20
expect_eq "CLI -discover still finds a server" "$(timeout 10 ip netns exec "${P}h1" "$CIRCUIT" \
    ls -discover /)" "$(printf '/%s\n' "${ID[@]:1}" | sort)"
expect_fail "CLI -discover with nobody there fails" "no server answered" \
    timeout 10 ip netns exec "${P}h3" "$CIRCUIT" ls -discover 228.8.8.9:9999 /
check "mk@leave on host 1" run_on 1 mk@leave -d "${URL[1]}" "/${ID[1]}/l"
check "mk@join on host 1" run_on 1 mk@join -d "${URL[1]}" "/${ID[1]}/j"

# Partition: hosts 4 and 5 move to a bridge of their own.
ip -n "$SW" link set s4 master br1 && ip -n "$SW" link set s5 master br1
for i in 1 2 3; do
	check "partition: host $i drops 4 and 5 within 5 s" \
	    wait_for 5 roots_on "$i" "${ID[1]}" "${ID[2]}" "${ID[3]}"
done
for i in 4 5; do
	check "partition: host $i drops 1, 2, 3 within 5 s" wait_for 5 roots_on "$i" "${ID[4]}" "${ID[5]}"
done
expect_eq "@leave fired for 4 and 5" "$(two_events l)" "$(printf '/%s\n' "${ID[4]}" "${ID[5]}" | sort)"

# Heal.
ip -n "$SW" link set s4 master br0 && ip -n "$SW" link set s5 master br0
for i in $(seq $N); do
	check "heal: host $i lists everyone within 30 s" wait_for 30 roots_on "$i" "${ID[@]:1}"
done
expect_eq "@join fired for 4 and 5" "$(two_events j)" "$(printf '/%s\n' "${ID[4]}" "${ID[5]}" | sort)"

# Blind restart: the same command line on host 5.
old=${ID[5]}
{ kill -KILL "${PID[5]}"; wait "${PID[5]}"; } 2>/dev/null
start_on 5 2
check "restart: a new identity" test "$old" != "${ID[5]}"
for i in $(seq $N); do
	check "restart: host $i lists the new one, not the old" wait_for 15 roots_on "$i" "${ID[@]:1}"
done

# mount.circuit -o discover,if=e5 on host 5: no -j, no address.  `ip netns exec` gives
# the helper and its daemon a mount namespace of their own, so the mount is read
# through the daemon's (nsenter), and goes away with it.  nsenter -r keeps the
# daemon's root: entering a mount namespace resets the root to the namespace's, which
# under a chroot (tests/fresh-machine.sh) is not the one the test's paths are in.
old=${ID[5]}
{ kill -KILL "${PID[5]}"; wait "${PID[5]}"; } 2>/dev/null
M5=$T_TMP/m5
mkdir -p "$M5"
URL[5]=$(ip netns exec "${P}h5" "$BIN/mount.circuit" "$M5" \
    -o "discover,if=e5,log=$T_TMP/mount5.log" 2>"$T_TMP/mount5.err")
mpid=$(pgrep -f "circuit start -m $M5" | head -1)
[ -n "$mpid" ] && T_PIDS+=("$mpid")
ID[5]=${URL[5]##*/}
check "mount.circuit -o discover,if=e5: a server on e5's address" \
    test "${URL[5]%:*}" == "circuit://10.77.0.5" -a "$old" != "${ID[5]}"
for i in $(seq $N); do
	check "mount: host $i lists the mounted server, not the old" \
	    wait_for 15 roots_on "$i" "${ID[@]:1}"
done
expect_eq "the mount lists every server" "$(nsenter -t "$mpid" -m -r ls "$M5" | grep '^X')" \
    "$(printf '%s\n' "${ID[@]:1}" | sort)"
finish
