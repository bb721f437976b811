#!/usr/bin/env bash
# Interop: FRR bgpd -> monitor. IPv4 session: bgpd (127.0.0.3) connects to the passive monitor.
# IPv6 session: the monitor connects (active) to bgpd listening on [::1]:port. Both sessions
# carry IPv4 and IPv6 unicast. Checks routes (attributes set by route-maps), withdrawals,
# ROUTE-REFRESH, shutdown communication in both directions and reconnection.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$INTEROP_DIR/frr_lib.sh"

AS=$FRR_AS
P4=127.0.0.3
P6=::1
MONPORT=$(free_port)
PORT=$(free_port)
ROUTES=$T/routes

gen_routes frr "$ROUTES" --as "$AS" --nh4 192.0.2.3 --nh6 fd00:1ab::3 --peer "$P4" --peer "$P6" \
  --v4 "${N4:-2000}" --v6 "${N6:-1000}"
source "$ROUTES/counts"
# bgpd sends End-of-RIB only to peers that announced the graceful restart capability, and
# this monitor peer does not: sessions are checked by route count
NO_EOR=1
frr_render "$T/bgpd.conf" MONPORT="$MONPORT"

start_monitor --listen "127.0.0.1:$MONPORT" --listen "[::1]:$MONPORT" --connect-retry 2 \
  --peer "$P4,$AS,gr=120" --peer "$P6,$AS,active,port=$PORT,gr=120"
frr_start frr "$T/bgpd.conf" "$PORT"

log "== a/b: sessions up, initial routes"
check "ESTABLISHED on both sessions"
wait_established "$P4"
wait_established "$P6"
check_session 0 "$P4" "$N4" "$N6" expected
check_session 0 "$P6" "$N4" "$N6" expected

log "== c: withdraw a subset (vtysh: no network ...)"
m=$(mark)
mapfile -t cmds <"$ROUTES/withdraw.vtysh"
vty frr "${cmds[@]}" >/dev/null
check_withdrawn "$m" "$P4"
check_withdrawn "$m" "$P6"

log "== e: bgpd shuts the IPv4 session down with a shutdown communication"
m=$(mark)
vty frr "configure terminal" "router bgp $AS" \
  "neighbor 127.0.0.1 shutdown message interop maintenance from frr" >/dev/null
check "NOTIFICATION received 6/2 with the text"
wait_notification "$m" "$P4" received '6\|2\|interop maintenance from frr$'
wait_down "$m" "$P4"

log "== f: re-enable, reconnect, the routes bgpd still has"
m=$(mark)
vty frr "configure terminal" "router bgp $AS" "no neighbor 127.0.0.1 shutdown" >/dev/null
wait_established "$P4" "$WAIT" 2
check_session "$m" "$P4" $((N4 - W4)) $((N6 - W6)) kept

log "== e2: the monitor stops the IPv6 session with a shutdown communication"
m=$(mark)
mon_cmd "stop $P6 interop stop from monitor"
wait_notification "$m" "$P6" sent '6\|2\|interop stop from monitor$'
check "bgpd logs the received shutdown communication"
wait_for "grep -q 'received from neighbor ::1 6/2 .*\"interop stop from monitor\"' $T/bgpd.debug.log" "$WAIT" \
  "bgpd log line with the received text"
log "ok: $(grep -m1 'received from neighbor ::1 6/2' "$T/bgpd.debug.log")"
m=$(mark)
mon_cmd "start $P6"
wait_established "$P6" "$WAIT" 2
check_session "$m" "$P6" $((N4 - W4)) $((N6 - W6)) kept

log "== d: ROUTE-REFRESH from the monitor"
# bgpd 8.4 ignores a ROUTE-REFRESH when enhanced route refresh is negotiated and it has not sent
# End-of-RIB itself (it logs "rcvd route-refresh (REQUEST) for IPv4/unicast before EoR"; the
# flag is its own PEER_STATUS_EOR_SEND), and it sends End-of-RIB only to peers that announce
# graceful restart: the monitor announces it (gr=120), as collectors usually do. The monitor
# sends its own End-of-RIB as soon as the session is up.
for p in 127.0.0.1 ::1; do
  check "bgpd received End-of-RIB from the monitor on its session to $p"
  wait_for "grep -E 'rcvd End-of-RIB for IPv4 Unicast from $p( |\$)' $T/bgpd.debug.log" 10 \
    "bgpd log: rcvd End-of-RIB for IPv4 Unicast from $p (the monitor sent no End-of-RIB: bgpd will ignore ROUTE-REFRESH)"
done
check_refresh "$P4" ipv4/unicast $((N4 - W4))
check_refresh "$P6" ipv6/unicast $((N6 - W6))

stop_bg frr
pass
