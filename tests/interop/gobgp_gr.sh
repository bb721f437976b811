#!/usr/bin/env bash
# Interop: graceful restart (monitor as helper) with GoBGP. The monitor peers say gr=120;
# gobgpd has graceful-restart enabled (restart-time 120, mp-graceful-restart on both families).
# gobgpd is killed with SIGKILL (GR|stale expected), started again with -r (restarting: R and F
# bits), its RIB is loaded again, and it re-sends the routes and End-of-RIB (GR|recovered).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$INTEROP_DIR/gobgp_lib.sh"
source "$INTEROP_DIR/gr_steps.sh"

AS=$GOBGP_AS
P4=127.0.0.4
P6=::1
MONPORT=$(free_port)
PORT=$(free_port)
ROUTES=$T/routes
FAMS="ipv4/unicast ipv6/unicast"

gen_routes gobgp "$ROUTES" --as "$AS" --nh4 192.0.2.4 --nh6 fd00:1ab::4 --peer "$P4" --peer "$P6" \
  --v4 "${N4:-400}" --v6 "${N6:-200}"
source "$ROUTES/counts"
gobgp_render "$T/gobgpd.toml" PORT="$PORT" MONPORT="$MONPORT" \
  NEIGHBOR_EXTRA=$'  [neighbors.graceful-restart.config]\n    enabled = true\n    restart-time = 120' \
  AFI_SAFIS="$(gobgp_afi_safis $'    [neighbors.afi-safis.mp-graceful-restart.config]\n      enabled = true')"

start_monitor --listen "127.0.0.1:$MONPORT" --listen "[::1]:$MONPORT" --connect-retry 2 \
  --peer "$P4,$AS,gr=120" --peer "$P6,$AS,active,port=$PORT,gr=120"
gobgp_start gobgp "$T/gobgpd.toml"
gobgp_load "$ROUTES/add.txt"
gobgp_ neighbor 127.0.0.1 enable >/dev/null
gobgp_ neighbor ::1 enable >/dev/null

wait_established "$P4"
wait_established "$P6"
check_session 0 "$P4" "$N4" "$N6" expected
check_session 0 "$P6" "$N4" "$N6" expected

log "== kill -9 gobgpd"
m=$(mark)
kill9_bg gobgp
gr_expect_stale "$m" "$P4" "$P6"

# a restarting gobgpd defers its updates until it has the End-of-RIB of every GR peer (RFC 4724
# 4.2: the receiving speaker must send one, even when it has no routes) or deferral-time passes
GR_HINT="gobgpd -r waits for the monitor's End-of-RIB before it sends anything"
log "== gobgpd restarts with -r (graceful restart: restarting) and gets its RIB back"
m=$(mark)
start_bg gobgp2 gobgpd -r -f "$T/gobgpd.toml" --api-hosts "127.0.0.1:$GOBGP_API" --pprof-disable
wait_for "gobgp_ global" 30 "gobgpd API"
gobgp_load "$ROUTES/add.txt"
gobgp_ neighbor 127.0.0.1 enable >/dev/null
gobgp_ neighbor ::1 enable >/dev/null
gr_expect_recovered "$m" "$P4" "$P6"
check_session "$m" "$P4" "$N4" "$N6" expected
check_session "$m" "$P6" "$N4" "$N6" expected

stop_bg gobgp2
pass
