# make install, into a DESTDIR and under a PREFIX (issue 12): the programs, man pages,
# the client library (libcircuit.a, libcircuit.so.0 with its soname, <circuit/client.h>,
# circuit.pc), the systemd unit and its environment file, the bash completion.  A
# program is built from examples/pipeline.c with `pkg-config --cflags --libs circuit`
# alone and run against a real server; `systemd-analyze verify` passes on the unit.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
D=$T_TMP/dest
P=$T_TMP/prefix

# install ARGS...: make install into the test's directories; its output on failure.
install_to() {
	make -s -C "$ROOT" install "$@" >"$T_TMP/make.log" 2>&1 || { cat "$T_TMP/make.log" >&2; return 1; }
}

check "make install DESTDIR=... works" install_to DESTDIR="$D"
for f in usr/local/bin/circuit usr/local/bin/circuit-exec sbin/mount.circuit usr/local/include/circuit/client.h \
	usr/local/lib/libcircuit.a usr/local/lib/libcircuit.so.0.1.0 \
	usr/local/lib/pkgconfig/circuit.pc usr/local/lib/systemd/system/circuit.service \
	etc/default/circuit etc/logrotate.d/circuit usr/local/share/bash-completion/completions/circuit \
	usr/local/share/man/man1/circuit.1 usr/local/share/man/man8/mount.circuit.8; do
	check "installed $f" test -f "$D/$f"
done
expect_eq "libcircuit.so.0 -> the library" "$(readlink "$D/usr/local/lib/libcircuit.so.0")" libcircuit.so.0.1.0
expect_eq "libcircuit.so -> libcircuit.so.0" "$(readlink "$D/usr/local/lib/libcircuit.so")" libcircuit.so.0
expect_eq "its soname" "$(objdump -p "$D/usr/local/lib/libcircuit.so.0.1.0" | awk '$1 == "SONAME" {print $2}')" \
	libcircuit.so.0
expect_eq "it exports the client API and nothing else" \
	"$(objdump -T "$D/usr/local/lib/libcircuit.so.0" | awk '$2 == "g" && $4 == ".text" {print $NF}' |
	grep -vc '^circuit_')" 0
check "the installed paths are the final ones, without DESTDIR" \
	grep -qx 'ExecStart=/usr/local/bin/circuit start -m ${CIRCUIT_MOUNT} $CIRCUIT_FLAGS' \
	"$D/usr/local/lib/systemd/system/circuit.service"

# A program built with pkg-config alone, against the staged tree: pkg-config's sysroot
# prefixes every path of circuit.pc with DESTDIR.
export PKG_CONFIG_SYSROOT_DIR=$D PKG_CONFIG_PATH=$D/usr/local/lib/pkgconfig
flags=$(pkg-config --cflags --libs circuit)
# (jansson's paths get the sysroot too; the compiler ignores directories that are not
# there and finds jansson where it is.)
check "pkg-config: the staged header directory" grep -q -- "-I$D/usr/local/include " <<<"$flags "
check "pkg-config: the staged library" grep -q -- "-L$D/usr/local/lib -lcircuit " <<<"$flags "
check "pkg-config: and jansson, which client.h includes" grep -q -- "-ljansson" <<<"$flags"
check "examples/pipeline.c builds with those flags alone" \
	cc -o "$T_TMP/pipeline" "$ROOT/examples/pipeline.c" $flags
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH
expect_eq "it links the shared library" \
	"$(LD_LIBRARY_PATH=$D/usr/local/lib ldd "$T_TMP/pipeline" | awk '$1 == "libcircuit.so.0" {print $3}')" \
	"$D/usr/local/lib/libcircuit.so.0"
start_server S
out=$(LD_LIBRARY_PATH=$D/usr/local/lib timeout 20 "$T_TMP/pipeline" "$S_URL" 2>&1)
check "and runs against a server" grep -q "HELLO FROM THE CIRCUIT CLIENT LIBRARY" <<<"$out"

# Under a PREFIX (no DESTDIR) the unit's paths exist, so systemd can check it whole.
check "make install PREFIX=... works" install_to PREFIX="$P" SBINDIR="$P/sbin" SYSCONFDIR="$P/etc"
U=$P/lib/systemd/system/circuit.service
check "the unit runs the installed circuit" \
	grep -qx "ExecStart=$P/bin/circuit start -m \${CIRCUIT_MOUNT} \$CIRCUIT_FLAGS" "$U"
check "with the flags of the environment file" grep -qx "EnvironmentFile=-$P/etc/default/circuit" "$U"
check "Type=notify, restarted on failure" sh -c "grep -qx Type=notify '$U' && grep -qx Restart=on-failure '$U'"
out=$(systemd-analyze verify --man=no "$U" 2>&1)
expect_eq "systemd-analyze verify passes" "$?:$out" "0:"
echo 'CIRCUIT_FLAGS="-a 10.0.0.1:0 -j circuit://10.0.0.2:1/X0000000000000001"' >"$P/etc/default/circuit.test"
check "an edited environment file survives a reinstall" sh -c \
	"cp '$P/etc/default/circuit.test' '$P/etc/default/circuit' &&
	 make -s -C '$ROOT' install PREFIX='$P' SBINDIR='$P/sbin' SYSCONFDIR='$P/etc' >/dev/null 2>&1 &&
	 cmp -s '$P/etc/default/circuit.test' '$P/etc/default/circuit'"
finish
