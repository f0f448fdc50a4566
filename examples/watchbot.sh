#!/usr/bin/env bash
# watchbot.sh - restart a process on another host whenever it dies.
#
#   examples/watchbot.sh MOUNT [COMMAND [RESTARTS]]
#
# Starts the watchbot (watchbot-bot.sh) as a process on the first server, at
# XID/watchbot.  The bot runs COMMAND (default: sleep 3600) on the next server, at
# XID/watched, and restarts it whenever it dies, RESTARTS times (default 0: for
# ever).  Kill the watched process to see it come back:
#   echo signal KILL > MOUNT/XID/watched/ctl
# This script prints what the bot says until the bot ends; Ctrl-C leaves the bot
# running (stop it with: rmdir MOUNT/XID/watchbot).
set -u
dir=$(dirname "$0")
. "$dir/circuit.sh"
mnt=${1:?usage: watchbot.sh MOUNT [COMMAND [RESTARTS]]}
cmd=${2:-sleep 3600}
max=${3:-0}
here=$(servers "$mnt" | head -1)
bot=$mnt/$here/watchbot
text="$(cat "$dir/circuit.sh" "$dir/watchbot-bot.sh")"

mkproc "$bot" false /bin/bash -c "$text" watchbot "$mnt" "$here" "$cmd" "$max" || exit 1
echo "watchbot at ${bot#"$mnt"}"
cat "$bot/stdout"
