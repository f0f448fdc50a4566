# Bash completion for circuit (dist/circuit.bash-completion, installed by make install):
# commands, flags of the client and of start, and anchor paths listed by `circuit ls`
# from the server the command line dials.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../../dist/circuit.bash-completion"
C=$CIRCUIT
export -n CIRCUIT

# complete WORD...: what bash would offer for the last word, sorted, on one line.
complete_line() {
	COMP_WORDS=("$C" "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_circuit 2>/dev/null
	[ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
}

expect_eq "commands" "$(complete_line pe)" "peek "
expect_eq "commands with a common prefix" "$(complete_line mk)" \
	"mk@join mk@leave mkchan mkdkr mkdns mkproc "
expect_eq "help COMMAND" "$(complete_line help su)" "suicide "
expect_eq "client flags" "$(complete_line ls -)" "-d -discover -h -hmac -l "
expect_eq "start flags" "$(complete_line start -v)" "-v -var "
mkdir -p "$T_TMP/dirs/one"
expect_eq "start -m completes directories" "$(complete_line start -m "$T_TMP/dirs/o")" "$T_TMP/dirs/one "

start_server S
mkdir -p "$S_MNT/$S_ID/alpha/beta" "$S_MNT/$S_ID/alps"
expect_eq "paths: the servers" "$(complete_line ls -d "$S_URL" /)" "/$S_ID/ "
expect_eq "paths: anchors under a server" "$(complete_line peek -d "$S_URL" "/$S_ID/al")" \
	"/$S_ID/alpha/ /$S_ID/alps/ "
expect_eq "paths: deeper" "$(complete_line peek -d "$S_URL" "/$S_ID/alpha/")" "/$S_ID/alpha/beta/ "
expect_eq "paths: with the flags before the command" \
	"$(complete_line -d "$S_URL" mkchan "/$S_ID/alpha/b")" "/$S_ID/alpha/beta/ "
echo "$S_URL" >"$T_TMP/url"
expect_eq "paths: the server of \$CIRCUIT" \
	"$(CIRCUIT=$T_TMP/url complete_line ls "/$S_ID/alp")" "/$S_ID/alpha/ /$S_ID/alps/ "
expect_eq "paths: no server, no offer" "$(complete_line ls "/$S_ID/al")" ""
finish
