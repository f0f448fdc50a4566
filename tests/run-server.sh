#!/usr/bin/env bash
# make run: start a server with its tree mounted at $MNT (default /circuit) in the
# foreground; Ctrl-C stops it and unmounts.
set -euo pipefail
cd "$(dirname "$0")/.."
MNT=${MNT:-/circuit}
mkdir -p "$MNT"
echo "starting a circuit server mounted at $MNT (Ctrl-C stops it)"
echo "try: ls $MNT; cat $MNT/help"
exec bin/circuit start -a "${ADDR:-127.0.0.1:0}" -m "$MNT" ${CIRCUIT_FLAGS:-}
