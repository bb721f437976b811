#!/usr/bin/env bash
# The installed package, used from outside the tree:
#   1. `cmake --install BUILD --prefix TMP`, then the files that must (and must not) be there;
#   2. docs/speaker.md's example program and its CMakeLists.txt (the blocks after
#      `<!-- find_package example -->` and `<!-- find_package cmake -->`) built as a project of
#      its own against TMP only (find_package(bgpscribe), bgpscribe::speaker);
#   3. that program run over loopback against the installed bgpscribe-inject: the session comes
#      up, both routes arrive, and the injector's Cease is reported.
#
# Usage: install_test.sh BUILD_DIR SOURCE_DIR CXX (the compiler of the installed build; its
# flags in CXXFLAGS and LDFLAGS, so that a sanitizer build links). The install layout comes
# from the environment too: LIBDIR, BINDIR, INCLUDEDIR, DATADIR, DOCDIR (GNUInstallDirs).
# Every wait is bounded by WAIT seconds (20); processes started here are stopped by their PID
# at exit. KEEP=1 keeps the work folder.
set -euo pipefail

BUILD=${1:?usage: $0 BUILD_DIR SOURCE_DIR CXX}
SRC=${2:?usage: $0 BUILD_DIR SOURCE_DIR CXX}
CXX=${3:?usage: $0 BUILD_DIR SOURCE_DIR CXX}
CXXFLAGS=${CXXFLAGS:-}
LDFLAGS=${LDFLAGS:-}
: "${LIBDIR:=lib}" "${BINDIR:=bin}" "${INCLUDEDIR:=include}" "${DATADIR:=share}"
: "${DOCDIR:=share/doc/bgpscribe}"

TEST_NAME=install
# shellcheck source=../support/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/lib.sh"
P=$T/prefix

# ---- 1. install -----------------------------------------------------------------------------
log "installing $BUILD into $P"
cmake --install "$BUILD" --prefix "$P" >"$T/install.log" 2>&1 || fail "cmake --install failed"
for f in "$LIBDIR/libbgpscribe_codec.a" "$LIBDIR/libbgpscribe_speaker.a" \
  "$LIBDIR/cmake/bgpscribe/bgpscribeConfig.cmake" \
  "$LIBDIR/cmake/bgpscribe/bgpscribeConfigVersion.cmake" \
  "$LIBDIR/cmake/bgpscribe/bgpscribeTargets.cmake" \
  "$INCLUDEDIR/bgpscribe/speaker/process.hpp" "$INCLUDEDIR/bgpscribe/speaker/peer.hpp" \
  "$INCLUDEDIR/bgpscribe/codec/bgp/update.hpp" "$INCLUDEDIR/bgpscribe/codec/wire/reader.hpp" \
  "$DATADIR/bgpscribe/schema/0001_archive.sql" "$DOCDIR/collector.example.yaml"; do
  [[ -f $P/$f ]] || fail "not installed: $f"
done
for f in bgpscribe bgpscribe-monitor bgpscribe-inject bgpscribe-relay; do
  [[ -x $P/$BINDIR/$f ]] || fail "not installed: $BINDIR/$f"
done
# Every header of codec/ and speaker/, and nothing else.
(cd "$SRC" && find codec speaker -name '*.hpp' | sort) >"$T/headers.want"
(cd "$P/$INCLUDEDIR/bgpscribe" && find . -type f | sed 's|^\./||' | sort) >"$T/headers.got"
diff -u "$T/headers.want" "$T/headers.got" >"$T/headers.diff.log" ||
  fail "installed headers differ from codec/ and speaker/ (- missing, + extra)"
(cd "$SRC/schema/sql" && ls -- *.sql) >"$T/sql.want"
(cd "$P/$DATADIR/bgpscribe/schema" && ls) >"$T/sql.got"
diff -u "$T/sql.want" "$T/sql.got" >"$T/sql.diff.log" || fail "installed migrations differ"

# ---- 2. docs/speaker.md's example, built outside -------------------------------------------
mkdir -p "$T/app"
# block MARKER FENCE: the fenced block after the line "<!-- MARKER -->".
block() {
  awk -v marker="<!-- $1 -->" -v fence="\`\`\`$2" '
    $0 == marker { found = 1; next }
    found == 1 && $0 == fence { found = 2; next }
    found == 1 { exit }               # the block must follow the marker at once
    found == 2 && $0 == "```" { exit }
    found == 2 { print }' "$SRC/docs/speaker.md"
}
block "find_package example" cpp >"$T/app/main.cpp"
block "find_package cmake" cmake >"$T/app/CMakeLists.txt"
grep -q 'int main' "$T/app/main.cpp" || fail "no example program after <!-- find_package example -->"
grep -q 'find_package(bgpscribe' "$T/app/CMakeLists.txt" ||
  fail "no CMakeLists.txt with find_package(bgpscribe) after <!-- find_package cmake -->"
grep -q 'main.cpp' "$T/app/CMakeLists.txt" || fail "the doc's CMakeLists.txt does not build main.cpp"

log "building the example of docs/speaker.md against the installed package"
# Only the prefix: no package registry, no source tree on any path.
timeout 120 cmake -S "$T/app" -B "$T/app/build" -G Ninja -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_PREFIX_PATH="$P" -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON \
  -DCMAKE_CXX_FLAGS="$CXXFLAGS" -DCMAKE_EXE_LINKER_FLAGS="$LDFLAGS" \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$T/configure.log" 2>&1 ||
  fail "configuring the outside project failed"
found=$(sed -n 's/^bgpscribe_DIR:PATH=//p' "$T/app/build/CMakeCache.txt")
[[ $found == "$P/$LIBDIR/cmake/bgpscribe" ]] || fail "find_package found '$found', not the prefix"
timeout 180 cmake --build "$T/app/build" >"$T/build.log" 2>&1 || fail "building the example failed"
if grep -qF "$SRC" "$T/app/build/compile_commands.json"; then
  fail "the outside build uses the source tree: $(grep -F "$SRC" "$T/app/build/compile_commands.json")"
fi
APP=$T/app/build/$(sed -n 's/^add_executable(\([^ )]*\).*/\1/p' "$T/app/CMakeLists.txt")
[[ -x $APP ]] || fail "the outside build made no program $APP"

# ---- 3. run it against the installed injector ----------------------------------------------
APP_ADDR=127.0.0.1  # the example listens on [::] (dual stack); the injector connects here
INJ=127.0.0.41      # ... from here (an address no other test uses), the peer it accepts
start app "$APP" $INJ 0
port_of() { sed -n 's/^listening on port \([0-9][0-9]*\)$/\1/p' "$T/app.out" 2>/dev/null; }
listening() { [[ -n $(port_of) ]]; }
wait_for "the example to listen" listening
PORT=$(port_of)
log "example $(basename "$APP") listening on port $PORT; injecting from $INJ"

printf '10.1.0.0/16 nh=%s path=4200000002,65010\n2001:db8::/32 nh=2001:db8::1 path=4200000002\n' \
  $INJ >"$T/routes.txt"
start inj "$P/$BINDIR/bgpscribe-inject" --local-as 4200000002 --router-id $INJ \
  --routes "$T/routes.txt" --peer $APP_ADDR,4200000001,active,port="$PORT",local=$INJ \
  --connect-retry 1 --withdraw-after 1 --exit-after-withdraw

has() { grep -qE "$1" "$T/app.out"; }
wait_for "the session (up)" has '^up$'
wait_for "the IPv4 route" has '^10\.1\.0\.0/16 via 4200000002 65010$'
wait_for "the IPv6 route" has '^2001:db8::/32 via 4200000002$'
wait_for "the injector's Cease (6/2)" has '^received .*\(6/2\)'
RC=0
wait "${PIDS[inj]}" || RC=$?
unset "PIDS[inj]"
[[ $RC == 0 ]] || fail "bgpscribe-inject exit status $RC"
kill -0 "${PIDS[app]}" 2>/dev/null || fail "the example exited on its own"
log "ok: installed, built from the doc against the package, and ran a session"
