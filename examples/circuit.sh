# circuit.sh - a few helpers for bash programs that drive a mounted circuit tree.
#
# Source it.  Paths are in the mounted tree: MOUNT/XID/name/...  The virus and the
# watchbot also send this file's text along with their own to the hosts they move to,
# so it holds nothing but function definitions.

# json_str TEXT: TEXT as a JSON string.
json_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\n'/\\n}
	s=${s//$'\t'/\\t}
	s=${s//$'\r'/\\r}
	printf '"%s"' "$s"
}

# ctl ANCHOR COMMAND: write COMMAND to ANCHOR/ctl in one write(2), which is one
# command however long it is; fails as the command does (the reason is in
# ANCHOR/error).
ctl() {
	printf '%s\n' "$2" | dd of="$1/ctl" bs=1M iflag=fullblock conv=notrunc status=none
}

# servers MOUNT: the XIDs of the live servers, sorted, one per line.
servers() {
	ls "$1" | grep '^X' | sort
}

# next_server MOUNT XID: the live server after XID in sorted order (wrapping round).
next_server() {
	local all first= x take=
	all=$(servers "$1")
	for x in $all; do
		[ -n "$first" ] || first=$x
		[ -n "$take" ] && { echo "$x"; return; }
		[ "$x" = "$2" ] && take=1
	done
	echo "$first"
}

# mkproc ANCHOR SCRUB PATH [ARG...]: start PATH with ARGs as a process element at
# ANCHOR (made if missing).  SCRUB true removes the element when the process exits.
mkproc() {
	local anchor=$1 scrub=$2 path=$3 args= a
	shift 3
	for a in "$@"; do
		args+=${args:+, }$(json_str "$a")
	done
	mkdir -p "$anchor" &&
	ctl "$anchor" "mkproc {\"Path\": $(json_str "$path"), \"Args\": [$args], \"Env\": [\"PATH=/usr/local/bin:/usr/bin:/bin\"], \"Scrub\": $scrub}"
}

# json_field JSON KEY: the value of KEY (a string, number or null) in a flat JSON
# object such as a process's peek or wait.
json_field() {
	local v
	v=$(printf '%s' "$1" | grep -o "\"$2\": *\(\"[^\"]*\"\|[^,}]*\)" | head -1)
	v=${v#*: }
	v=${v#\"}
	printf '%s\n' "${v%\"}"
}

# rmtree ANCHOR: remove ANCHOR and every anchor below it (scrubbing their elements).
rmtree() {
	local d
	for d in "$1"/*/; do
		[ -d "$d" ] && rmtree "${d%/}"
	done
	rmdir "$1"
}
