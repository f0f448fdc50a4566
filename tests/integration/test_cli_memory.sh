# Memory comes back: after 100 MB through a channel with `circuit send`/`recv`, the
# server's RSS returns near its idle figure once the transfer is over (issue 8; it
# stayed at ~4x idle).
source "$(dirname "$0")/lib.sh"
start_server A
rss() { awk '/VmRSS/{print $2}' "/proc/$A_PID/status"; }
C=/$A_ID/ch
check "mkchan" "$CIRCUIT" mkchan -d "$A_URL" "$C" 0
idle=$(rss)
timeout 60 "$CIRCUIT" recv -d "$A_URL" "$C" | wc -c >"$T_TMP/n" & r=$!
head -c 100000000 /dev/zero | timeout 60 "$CIRCUIT" send -d "$A_URL" "$C"
wait $r
expect_eq "100 MB went through" "$(cat "$T_TMP/n")" 100000000
back() { [ "$(rss)" -le $((idle + 4096)) ]; }
if grep -q __asan_init "$CIRCUIT" 2>/dev/null; then
	echo "# (AddressSanitizer build: its allocator keeps freed memory in quarantine, RSS not checked)"
else
	wait_for 10 back
	echo "# RSS idle ${idle} kB, after the transfer $(rss) kB"
	check "RSS back within 4 MiB of idle" back
fi
finish
