# watchbot-bot.sh - the watchbot itself (watchbot.sh starts it).
#
# Run by circuit as /bin/bash -c TEXT watchbot MOUNT HERE COMMAND MAX, where TEXT is
# circuit.sh followed by this file.  It runs COMMAND (/bin/sh -c) as a process on
# another server, at XID/watched, and whenever that process dies, starts it again;
# if that server is gone, on the next live one.  After MAX restarts (0: never) it
# stops, leaving the last one running.
mnt=$1 here=$2 cmd=$3 max=$4
n=0
while :; do
	host=$(next_server "$mnt" "$here")
	svc=$mnt/$host/watched
	if ! mkproc "$svc" false /bin/sh -c "$cmd"; then
		echo "cannot start on $host: $(cat "$svc/error" 2>/dev/null)"
		sleep 1
		continue
	fi
	echo "started on $host: pid $(json_field "$(cat "$svc/peek")" Pid)"
	[ "$max" -gt 0 ] && [ "$n" -ge "$max" ] && exit 0
	if end=$(cat "$svc/wait"); then
		echo "died on $host: $(json_field "$end" Exit)"
		rmdir "$svc"
	else
		echo "lost $host"
	fi
	n=$((n + 1))
done
