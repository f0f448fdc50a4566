# Inode numbers after rmdir + mkdir of the same name: while the kernel still holds
# the removed directory (a process's cwd), it is dead (S_DEAD: no lookups, empty
# readdir).  The new anchor must get a new number, or it is unusable.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_more.sh"
start_server A
M=$A_MNT; X=$A_ID
A=$M/$X/a

mkdir "$A"
wr "$A/ctl" "mkchan 2"
old=$(stat -c %i "$A")
# Hold the old directory as a cwd across the rmdir and the mkdir.
(cd "$A" && sleep 4) & holder=$!
sleep 0.3
check "rmdir of the anchor" rmdir "$A"
check "mkdir of the same name" mkdir "$A"
new=$(stat -c %i "$A")
[ "$new" != "$old" ] && ok "the new directory has a new inode number" ||
	not_ok "the new directory has a new inode number" "old $old, new $new"
expect_eq "ls of the new anchor shows its files" "$(timeout 5 ls "$A" | tr '\n' ' ')" "ctl error help "
check "a command on the new anchor works" wr "$A/ctl" "mkchan 1"
expect_eq "and made its element" "$(timeout 5 cat "$A/ctl")" "/$X/a channel"
# Again, with the old directory still held: a third generation.
check "rmdir again" rmdir "$A"
check "mkdir again" mkdir "$A"
expect_eq "ls of the third anchor" "$(timeout 5 ls "$A" | tr '\n' ' ')" "ctl error help "
wait_pid 10 "$holder"
check "rmdir after the holder left" rmdir "$A"
check "mkdir after the holder left" mkdir "$A"
expect_eq "ls of the fourth anchor" "$(timeout 5 ls "$A" | tr '\n' ' ')" "ctl error help "
check "the server is healthy" server_healthy A
finish
