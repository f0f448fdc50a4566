# lib_cli.sh - what the tests of the circuit CLI share (source after lib.sh).
#   C               the circuit binary.  lib.sh names it CIRCUIT, but the CLI reads
#                   $CIRCUIT as its URL file, so that name (and CIRCUIT_HMAC) is kept
#                   out of the environment of everything run here
#   run CMD...      OUT, ERR and RC of one command (stdin from the caller's)
#   cli ARGS...     run the CLI with ARGS dialed in to $U (a 10 s bound)
C=$CIRCUIT
export -n CIRCUIT
unset CIRCUIT_HMAC

run() {
	OUT=$("$@" 2>"$T_TMP/err"); RC=$?
	ERR=$(cat "$T_TMP/err")
}

cli() { run timeout 10 "$C" "$@" -d "$U"; }
