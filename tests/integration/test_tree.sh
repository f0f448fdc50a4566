# The anchor tree through the mount: mkdir/rmdir, names, ctl, help, error, server element.
source "$(dirname "$0")/lib.sh"
start_server A
M=$A_MNT; X=$A_ID

expect_eq "root lists exactly the server" "$(ls "$M")" "$X
help"
expect_eq "root mode is 0700" "$(stat -c %a "$M")" "700"
check "root help mentions mkproc" grep -q mkproc "$M/help"
expect_eq "server anchor files" "$(ls "$M/$X" | tr '\n' ' ')" "ctl error help log peek "
check "peek has the ID" grep -q "\"ID\": \"$X\"" "$M/$X/peek"
check "peek has the URL" grep -q "\"URL\": \"$A_URL\"" "$M/$X/peek"

check "mkdir -p deep" mkdir -p "$M/$X/this/is/charlie"
expect_eq "empty anchor files" "$(ls "$M/$X/this/is/charlie" | tr '\n' ' ')" "ctl error help "
expect_eq "ctl shows path and kind" "$(cat "$M/$X/this/is/charlie/ctl")" "/$X/this/is/charlie empty"
check "anchor help mentions mkchan" grep -q mkchan "$M/$X/this/is/charlie/help"
expect_eq "error is empty at first" "$(cat "$M/$X/this/is/charlie/error")" ""

expect_fail "bad verb is EINVAL" "Invalid argument" bash -c "echo 'frobnicate 1' > '$M/$X/this/is/charlie/ctl'"
check "error file tells the bad verb" grep -q "frobnicate: unknown verb" "$M/$X/this/is/charlie/error"
expect_fail "empty command is EINVAL" "Invalid argument" bash -c "printf '\n' > '$M/$X/this/is/charlie/ctl'"
expect_fail "scrub of nothing is ENOENT" "No such file" bash -c "echo scrub > '$M/$X/this/is/charlie/ctl'"
expect_fail "leading dot is EINVAL" "Invalid argument" mkdir "$M/$X/.hidden"
expect_fail "bad character is EINVAL" "Invalid argument" mkdir "$M/$X/a:b"
expect_fail "reserved name is EINVAL" "Invalid argument" mkdir "$M/$X/stdout"
expect_fail "256-byte name is refused" "" mkdir "$M/$X/$(printf 'a%.0s' $(seq 256))"
check "255-byte name works" mkdir "$M/$X/$(printf 'b%.0s' $(seq 255))"
check "name with ._@- works" mkdir "$M/$X/a.b_c@d-e"
expect_fail "mkdir in the root is refused" "Invalid argument" mkdir "$M/Xffffffffffffffff"
expect_fail "missing anchor is ENOENT" "No such file" ls "$M/$X/nope"
expect_fail "missing file is ENOENT" "No such file" cat "$M/$X/this/peek"
expect_fail "rmdir with children is ENOTEMPTY" "not empty" rmdir "$M/$X/this"
expect_fail "rmdir of the server anchor is refused" "" rmdir "$M/$X"
expect_fail "creating a file is refused" "" bash -c "echo x > '$M/$X/this/newfile'"
expect_fail "rm of ctl is refused" "" rm -f "$M/$X/this/ctl"
check "rmdir leaf" rmdir "$M/$X/this/is/charlie"
check "rmdir up" rmdir "$M/$X/this/is" "$M/$X/this"
expect_fail "gone after rmdir" "No such file" ls "$M/$X/this"

check "log has the mkdir" grep -q "/$X/this/is/charlie mkdir ok" "$M/$X/log"
check "log has the failure with errno" grep -q "frobnicate error EINVAL" "$M/$X/log"
expect_fail "server verbs: unknown" "Invalid argument" bash -c "echo bogus > '$M/$X/ctl'"
check "server still healthy" server_healthy A
check "SIGTERM unmounts and exits" stop_server A
finish
