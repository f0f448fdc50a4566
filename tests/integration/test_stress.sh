# Channel stress: 8 concurrent senders x 200 checksummed messages, 4 receivers (every
# message exactly once, per-sender order kept), on cap 0 and cap 4; then 100 MB through
# a cap-0 channel checked by sha256.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_more.sh"
start_target A
M=$A_MNT; X=$A_ID
ST="$T_ROOT/tests/tools/chan_stress.py"
NS=8 NM=200 NR=4

for cap in 0 4; do
	C=$M/$X/stress$cap; mkdir "$C"; wr "$C/ctl" "mkchan $cap"
	rpids=() spids=() outs=()
	for r in $(seq $NR); do
		outs+=("$T_TMP/out.$cap.$r"); : >"$T_TMP/out.$cap.$r"
		timeout 50 python3 "$ST" recv "$C" "$T_TMP/out.$cap.$r" & rpids+=($!)
	done
	for s in $(seq 0 $((NS - 1))); do
		timeout 50 python3 "$ST" send "$C" "$s" $NM & spids+=($!)
	done
	sfail=0
	for p in "${spids[@]}"; do wait_pid 50 "$p" || sfail=$((sfail + 1)); done
	expect_eq "cap $cap: all $NS senders succeeded" "$sfail" 0
	check "cap $cap: close" wr "$C/ctl" "close"
	rfail=0
	for p in "${rpids[@]}"; do wait_pid 20 "$p" || rfail=$((rfail + 1)); done
	expect_eq "cap $cap: all $NR receivers ended at EPIPE" "$rfail" 0
	expect_eq "cap $cap: every message once, intact, per-sender order kept" \
		"$(python3 "$ST" check $NS $NM "${outs[@]}")" \
		"messages=$((NS * NM)) missing=0 duplicated=0 bad=0 disorder=0"
	busy=0
	for o in "${outs[@]}"; do [ -s "$o" ] && busy=$((busy + 1)); done
	expect_eq "cap $cap: all receivers took part" "$busy" "$NR"
	expect_eq "cap $cap: counters" "$(cat "$C/peek")" \
		"{\"Cap\": $cap, \"Closed\": true, \"Aborted\": false, \"NumSend\": $((NS * NM)), \"NumRecv\": $((NS * NM)), \"NumAborted\": 0}"
done

# --- 100 MB through cap 0, sha256 on both sides ---
C=$M/$X/bulk; mkdir "$C"; wr "$C/ctl" "mkchan 0"
timeout 60 sh -c "cat '$C/recv' | sha256sum > '$T_TMP/recv.sum'" & r=$!
t0=$(now_ms)
timeout 60 sh -c "head -c 100000000 /dev/urandom | tee '$C/send' | sha256sum > '$T_TMP/send.sum'"
expect_eq "100 MB sender done" "$?" 0
wait_pid 60 $r; expect_eq "100 MB receiver done" "$?" 0
ms=$(( $(now_ms) - t0 ))
echo "# 100 MB in $ms ms (including generating the random data)"
check "sha256 computed" test -s "$T_TMP/send.sum"
expect_eq "100 MB arrives with the same sha256" "$(cat "$T_TMP/recv.sum")" "$(cat "$T_TMP/send.sum")"
expect_eq "one message" "$(cat "$C/peek")" '{"Cap": 0, "Closed": false, "Aborted": false, "NumSend": 1, "NumRecv": 1, "NumAborted": 0}'

check "server still healthy" server_healthy A
finish
