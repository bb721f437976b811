#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Interop: a graceful restart of BIRD 2 archived by `bgpscribe run` into SQL (issue #14, fault
# 6). BIRD has `graceful restart on` and two sessions to the collector (IPv4 and IPv6 unicast
# on each); the collector peers have graceful_restart: 120 and a postgres exporter (a private
# PostgreSQL cluster, scripts/pg-cluster) beside an MRT one.
#   1. Both sessions up: bgp.rib holds every route the collector holds.
#   2. kill -9 BIRD: the sessions go down, the graceful restart keeps both families; the
#      collector still holds every route (stale), and so does bgp.rib: no session_down
#      withdrawal in bgp.updates.
#   3. BIRD restarts in recovery mode (bird -R) without its "withdraw" routes (s4w/s6w
#      disabled), sends the rest and End-of-RIB: the collector holds the rest, bgp.rib exactly
#      the same routes, and the routes not sent again are withdrawn in bgp.updates with the
#      cause graceful_restart, once each per session.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need bird birdc psql
BGPSCRIBE=${BGPSCRIBE:-$REPO_ROOT/build/ci/tools/bgpscribe}
case $BGPSCRIBE in /*) ;; *) BGPSCRIBE=$REPO_ROOT/$BGPSCRIBE ;; esac
need "$BGPSCRIBE"

AS=4200000002
P4=127.0.0.2
P6=::1
MONPORT=$(free_port)
PORT4=$(free_port)
PORT6=$(free_port)
ROUTES=$T/routes

chmod 711 "$T" # run as root, the server runs as postgres and must reach $T/pg
DSN=$("$REPO_ROOT/scripts/pg-cluster" start "$T/pg") || fail "cannot start PostgreSQL"
trap 'rc=$?; set +e; "$REPO_ROOT/scripts/pg-cluster" stop "$T/pg" >/dev/null 2>&1; (exit $rc); cleanup' EXIT
sql() { psql "$DSN" -XAtqc "$1"; }

gen_routes bird "$ROUTES" --as "$AS" --nh4 192.0.2.2 --nh6 fd00:1ab::2 --peer "$P4" --peer "$P6" \
  --v4 "${N4:-400}" --v6 "${N6:-200}" --withdraw-mod 4
# shellcheck source=/dev/null
source "$ROUTES/counts"
render "$INTEROP_DIR/conf/bird.conf.in" "$T/bird.conf" RUN="$T" ROUTES="$ROUTES/routes.conf" AS="$AS" \
  MONAS="$MON_AS" NEIGHBOR4=127.0.0.1 MONPORT="$MONPORT" PORT4="$PORT4" PORT6="$PORT6" \
  GR="graceful restart wait 20;" BGP_EXTRA="graceful restart on; graceful restart time 120;" \
  PASSWORD= CH_EXTRA=
bird -p -c "$T/bird.conf" || fail "bird config does not parse"
cat >"$T/c.yaml" <<EOF
collector:
  name: interop
  local_as: $MON_AS
  bgp_id: 127.0.0.1
  listen: ["127.0.0.1:$MONPORT", "[::1]:$MONPORT"]
  state_directory: $T/state
  status_interval: 0
peer_defaults:
  connect_retry: 2s
  graceful_restart: 120
peers:
  - {address: $P4, as: $AS}
  - {address: '$P6', as: $AS, passive: false, port: $PORT6}
exporters:
  - {type: mrt, directory: $T/mrt, preset: none, updates_file: updates.gz, rib_file: ""}
  - {type: postgres, name: sql, dsn: "$DSN", batch_interval_ms: 200}
EOF

# The routes of bgp.rib as "peer prefix" lines, sorted.
sql_rib() { sql "SELECT host(p.address) || ' ' || r.prefix FROM bgp.rib r JOIN bgp.peers p USING (peer_id) ORDER BY 1"; }
cause_count() { sql "SELECT count(*) FROM bgp.updates WHERE cause = '$1'"; }

start_bg collector "$BGPSCRIBE" run -c "$T/c.yaml"
wait_for "[[ -s $T/state/status.json ]]" 20 "collector status.json"
start_bg bird bird -f -c "$T/bird.conf" -s "$T/bird.ctl" -P "$T/bird.pid"

N=$((N4 + N6))
K=$((N - W4 - W6))
check "two sessions with graceful restart: $N routes each, in the collector and in bgp.rib"
wait_col $((2 * N)) 2
wait_for "[[ \$(sql 'SELECT count(*) FROM bgp.rib') == $((2 * N)) ]]" "$WAIT" "bgp.rib: $((2 * N)) routes"
sql_rib >"$T/rib1.txt"
[[ $(cut -d' ' -f1 "$T/rib1.txt" | sort | uniq -c | awk '{print $1}' | sort -u) == "$N" ]] ||
  fail "bgp.rib: not $N routes per peer: $(cut -d' ' -f1 "$T/rib1.txt" | uniq -c)"

check "kill -9 BIRD: the routes stay, stale, in the collector and in bgp.rib"
kill9_bg bird
wait_col $((2 * N)) 0
wait_for "[[ \$(sql \"SELECT count(*) FROM bgp.peer_events WHERE old_state = 'Established'\") == 2 ]]" \
  "$WAIT" "bgp.peer_events: both sessions down"
sleep 1 # a batch interval and more: the downs' batches are applied with their events
sql_rib >"$T/rib2.txt"
cmp -s "$T/rib1.txt" "$T/rib2.txt" || fail "bgp.rib changed when the sessions went down: $(diff "$T/rib1.txt" "$T/rib2.txt" | head)"
[[ $(cause_count session_down) == 0 ]] || fail "$(cause_count session_down) session_down withdrawals"
log "bgp.rib: $((2 * N)) routes kept, no session_down withdrawal"

check "BIRD restarts (bird -R) without its $((W4 + W6)) withdraw-subset routes: End-of-RIB ends the restart"
sed -i -E 's/^protocol static (s[46]w) \{$/protocol static \1 { disabled;/' "$ROUTES/routes.conf"
grep -q 's4w { disabled;' "$ROUTES/routes.conf" || fail "routes.conf: cannot disable s4w"
start_bg bird2 bird -R -f -c "$T/bird.conf" -s "$T/bird.ctl" -P "$T/bird.pid"
wait_col $((2 * K)) 2
wait_for "[[ \$(cause_count graceful_restart) == $((2 * (W4 + W6))) ]]" "$WAIT" \
  "bgp.updates: $((2 * (W4 + W6))) graceful_restart withdrawals"
wait_for "[[ \$(sql 'SELECT count(*) FROM bgp.rib') == $((2 * K)) ]]" "$WAIT" "bgp.rib: $((2 * K)) routes"
sql_rib >"$T/rib3.txt"
# What went: exactly the withdraw subset of each peer, each once, with that cause.
sql "SELECT host(p.address) || ' ' || u.prefix FROM bgp.updates u JOIN bgp.peers p USING (peer_id) WHERE u.cause = 'graceful_restart' ORDER BY 1" >"$T/gone.txt"
comm -23 "$T/rib1.txt" "$T/rib3.txt" >"$T/gone_expected.txt"
cmp -s "$T/gone.txt" "$T/gone_expected.txt" ||
  fail "graceful_restart withdrawals differ from the routes gone: $(diff "$T/gone.txt" "$T/gone_expected.txt" | head)"
for peer in "$P4" "$P6"; do
  n=$(grep -c "^$peer " "$T/gone.txt" || true)
  [[ $n == $((W4 + W6)) ]] || fail "$peer: $n graceful_restart withdrawals, expected $((W4 + W6))"
done
[[ $(cause_count session_down) == 0 ]] || fail "$(cause_count session_down) session_down withdrawals"
log "bgp.rib: $((2 * K)) routes; $((2 * (W4 + W6))) stale routes withdrawn with cause graceful_restart"

stop_bg bird2
kill -TERM "${PIDS[collector]}"
wait_for "! kill -0 ${PIDS[collector]}" 30 "collector to exit after SIGTERM"
unset "PIDS[collector]"
pass
