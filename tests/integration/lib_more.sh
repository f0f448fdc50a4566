# lib_more.sh - helpers on top of lib.sh for the element tests (source after lib.sh).
#   now_ms                      wall clock in milliseconds
#   tool NAME                   build tests/tools/NAME.c into $T_TMP/NAME once; prints its path
#   wr FILE TEXT                one write(2) of TEXT+"\n" to FILE from bash (exact errno text)
#   expect_err_line NAME DIR PATTERN   DIR/error is exactly one line and contains PATTERN
#   expect_in NAME LO HI VALUE  LO <= VALUE <= HI (integers)
#   wait_pid SECS PID           bounded wait for a background child; its status, or 124
#   json_field FILE KEY         the value of KEY in a one-line JSON object (python3)
#   expect_bulk NAME SEND RECV  100 MB written to SEND arrive whole at RECV (two checks)
T_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

now_ms() { date +%s%3N; }

tool() {
	local name=$1
	if [ ! -x "$T_TMP/$name" ]; then
		cc -O2 -o "$T_TMP/$name" "$T_ROOT/tests/tools/$name.c" || {
			echo "cannot build tests/tools/$name.c" >&2; exit 1; }
	fi
	echo "$T_TMP/$name"
}

wr() { timeout 10 bash -c 'printf "%s\n" "$2" > "$1"' wr "$1" "$2"; }

expect_err_line() {
	local name=$1 dir=$2 pat=$3 text lines
	text=$(timeout 5 cat "$dir/error")
	lines=$(printf '%s' "$text" | grep -c '')
	if [ "$lines" -eq 1 ] && [[ "$text" == *"$pat"* ]]; then ok "$name"; else
		not_ok "$name" "error file: $(printf %q "$text") (wanted one line with '$pat')"
	fi
}

expect_in() {
	if [ "$4" -ge "$2" ] 2>/dev/null && [ "$4" -le "$3" ]; then ok "$1"; else
		not_ok "$1" "got $4, wanted $2..$3"
	fi
}

wait_pid() {
	local secs=$1 pid=$2 n
	n=$((secs * 20))
	for _ in $(seq "$n"); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return $?; }
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 124
}

json_field() {
	timeout 10 python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(json.dumps(v))' "$1" "$2"
}

# expect_bulk NAME SEND RECV: 100 MB of random bytes written to the send file SEND of a
# channel are what its recv file RECV gives (seen through another mount, say): the
# writer ends well (check "the 100 MB sender is done") and the sha256 is the same
# (check NAME).
expect_bulk() {
	local name=$1 send=$2 recv=$3 want got s
	head -c 100000000 /dev/urandom >"$T_TMP/100m"
	want=$(sha256sum <"$T_TMP/100m")
	timeout 60 bash -c "cat '$T_TMP/100m' > '$send'" & s=$!
	got=$(timeout 60 cat "$recv" | sha256sum)
	wait_pid 60 "$s"; expect_eq "the 100 MB sender is done" "$?" 0
	expect_eq "$name" "$got" "$want"
	rm -f "$T_TMP/100m"
}
