#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Interop: FRR bgpd as a BMP client of `bgpscribe run` (issue 18, the BMP station input).
# bgpd (-M bmp, 127.0.0.3) has a BMP target that connects to the collector's bmp_listen
# (router `frr1`, 127.0.0.1/32) and monitors IPv4 and IPv6 unicast pre- and post-policy (each
# peer is then two sources, every route twice; POLICIES=pre-policy monitors one).
# `bgpscribe replay` sends the two biggest peers of a real RIB head (RouteViews 2014, AS8492
# and AS293 from 127.0.0.20/.21, 20 % of the routes also as IPv6) into bgpd over BGP and
# records what it sent. The collector archives the Route Monitoring with an MRT exporter (and
# a postgres one when PostgreSQL and the bmp migration are there). Then:
#   1. routes: bgpd reports every route to the collector (its `show bmp` MonSent count); the
#      MRT archive holds, per monitored peer, exactly the routes replay sent (prefix set, AS
#      path, next hop, communities, every attribute), with the peer's AS and bgpd's local
#      address and AS from the Peer Up; bgp.rib the same, with the router named;
#   2. peer down: replay stops (Cease): the archive records each peer's session going down.
# bgpd also sends Statistics Reports every second: the collector counts them and keeps the
# session.
# FRR 8.4.4 encodes a pre-policy Route Monitoring as if it sent the route to that eBGP peer,
# its own AS prepended, unless the neighbor has `attribute-unchanged as-path` (set below).
# Skips (77) without bgpd's bmp module or the shared data.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/frr_lib.sh"
compgen -G '/usr/lib/*/frr/modules/bgpd_bmp.so' >/dev/null ||
  { log "SKIP: FRR's bmp module (bgpd_bmp.so) is not installed"; exit 77; }

ROUTER=frr1
FRR=127.0.0.3
PEERS=(127.0.0.20 127.0.0.21) # replay's sessions (--source-base, --peers 2)
FRRPORT=$(free_port)
# POLICIES: what bgpd monitors; COPIES: how often the archive (and the RIB) holds each route.
POLICIES=${POLICIES:-pre-policy post-policy}
COPIES=$(wc -w <<<"$POLICIES")

NAME=bmp-frr-interop
source "$INTEROP_DIR/bmp_in_lib.sh"

{
  cat <<CONF
frr defaults traditional
hostname bmp-frr
log file $T/bgpd.debug.log informational
!
router bgp $FRR_AS
 bgp router-id $FRR
 no bgp ebgp-requires-policy
 bgp log-neighbor-changes
CONF
  for p in "${PEERS[@]}"; do
    printf ' neighbor %s remote-as external\n neighbor %s passive\n' "$p" "$p"
  done
  for af in ipv4 ipv6; do
    echo " address-family $af unicast"
    for p in "${PEERS[@]}"; do
      # pre-policy monitoring shows the Adj-RIB-In that soft-reconfiguration keeps
      printf '  neighbor %s activate\n  neighbor %s soft-reconfiguration inbound\n' "$p" "$p"
      printf '  neighbor %s attribute-unchanged as-path\n' "$p"
    done
    echo " exit-address-family"
  done
  echo " bmp targets bgpscribe"
  for af in ipv4 ipv6; do
    for pol in $POLICIES; do echo "  bmp monitor $af unicast $pol"; done
  done
  echo "  bmp stats interval 1000"
  echo "  bmp connect 127.0.0.1 port $BMPPORT min-retry 100 max-retry 1000"
  printf ' exit\nexit\n'
} >"$T/frr.conf"

# bmp_sent: bgpd's Route Monitoring count to the collector (`show bmp`, MonSent column)
bmp_sent() {
  vty frr 'show bmp' | awk -v r="127.0.0.1:$BMPPORT" '$1 == r && NF >= 8 { print $3 }'
}


start_bg collector "$BGPSCRIBE" run -c "$T/c.yaml"
wait_for "ss -ltn 'sport = :$BMPPORT' | grep -q LISTEN" "$WAIT" "the collector's bmp_listen on $BMPPORT"
mkdir -p "$T/frr.vty"
start_bg frr /usr/lib/frr/bgpd -S -Z -n -l "$FRR" -p "$FRRPORT" -f "$T/frr.conf" \
  -i "$T/frr.pid" --vty_socket "$T/frr.vty" -P 0 -M bmp
wait_for "[[ -S $T/frr.vty/bgpd.vty ]]" 30 "bgpd vty socket"
wait_for "[[ -n \$(bmp_sent) ]]" "$WAIT" "bgpd's BMP session to the collector"
wait_for "grep -q 'bmp router $ROUTER (127.0.0.1)' '$T/collector.log'" "$WAIT" \
  "the collector logs router $ROUTER"

check "routes: replay feeds bgpd, bgpd reports them, the collector archives them"
start_bg replay "$BGPSCRIBE" replay --to "$FRR" --port "$FRRPORT" --source-base "${PEERS[0]}" \
  --peers 2 --ipv6-from-ipv4 20 --hold -1 --stats --record "$T/sent.mrt" "$RIB"
replay_total
wait_for "[[ \$(bmp_sent) -ge $((COPIES * total)) ]]" "$WAIT" \
  "bgpd sends $((COPIES * total)) Route Monitoring ($COPIES per route)"
log "bgpd: $(bmp_sent) Route Monitoring sent"
wait_for "col_routes $((COPIES * total))" "$WAIT" \
  "the collector: $((COPIES * total)) routes, its exporters idle"
log "the collector holds the $((COPIES * total)) routes"
# bgpd's Statistics Reports (every second) are counted, and do not end the BMP session
wait_for "[[ \$(router_stat statistics) -ge $((2 * ${#PEERS[@]})) ]]" "$WAIT" \
  "the collector counts bgpd's Statistics Reports"
[[ $(grep -c "bmp router $ROUTER (127.0.0.1): connected" "$T/collector.log") == 1 ]] ||
  fail "router $ROUTER connected more than once: $(grep "bmp router" "$T/collector.log")"

if ((SQL)); then
  check "SQL: bgp.rib holds every route of router $ROUTER's peers"
  wait_for "[[ \$(rib_count) == $((COPIES * total)) ]]" "$WAIT" \
    "bgp.rib: $((COPIES * total)) routes of router $ROUTER"
  sql_peers $((COPIES * ${#PEERS[@]}))
  # compared once replay has written what it sent (at its exit)
  for p in "${PEERS[@]}"; do
    for post in f t; do
      sql_routes "$p" "$post" >"$T/sql-$p-$post.txt"
    done
  done
fi

check "peer down: replay ends its sessions"
stop_bg replay
wait_for "[[ \$(downs) == $((COPIES * ${#PEERS[@]})) ]]" "$WAIT" \
  "the collector logs the Peer Down of every source"
"$BGPSCRIBE" dump --json "$T/sent.mrt" >"$T/sent.json"
if ((SQL)); then
  for p in "${PEERS[@]}"; do
    for post in f t; do
      [[ $COPIES == 2 || $post == f ]] || continue
      "$PY" "$CHECK" sql "$T/sent.json" "$T/sql-$p-$post.txt" --peer "$p" >"$T/sql-check.txt" ||
        fail "bgp.rib of $p (post_policy $post): $(cat "$T/sql-check.txt")"
      log "ok: post_policy $post: $(cat "$T/sql-check.txt")"
    done
  done
fi
if ((SQL)); then
  # every source down in bgp.peer_events, its routes withdrawn from bgp.rib
  down="SELECT count(*) FROM bgp.peer_events e JOIN bgp.peers p USING (peer_id)
        WHERE p.router = '$ROUTER' AND e.old_state = 'Established'"
  wait_for "[[ \$(sql \"$down\") == $((COPIES * ${#PEERS[@]})) ]]" "$WAIT" "bgp.peer_events: $((COPIES * ${#PEERS[@]})) sources down"
  wait_for "[[ \$(rib_count) == 0 ]]" "$WAIT" "bgp.rib: no route of router $ROUTER left"
  log "bgp.peer_events: $(sql "SELECT DISTINCT e.new_state || ' ' || e.reason FROM bgp.peer_events e
    JOIN bgp.peers p USING (peer_id) WHERE p.router = '$ROUTER' AND e.old_state = 'Established'")"
fi
log_router_status
stop_bg frr
kill -TERM "${PIDS[collector]}"
wait_for "! kill -0 ${PIDS[collector]}" 30 "the collector to exit after SIGTERM"
unset "PIDS[collector]"

"$BGPSCRIBE" dump --json "$T/mrt/updates" >"$T/archive.json"
"$PY" "$CHECK" routes "$T/sent.json" "$T/archive.json" --peer "${PEERS[@]}" --local-ip "$FRR" \
  --local-as "$FRR_AS" --copies "$COPIES" >"$T/routes-check.txt" ||
  fail "the archive differs from what replay sent: $(cat "$T/routes-check.txt")"
log "ok: $(cat "$T/routes-check.txt")"
for p in "${PEERS[@]}"; do
  states=$("$PY" "$CHECK" states "$T/archive.json" --peer "$p" | tr '\n' ' ')
  log "$p: state changes: $states"
  [[ $(grep -o '>Established' <<<"$states" | wc -l) == "$COPIES" ]] ||
    fail "$p: not $COPIES state changes to Established (Peer Up): $states"
  [[ $(grep -o 'Established>' <<<"$states" | wc -l) == "$COPIES" ]] ||
    fail "$p: not $COPIES state changes from Established (Peer Down): $states"
done
pass
