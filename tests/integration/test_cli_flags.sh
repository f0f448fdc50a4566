# Flag parsing of `circuit start` and the client commands (cmd/flag.c, getopt_long_only):
# -flag, --flag, -flag VALUE and -flag=VALUE alike; negative numbers and words after
# "--" are arguments; a bad flag is one line on stderr and exit 2; -h prints the usage
# made from the same table that parses.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_cli.sh"

run "$C" start -h
expect_eq "start -h exits 0" "$RC" 0
expect_eq "start -h synopsis" "$(head -1 <<<"$OUT")" \
	"usage: circuit start [-a HOST:PORT] [-if IFACE] [-j URL] [-m DIR] [-var DIR]"
SYN=$(sed '/^$/q' <<<"$OUT")
for f in "[-log FILE]" "[-discover [MCAST:PORT]]" "[-hmac FILE]" "[-insecure]" "[-docker]" "[-v]" "[-h]"; do
	check "start -h synopsis has $f" grep -qF -- "$f" <<<"$SYN"
done
check "the synopsis is wrapped under its first line" grep -q '^                     \[-' <<<"$SYN"
expect_eq "start -h lists -var" "$(grep '^  -var ' <<<"$OUT")" \
	"  -var DIR      state directory: the operation log is appended to DIR/log"
run "$C" start --help
expect_eq "--help is -h" "$RC:$(head -1 <<<"$OUT")" \
	"0:usage: circuit start [-a HOST:PORT] [-if IFACE] [-j URL] [-m DIR] [-var DIR]"
run "$C" start -zz
expect_eq "start: unknown flag, one line" "$RC:$ERR" \
	"2:circuit start: -zz: unknown flag (circuit start -h lists the flags)"
run "$C" start -a
expect_eq "start: missing value" "$RC:$ERR" \
	"2:circuit start: -a: needs a value (circuit start -h lists the flags)"
run "$C" start -v=1
expect_eq "start: a value for a switch" "$RC:$ERR" \
	"2:circuit start: -v=1: takes no value (circuit start -h lists the flags)"
run "$C" start stray
expect_eq "start: a stray word" "$RC:$ERR" \
	"2:circuit start: unexpected argument stray (circuit start -h lists the flags)"
run "$C" start -a=127.0.0.1:99999
expect_eq "start: -a=VALUE is checked like -a VALUE" "$RC" 2
out=$(timeout 5 "$C" start --a=127.0.0.1:0 </dev/null 2>/dev/null | head -1)
check "start: --a=VALUE listens" test "${out#circuit://127.0.0.1:}" != "$out"

# Client flags: anywhere on the line, in every spelling.
for form in "-d=circuit://127.0.0.1:1/X0000000000000001" "--d circuit://127.0.0.1:1/X0000000000000001" \
	"-dial circuit://127.0.0.1:1/X0000000000000001"; do
	run timeout 20 "$C" ls $form /
	expect_eq "ls $form dials that URL" "$RC:${ERR%%:*}" "1:circuit ls"
	expect_eq "ls $form names the URL" "$ERR" "circuit ls: circuit://127.0.0.1:1/X0000000000000001: Connection refused"
done
run "$C" ls -l=x /
expect_eq "ls -l=x" "$RC:$ERR" "2:circuit ls: -l=x: takes no value (usage: circuit ls [-l] PATH)"
run "$C" -x
expect_eq "unknown flag before any command" "$RC:$ERR" "2:circuit: -x: unknown flag (try circuit help)"
run env -u CIRCUIT "$C" signal /X0123456789abcdef/p -9
expect_eq "-9 is an argument, not a flag" "$RC" 1
check "-9: reached the dial-in" grep -q "no dial-in server" <<<"$ERR"
run "$C" ls -- -l
expect_eq "after --, -l is a path" "$RC" 2
check "after --: -l is judged as a path" grep -q -- "-l: an anchor path starts with /" <<<"$ERR"
run env -u CIRCUIT "$C" ls -discover=228.8.8.9:9 /
expect_eq "-discover=ADDR" "$RC" 1
check "-discover=ADDR is -discover" grep -q "no server answered on 228.8.8.9:9" <<<"$ERR"
finish
