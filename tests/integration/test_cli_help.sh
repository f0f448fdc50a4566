# The circuit CLI without a cluster: help, -h, usage errors, dial-in errors, keygen.
# Nothing here dials a server, so these checks also hold before the network half.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_cli.sh"

run "$C" help
expect_eq "help exits 0" "$RC" 0
expect_eq "help first line" "$(head -1 <<<"$OUT")" "usage: circuit COMMAND [flags] [args]"
for cmd in start ls peek scrub mkproc mkdkr stdin stdout stderr wait waitall signal \
	mkchan send recv close mkdns set unset mk@join mk@leave join suicide stk keygen help; do
	check "help lists $cmd" grep -q "^  $cmd " <<<"$OUT"
done
expect_eq "help mkchan line" "$(grep '^  mkchan ' <<<"$OUT")" \
	"  mkchan PATH CAP     make a channel with buffer capacity CAP at PATH"
check "help tells -d" grep -q '^  -d URL ' <<<"$OUT"
check "help tells CIRCUIT" grep -q '^  CIRCUIT ' <<<"$OUT"
expect_eq "help writes nothing on stderr" "$ERR" ""
# Output that cannot be written is a failure, never a silent exit 0.
OUT=$("$C" help 2>&1 >/dev/full); RC=$?
expect_eq "help to a full disk fails and says so" "$RC:$OUT" \
	"1:circuit help: writing standard output: No space left on device"
OUT=$("$C" ls -h 2>&1 >/dev/full); RC=$?
expect_eq "ls -h to a full disk fails and says so" "$RC:$OUT" \
	"1:circuit ls: writing standard output: No space left on device"

run "$C" ls -h
expect_eq "ls -h exits 0" "$RC" 0
expect_eq "ls -h head" "$(head -3 <<<"$OUT")" "usage: circuit ls [-d URL] [-l] PATH

list the anchors under PATH (PATH/... recursively; / lists the servers)."
check "ls -h has the recursive example" grep -qx '  circuit ls -l /\.\.\.' <<<"$OUT"
LS_H=$OUT
run "$C" help ls
expect_eq "help ls is ls -h" "$OUT" "$LS_H"
run "$C" -h ls
expect_eq "-h before the command" "$OUT" "$LS_H"
for cmd in ls peek scrub mkproc mkdkr stdin stdout stderr wait waitall signal mkchan send \
	recv close mkdns set unset mk@join mk@leave join suicide stk keygen help; do
	run "$C" "$cmd" -h
	check "$cmd -h has an example" test "$RC" = 0 -a -n "$(grep -A1 '^Examples\?:$' <<<"$OUT" | grep "circuit $cmd")"
done

run "$C"
expect_eq "no command exits 2" "$RC" 2
expect_eq "no command: one line on stderr" "$ERR" "circuit: no command given (try circuit help)"
expect_eq "no command: nothing on stdout" "$OUT" ""
run "$C" frobnicate /
expect_eq "unknown command" "$RC:$ERR" "2:circuit: unknown command frobnicate (try circuit help)"
run "$C" ls -x /
expect_eq "unknown flag" "$RC:$ERR" "2:circuit ls: -x: unknown flag (usage: circuit ls [-l] PATH)"
run "$C" ls /X0123456789abcdef -d
expect_eq "-d without a value" "$RC:$ERR" "2:circuit ls: -d: needs a value (usage: circuit ls [-l] PATH)"
run "$C" peek -l /X0123456789abcdef
expect_eq "-l is for ls only" "$RC:$ERR" "2:circuit peek: -l applies only to ls (usage: circuit peek PATH)"
run "$C" mkchan /X0123456789abcdef/c
expect_eq "missing argument" "$RC:$ERR" "2:circuit mkchan: missing arguments (usage: circuit mkchan PATH CAP)"
run "$C" peek /X0123456789abcdef/a /b
expect_eq "too many arguments" "$RC:$ERR" "2:circuit peek: too many arguments (usage: circuit peek PATH)"
run "$C" mkchan /X0123456789abcdef/c three
expect_eq "bad capacity" "$RC:$ERR" \
	"2:circuit mkchan: CAP must be a whole number >= 0, not 'three' (usage: circuit mkchan PATH CAP)"
run "$C" mkchan /X0123456789abcdef/c -1
expect_eq "negative capacity" "$RC" 2
run "$C" peek X0123456789abcdef
expect_eq "relative path" "$RC" 2
check "relative path: says why" grep -q "an anchor path starts with /" <<<"$ERR"
run "$C" start -a
check "start keeps its own flags" test "$RC" -ne 0

run "$C" mkproc /X0123456789abcdef/p <<<'{"Path": "/bin/ls", "Args": ["/"]'
expect_eq "mkproc bad JSON" "$RC:$ERR" \
	"1:circuit mkproc: bad JSON on standard input at line 1 column 33: '}' expected near end of file"
run "$C" mkproc /X0123456789abcdef/p <<<'["/bin/ls"]'
expect_eq "mkproc JSON not an object" "$RC:$ERR" \
	'1:circuit mkproc: standard input must hold a JSON object, like {"Path": "/bin/ls", "Args": ["/"]}'
run "$C" mkproc /X0123456789abcdef/p </dev/null
expect_eq "mkproc empty stdin" "$RC" 2
check "mkproc empty stdin: says what to give" grep -q "standard input is empty" <<<"$ERR"

NODIAL="circuit ls: no dial-in server: give -d circuit://HOST:PORT/XID, or put that URL in a file and set CIRCUIT to it (echo URL > ~/.circuit; export CIRCUIT=~/.circuit)"
run env -u CIRCUIT "$C" ls /
expect_eq "no dial-in: one clear line" "$RC:$ERR" "1:$NODIAL"
expect_eq "no dial-in: nothing on stdout" "$OUT" ""
run env CIRCUIT="$T_TMP/none" "$C" ls /
expect_eq "CIRCUIT names a missing file" "$RC:$ERR" \
	"1:circuit ls: \$CIRCUIT names $T_TMP/none: No such file or directory (it should hold a circuit:// URL)"
: >"$T_TMP/empty"
run env CIRCUIT="$T_TMP/empty" "$C" ls /
expect_eq "CIRCUIT names an empty file" "$RC:$ERR" \
	"1:circuit ls: \$CIRCUIT names $T_TMP/empty, which holds no circuit:// URL"
mkdir -p "$T_TMP/home"
run env HOME="$T_TMP/home" CIRCUIT="~/.circuit" "$C" ls /
expect_eq "CIRCUIT with a leading ~ is expanded" "$ERR" \
	"circuit ls: \$CIRCUIT names $T_TMP/home/.circuit: No such file or directory (it should hold a circuit:// URL)"
run env -u CIRCUIT CIRCUIT_DISCOVER=228.8.8.9:9 "$C" ls -discover /
expect_eq "-discover with no server answering" "$RC:$ERR" \
	"1:circuit ls: -discover: no server answered on 228.8.8.9:9 within 3 s (is one started with -discover on this network?)"
run env -u CIRCUIT "$C" ls -discover 228.8.8.9:9 /
expect_eq "-discover takes an address" "$RC" 1

run "$C" keygen
K1=$OUT
run "$C" keygen
expect_eq "keygen prints 64 hex digits" "$RC:$(grep -cx '[0-9a-f]\{64\}' <<<"$OUT")" "0:1"
check "keygen differs each time" test "$K1" != "$OUT"
finish
