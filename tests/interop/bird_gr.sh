#!/usr/bin/env bash
# Interop: graceful restart (monitor as receiving speaker / helper) with BIRD 2. The monitor
# peers say gr=120; BIRD has `graceful restart on`. BIRD is killed with SIGKILL: the monitor must
# keep the routes as stale (GR|stale per family); BIRD is started again in recovery mode (-R,
# which sets the Restart and Forwarding bits) and re-sends its routes and End-of-RIB: GR|recovered.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need bird birdc

AS=4200000002
P4=127.0.0.2
P6=::1
MONPORT=$(free_port)
PORT4=$(free_port)
PORT6=$(free_port)
ROUTES=$T/routes
FAMS="ipv4/unicast ipv6/unicast"

gen_routes bird "$ROUTES" --as "$AS" --nh4 192.0.2.2 --nh6 fd00:1ab::2 --peer "$P4" --peer "$P6" \
  --v4 "${N4:-400}" --v6 "${N6:-200}"
source "$ROUTES/counts"
# `graceful restart wait`: in recovery mode BIRD holds its routes back until every GR peer
# sent End-of-RIB or this many seconds passed (default 240)
render "$INTEROP_DIR/conf/bird.conf.in" "$T/bird.conf" RUN="$T" ROUTES="$ROUTES/routes.conf" AS="$AS" \
  MONAS="$MON_AS" NEIGHBOR4=127.0.0.1 MONPORT="$MONPORT" PORT4="$PORT4" PORT6="$PORT6" \
  GR="graceful restart wait 20;" BGP_EXTRA="graceful restart on; graceful restart time 120;" \
  PASSWORD= CH_EXTRA=
bird -p -c "$T/bird.conf" || fail "bird config does not parse"

start_monitor --listen "127.0.0.1:$MONPORT" --listen "[::1]:$MONPORT" --connect-retry 2 \
  --peer "$P4,$AS,gr=120" --peer "$P6,$AS,active,port=$PORT6,gr=120"
start_bg bird bird -f -c "$T/bird.conf" -s "$T/bird.ctl" -P "$T/bird.pid"

wait_established "$P4"
wait_established "$P6"
check_session 0 "$P4" "$N4" "$N6" expected
check_session 0 "$P6" "$N4" "$N6" expected
source "$INTEROP_DIR/gr_steps.sh"

log "== kill -9 BIRD"
m=$(mark)
kill9_bg bird
gr_expect_stale "$m" "$P4" "$P6"

log "== BIRD restarts in graceful restart recovery mode (bird -R)"
m=$(mark)
start_bg bird2 bird -R -f -c "$T/bird.conf" -s "$T/bird.ctl" -P "$T/bird.pid"
gr_expect_recovered "$m" "$P4" "$P6"
check_session "$m" "$P4" "$N4" "$N6" expected
check_session "$m" "$P6" "$N4" "$N6" expected

stop_bg bird2
pass
