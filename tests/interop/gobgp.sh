#!/usr/bin/env bash
# Interop: GoBGP -> monitor. IPv4 session: gobgpd (127.0.0.4) connects to the passive monitor.
# IPv6 session: the monitor connects (active) to gobgpd listening on [::1]:port. Both sessions
# carry IPv4 and IPv6 unicast. Routes are added with `gobgp global rib add` (AS_SET,
# aggregator, 4-octet ASNs). Checks routes, withdrawals, ROUTE-REFRESH, shutdown communication
# in both directions and reconnection.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$INTEROP_DIR/gobgp_lib.sh"

AS=$GOBGP_AS
P4=127.0.0.4
P6=::1
MONPORT=$(free_port)
PORT=$(free_port)
ROUTES=$T/routes

gen_routes gobgp "$ROUTES" --as "$AS" --nh4 192.0.2.4 --nh6 fd00:1ab::4 --peer "$P4" --peer "$P6" \
  --v4 "${N4:-800}" --v6 "${N6:-400}"
source "$ROUTES/counts"
# gobgpd sends End-of-RIB only when graceful restart is negotiated: checked by route count
NO_EOR=1
gobgp_render "$T/gobgpd.toml" PORT="$PORT" MONPORT="$MONPORT"

start_monitor --listen "127.0.0.1:$MONPORT" --listen "[::1]:$MONPORT" --connect-retry 2 \
  --peer "$P4,$AS" --peer "$P6,$AS,active,port=$PORT"
gobgp_start gobgp "$T/gobgpd.toml"
gobgp_load "$ROUTES/add.txt"
[[ $(gobgp_rib_count ipv4) == "$N4" && $(gobgp_rib_count ipv6) == "$N6" ]] ||
  fail "gobgpd RIB holds $(gobgp_rib_count ipv4)/$(gobgp_rib_count ipv6) prefixes, not $N4/$N6"
gobgp_ neighbor 127.0.0.1 enable >/dev/null
gobgp_ neighbor ::1 enable >/dev/null

log "== a/b: sessions up, initial routes"
check "ESTABLISHED on both sessions"
wait_established "$P4"
wait_established "$P6"
check_session 0 "$P4" "$N4" "$N6" expected
check_session 0 "$P6" "$N4" "$N6" expected

log "== c: withdraw a subset (gobgp global rib del)"
m=$(mark)
gobgp_load "$ROUTES/withdraw.txt"
check_withdrawn "$m" "$P4"
check_withdrawn "$m" "$P6"

log "== d: ROUTE-REFRESH from the monitor"
check_refresh "$P4" ipv4/unicast $((N4 - W4))
check_refresh "$P6" ipv6/unicast $((N6 - W6))

log "== e: gobgpd shuts the IPv4 session down with a shutdown communication"
m=$(mark)
# GoBGP 3.10: `disable --reason` sends Cease 6/2 without the text; the deprecated `shutdown
# --reason` sends it (and leaves the peer disabled like `disable`)
gobgp_ neighbor 127.0.0.1 shutdown --reason "interop maintenance from gobgp" >/dev/null 2>&1
check "NOTIFICATION received 6/2 with the text"
wait_notification "$m" "$P4" received '6\|2\|interop maintenance from gobgp$'
wait_down "$m" "$P4"

log "== f: re-enable, reconnect, the routes gobgpd still has"
m=$(mark)
gobgp_ neighbor 127.0.0.1 enable >/dev/null
wait_established "$P4" "$WAIT" 2
check_session "$m" "$P4" $((N4 - W4)) $((N6 - W6)) kept

log "== e2: the monitor stops the IPv6 session with a shutdown communication"
m=$(mark)
mon_cmd "stop $P6 interop stop from monitor"
wait_notification "$m" "$P6" sent '6\|2\|interop stop from monitor$'
check "gobgpd logs the received shutdown communication"
wait_for "grep -q 'interop stop from monitor' $T/gobgp.log" "$WAIT" "gobgpd log line with the received text"
log "ok: $(grep -m1 'interop stop from monitor' "$T/gobgp.log" | cut -c1-200)"
m=$(mark)
mon_cmd "start $P6"
wait_established "$P6" "$WAIT" 2
check_session "$m" "$P6" $((N4 - W4)) $((N6 - W6)) kept

stop_bg gobgp
pass
