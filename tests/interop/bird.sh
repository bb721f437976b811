#!/usr/bin/env bash
# Interop: BIRD 2 -> monitor. IPv4 session: BIRD 127.0.0.2 connects to the passive monitor.
# IPv6 session: the monitor connects (active) to BIRD listening on [::1]:port. Both sessions
# carry IPv4 and IPv6 unicast. Checks routes, withdrawals, ROUTE-REFRESH, shutdown
# communication in both directions and reconnection.
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

gen_routes bird "$ROUTES" --as "$AS" --nh4 192.0.2.2 --nh6 fd00:1ab::2 --peer "$P4" --peer "$P6" \
  --v4 "${N4:-2000}" --v6 "${N6:-1000}"
source "$ROUTES/counts"
render "$INTEROP_DIR/conf/bird.conf.in" "$T/bird.conf" RUN="$T" ROUTES="$ROUTES/routes.conf" AS="$AS" \
  MONAS="$MON_AS" NEIGHBOR4=127.0.0.1 MONPORT="$MONPORT" PORT4="$PORT4" PORT6="$PORT6" GR= BGP_EXTRA= PASSWORD= \
  CH_EXTRA=
bird -p -c "$T/bird.conf" || fail "bird config does not parse"
birdc_() { birdc -s "$T/bird.ctl" "$@"; }

start_monitor --listen "127.0.0.1:$MONPORT" --listen "[::1]:$MONPORT" --connect-retry 2 \
  --peer "$P4,$AS" --peer "$P6,$AS,active,port=$PORT6"
start_bg bird bird -f -c "$T/bird.conf" -s "$T/bird.ctl" -P "$T/bird.pid"

log "== a/b: sessions up, initial routes"
check "ESTABLISHED on both sessions"
wait_established "$P4"
wait_established "$P6"
check_session 0 "$P4" "$N4" "$N6" expected
check_session 0 "$P6" "$N4" "$N6" expected

log "== c: withdraw a subset (birdc disable s4w s6w)"
m=$(mark)
birdc_ disable s4w >/dev/null
birdc_ disable s6w >/dev/null
check_withdrawn "$m" "$P4"
check_withdrawn "$m" "$P6"

log "== d: ROUTE-REFRESH from the monitor"
check_refresh "$P4" ipv4/unicast $((N4 - W4))
check_refresh "$P6" ipv6/unicast $((N6 - W6))

log "== e: BIRD shuts the IPv4 session down with a shutdown communication"
m=$(mark)
birdc_ 'disable mon4 "interop maintenance from bird"' >/dev/null
check "NOTIFICATION received 6/2 with the text"
wait_notification "$m" "$P4" received '6\|2\|interop maintenance from bird$'
wait_down "$m" "$P4"

log "== f: re-enable, reconnect, the routes BIRD still has"
m=$(mark)
birdc_ enable mon4 >/dev/null
wait_established "$P4" "$WAIT" 2
check_session "$m" "$P4" $((N4 - W4)) $((N6 - W6)) kept

log "== e2: the monitor stops the IPv6 session with a shutdown communication"
m=$(mark)
mon_cmd "stop $P6 interop stop from monitor"
wait_notification "$m" "$P6" sent '6\|2\|interop stop from monitor$'
check "BIRD reports the received shutdown communication"
wait_for "birdc_ show protocols all mon6 | grep 'interop stop from monitor' >/dev/null" "$WAIT" \
  "birdc show protocols all mon6 showing the text"
log "ok: $(birdc_ show protocols all mon6 | grep -m1 'interop stop from monitor' | sed 's/^ *//')"
m=$(mark)
mon_cmd "start $P6"
wait_established "$P6" "$WAIT" 2
check_session "$m" "$P6" $((N4 - W4)) $((N6 - W6)) kept

stop_bg bird
pass
