# No leaked fds, zombies or memory after 1,000 mkproc/rmdir cycles (and some variety:
# killed processes, half-read output, open streams, channels).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_more.sh"
start_server A
M=$A_MNT; X=$A_ID
nfd() { ls /proc/"$A_PID"/fd | wc -l; }
zombies() { ps --ppid "$A_PID" -o stat= | grep -c '^Z'; }
children() { ps --ppid "$A_PID" -o pid= | wc -l; }
rss_kb() { awk '/^VmRSS/ {print $2}' /proc/"$A_PID"/status; }

# warm up once so lazily allocated state is there before counting
mkdir "$M/$X/w"; wr "$M/$X/w/ctl" 'mkproc {"Path":"/bin/true"}'; cat "$M/$X/w/wait" >/dev/null; rmdir "$M/$X/w"
sleep 0.2
fd0=$(nfd); rss0=$(rss_kb)
echo "# before: $fd0 fds, RSS $rss0 kB"

fails=0
t0=$(now_ms)
for i in $(seq 1000); do
	a=$M/$X/cycle$i
	mkdir "$a" || { fails=$((fails + 1)); continue; }
	case $((i % 10)) in
	0)	# a running process killed by rmdir
		wr "$a/ctl" 'mkproc {"Path":"/bin/sleep","Args":["100"]}' || fails=$((fails + 1)) ;;
	1)	# output left unread, stdin never touched
		wr "$a/ctl" 'mkproc {"Path":"/bin/sh","Args":["-c","echo out; echo err >&2"]}' || fails=$((fails + 1))
		timeout 5 cat "$a/wait" >/dev/null || fails=$((fails + 1)) ;;
	2)	# stdin -> cat -> stdout fully used
		wr "$a/ctl" 'mkproc {"Path":"/bin/cat"}' || fails=$((fails + 1))
		wr "$a/stdin" "x$i" || fails=$((fails + 1))
		[ "$(timeout 5 cat "$a/stdout")" = "x$i" ] || fails=$((fails + 1)) ;;
	3)	# a failing mkproc
		wr "$a/ctl" 'mkproc {"Path":"/nonexistent"}' 2>/dev/null && fails=$((fails + 1)) ;;
	4)	# a channel with a buffered message left in it
		wr "$a/ctl" "mkchan 2" && wr "$a/send" "left" || fails=$((fails + 1)) ;;
	5)	# a process scrubbed, then removed
		wr "$a/ctl" 'mkproc {"Path":"/bin/sleep","Args":["100"]}' || fails=$((fails + 1))
		wr "$a/ctl" scrub || fails=$((fails + 1)) ;;
	*)	# the plain cycle: mkproc /bin/true, wait, rmdir
		wr "$a/ctl" 'mkproc {"Path":"/bin/true"}' || fails=$((fails + 1))
		timeout 5 cat "$a/wait" >/dev/null || fails=$((fails + 1)) ;;
	esac
	rmdir "$a" || fails=$((fails + 1))
done
ms=$(( $(now_ms) - t0 ))
echo "# 1000 cycles in $ms ms"
expect_eq "1000 cycles without a failure" "$fails" 0
expect_eq "no anchors left" "$(ls "$M/$X" | tr '\n' ' ')" "ctl error help log peek "
check "every child reaped (no zombies, no children)" wait_for 5 sh -c "[ \$(ps --ppid $A_PID -o pid= | wc -l) -eq 0 ]"
expect_eq "no zombies" "$(zombies)" 0
check "fd count back to where it was" wait_for 5 sh -c "[ \$(ls /proc/$A_PID/fd | wc -l) -le $fd0 ]"
fd1=$(nfd); rss1=$(rss_kb)
echo "# after: $fd1 fds, RSS $rss1 kB"
expect_eq "fds before and after" "$fd1" "$fd0"
if grep -q __asan_init "$CIRCUIT" 2>/dev/null; then
	echo "# (AddressSanitizer build: its quarantine holds freed memory, RSS not checked)"
else
	expect_in "RSS grew by less than 2 MiB" 0 2048 $((rss1 - rss0 < 0 ? 0 : rss1 - rss0))
fi
expect_eq "peek counts no elements" "$(json_field "$M/$X/peek" Elements)" "{}"
check "server still healthy" server_healthy A
finish
