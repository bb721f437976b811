#!/usr/bin/env bash
# Interop: graceful restart (monitor as helper) with FRR bgpd. The monitor peers say gr=120;
# bgpd has `bgp graceful-restart` with `preserve-fw-state` (Forwarding bit). bgpd is killed
# with SIGKILL (GR|stale expected) and started again; it re-sends its routes and End-of-RIB
# (GR|recovered).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$INTEROP_DIR/frr_lib.sh"
source "$INTEROP_DIR/gr_steps.sh"

AS=$FRR_AS
P4=127.0.0.3
P6=::1
MONPORT=$(free_port)
PORT=$(free_port)
ROUTES=$T/routes
FAMS="ipv4/unicast ipv6/unicast"

gen_routes frr "$ROUTES" --as "$AS" --nh4 192.0.2.3 --nh6 fd00:1ab::3 --peer "$P4" --peer "$P6" \
  --v4 "${N4:-400}" --v6 "${N6:-200}"
source "$ROUTES/counts"
frr_render "$T/bgpd.conf" MONPORT="$MONPORT" BGP_EXTRA=" bgp graceful-restart
 bgp graceful-restart preserve-fw-state
 bgp graceful-restart restart-time 120
 bgp graceful-restart select-defer-time 30"

start_monitor --listen "127.0.0.1:$MONPORT" --listen "[::1]:$MONPORT" --connect-retry 2 \
  --peer "$P4,$AS,gr=120" --peer "$P6,$AS,active,port=$PORT,gr=120"
frr_start frr "$T/bgpd.conf" "$PORT"

wait_established "$P4"
wait_established "$P6"
check_session 0 "$P4" "$N4" "$N6" expected
check_session 0 "$P6" "$N4" "$N6" expected

log "== kill -9 bgpd"
m=$(mark)
kill9_bg frr
gr_expect_stale "$m" "$P4" "$P6"

log "== bgpd starts again"
m=$(mark)
rm -f "$T/frr.vty/bgpd.vty"
frr_start frr2 "$T/bgpd.conf" "$PORT"
gr_expect_recovered "$m" "$P4" "$P6"
check_session "$m" "$P4" "$N4" "$N6" expected
check_session "$m" "$P6" "$N4" "$N6" expected

stop_bg frr2
pass
