# virus-nucleus.sh - one generation of the virus (virus.sh starts the first one).
#
# Run by circuit as /bin/bash -c TEXT nucleus MOUNT ORIGIN HERE GEN LAST, where TEXT
# is circuit.sh followed by this file, and HERE the server it runs on.  It makes a
# back channel here, starts the payload on the next server, hears from the payload
# through the back channel, reports to ORIGIN's report channel, and then moves: it
# starts generation GEN+1 of itself on the payload's server, and exits.
mnt=$1 origin=$2 here=$3 gen=$4 last=$5
self=$BASH_EXECUTION_STRING
next=$(next_server "$mnt" "$here")
back=$mnt/$here/virus/back-$gen
report=$mnt/$origin/virus/report

mkdir -p "$back" && ctl "$back" "mkchan 1" || exit 1
# The payload: its work is one line, sent home through the back channel.
mkproc "$mnt/$next/virus/payload-$gen" true /bin/sh -c \
	'echo "payload $1 ran on $2 (host $(uname -n))" > "$3/send"' payload "$gen" "$next" "$back" ||
	exit 1
msg=$(cat "$back/recv")
rmdir "$back"
printf 'generation %s: nucleus on %s, %s\n' "$gen" "$here" "$msg" > "$report/send"
if [ "$gen" -lt "$last" ]; then
	mkproc "$mnt/$next/virus/nucleus-$((gen + 1))" true /bin/bash -c "$self" nucleus \
		"$mnt" "$origin" "$next" $((gen + 1)) "$last"
fi
