# The `error` file and the log hold bounded, escaped text, whatever the input quoted:
# a huge rejected argument costs 256 bytes, and terminal escapes never reach a reader raw.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_more.sh"
start_target A
M=$A_MNT; X=$A_ID
B=$M/$X/errtext; mkdir "$B"

# a 500 KB verb: the message keeps its head and its end, 256 bytes in all
expect_fail "a 500 KB verb is refused" "Invalid argument" timeout 10 python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.write(fd, b"v" * 500000 + b" 1")' "$B/ctl"
expect_err_line "its error is one line" "$B" "unknown verb here"
expect_eq "of 256 bytes" "$(timeout 5 cat "$B/error" | head -1 | wc -c)" "257"
check "with the cut marked" grep -q 'vvv\.\.\.vvv' "$B/error"
check "the log line is bounded too" sh -c "[ \$(grep -c 'v\\{1000\\}' '$M/$X/log') -eq 0 ]"

# terminal escapes in a verb and in an argument: escaped in the log and in error
expect_fail "a verb holding ESC" "Invalid argument" bash -c "printf '\\033[2Jboom 1' > '$B/ctl'"
check "the log shows it escaped" grep -qF '\x1b[2Jboom' "$M/$X/log"
mkdir "$M/$X/errp"; wr "$M/$X/errp/ctl" 'mkproc {"Path":"/bin/sleep","Args":["100"]}'
expect_fail "an argument holding ESC and BEL" "Invalid argument" bash -c "printf 'signal \\033]0;owned\\007' > '$M/$X/errp/ctl'"
check "error shows it escaped" grep -qF '\x1b]0;owned\x07' "$M/$X/errp/error"
check "the log too" grep -qF '\x1b]0;owned\x07' "$M/$X/log"
check "no control byte but newline in the log" sh -c "! LC_ALL=C grep -q '[[:cntrl:]]' '$M/$X/log'"
check "none in error" sh -c "! LC_ALL=C grep -q '[[:cntrl:]]' '$M/$X/errp/error'"
rmdir "$M/$X/errp" "$B"
check "server healthy" server_healthy A
finish
