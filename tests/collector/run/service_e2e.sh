#!/usr/bin/env bash
# The collector as a systemd service, without systemd (packaging/systemd, docs/service.md):
#   1. the notify protocol: a datagram socket as NOTIFY_SOCKET (what systemd gives a Type=notify
#      service) gets READY=1 with a STATUS= once the collector listens, WATCHDOG=1 at half of
#      WATCHDOG_USEC, RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1 at SIGTERM;
#   2. `systemd-analyze verify` accepts the unit (its ExecStart pointed at this binary);
#   3. `cmake --install` puts the binary, the unit, the sysusers file, the example config, the
#      SQL and Protobuf schemas and the docs under the prefix;
#   4. `cpack -G DEB` makes a package with them, a postinst and Depends from dpkg-shlibdeps.
# Every process started here is stopped by PID on exit; every wait is bounded.
set -uo pipefail
bin=${1:?usage: service_e2e.sh BGPSCRIBE_BINARY BUILD_DIR}
build=${2:?usage: service_e2e.sh BGPSCRIBE_BINARY BUILD_DIR}
bin=$(readlink -f "$bin")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
py=/usr/bin/python3

tmp_prefix=bgpscribe-service-e2e
# shellcheck source=lib.sh
source "$here/lib.sh"

d=$tmp/service
mkdir -p "$d"
port=$(free_port)
{
  collector_yaml service-e2e "$port" "$d/state" 1
  cat <<YAML
exporters:
  - type: null
    name: none
YAML
} >"$d/c.yaml"

# ---- 1: the notify protocol ---------------------------------------------------------------------
# The listener keeps every datagram, one per line with newlines as "|", until told to stop.
"$py" - "$d/notify.sock" "$d/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.2)
end = time.time() + 60
with open(sys.argv[2], "w", buffering=1) as out:
    while time.time() < end:
        try:
            m = s.recv(4096).decode()
        except socket.timeout:
            continue
        out.write(m.replace("\n", "|") + "\n")
PY
lpid=$!
pids+=("$lpid")
wait_for 5 test -S "$d/notify.sock" || fail "no notify socket"
NOTIFY_SOCKET=$d/notify.sock WATCHDOG_USEC=1000000 "$bin" run -c "$d/c.yaml" >"$d/run.log" 2>&1 &
cpid=$!
pids+=("$cpid")
wait_for 10 grep -q '^READY=1|STATUS=running' "$d/notify.log" ||
  fail "no READY=1: $(cat "$d/notify.log") $(tail -3 "$d/run.log")"
# Pings every 0.5 s: at least 4 in 2.5 s.
sleep 2.5
pings=$(grep -c '^WATCHDOG=1$' "$d/notify.log")
[ "$pings" -ge 4 ] && echo "ok: READY=1, then $pings watchdog pings in 2.5 s" || fail "$pings watchdog pings in 2.5 s"
kill -HUP "$cpid"
reloaded() { grep -A100 '^RELOADING=1' "$d/notify.log" | grep -q '^READY=1'; }
wait_for 10 reloaded && echo "ok: SIGHUP: RELOADING=1, then READY=1" ||
  fail "no RELOADING=1 then READY=1: $(cat "$d/notify.log")"
kill -TERM "$cpid"
wait_for 20 grep -q '^STOPPING=1' "$d/notify.log" && echo "ok: SIGTERM: STOPPING=1" ||
  fail "no STOPPING=1: $(cat "$d/notify.log")"
wait_for 30 sh -c "! kill -0 $cpid" || fail "the collector did not stop"
wait "$cpid"
rc=$?
[ $rc -eq 0 ] || fail "the collector exited with $rc"
kill "$lpid" 2>/dev/null
wait "$lpid" 2>/dev/null
# Without NOTIFY_SOCKET nothing is sent and nothing breaks (every other test runs so).

# ---- 2: the unit --------------------------------------------------------------------------------
unit=$root/packaging/systemd/bgpscribe.service
if command -v systemd-analyze >/dev/null; then
  sed "s|/usr/bin/bgpscribe|$bin|g" "$unit" >"$d/bgpscribe.service"
  if systemd-analyze verify "$d/bgpscribe.service" >"$d/verify.log" 2>&1; then
    echo "ok: systemd-analyze verify accepts the unit"
  else
    fail "systemd-analyze verify: $(cat "$d/verify.log")"
  fi
fi
grep -q '^Type=notify$' "$unit" && grep -q '^WatchdogSec=' "$unit" &&
  grep -q '^AmbientCapabilities=CAP_NET_BIND_SERVICE$' "$unit" && grep -q '^User=bgpscribe$' "$unit" ||
  fail "the unit lacks Type=notify, WatchdogSec, CAP_NET_BIND_SERVICE or User"

# ---- 3: cmake --install --------------------------------------------------------------------------
if cmake --install "$build" --prefix "$d/prefix" >"$d/install.log" 2>&1; then
  missing=0
  for f in bin/bgpscribe lib/systemd/system/bgpscribe.service lib/sysusers.d/bgpscribe.conf \
    share/doc/bgpscribe/collector.example.yaml share/doc/bgpscribe/README.md \
    share/doc/bgpscribe/service.md share/doc/bgpscribe/metrics.md \
    share/bgpscribe/schema/0001_archive.sql share/bgpscribe/proto/bgpscribe/v1/api.proto; do
    [ -e "$d/prefix/$f" ] || { fail "cmake --install: $f missing"; missing=1; }
  done
  [ $missing -eq 0 ] && echo "ok: cmake --install puts the binary, unit, sysusers, config, schemas and docs in place"
  "$d/prefix/bin/bgpscribe" --version >/dev/null || fail "the installed binary does not run"
else
  fail "cmake --install: $(tail -5 "$d/install.log")"
fi

# ---- 4: the Debian package -----------------------------------------------------------------------
if command -v dpkg-deb >/dev/null; then
  if (cd "$build" && cpack -G DEB -B "$d/deb") >"$d/cpack.log" 2>&1; then
    deb=$(ls "$d"/deb/bgpscribe_*.deb 2>/dev/null | head -1)
    dpkg-deb -c "$deb" >"$d/deb.txt" 2>&1 || fail "dpkg-deb -c $deb"
    missing=0
    for f in ./usr/bin/bgpscribe ./usr/lib/systemd/system/bgpscribe.service \
      ./usr/lib/sysusers.d/bgpscribe.conf ./usr/share/doc/bgpscribe/collector.example.yaml; do
      grep -q " $f\$" "$d/deb.txt" || { fail "the package lacks $f"; missing=1; }
    done
    dpkg-deb -I "$deb" >"$d/deb.info" 2>&1
    grep -q '^ Depends: .*libspdlog' "$d/deb.info" && grep -q '^ Depends: .*libsystemd0' "$d/deb.info" ||
      fail "the package's Depends lacks the shared libraries: $(grep Depends "$d/deb.info")"
    grep -q 'postinst' "$d/deb.info" || fail "the package has no postinst"
    [ $missing -eq 0 ] && echo "ok: cpack -G DEB: $(basename "$deb") with the unit, the user, its Depends from dpkg-shlibdeps"
  else
    fail "cpack -G DEB: $(tail -5 "$d/cpack.log")"
  fi
fi

if [ $failures -gt 0 ]; then
  echo "--- run.log"; tail -20 "$d/run.log"
  echo "FAILED ($failures)"
  exit 1
fi
echo "PASS"
