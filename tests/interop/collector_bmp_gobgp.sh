#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Interop: GoBGP as a BMP client of `bgpscribe run` (issue 18, the BMP station input).
# gobgpd (127.0.0.4) has a [[bmp-servers]] entry for the collector's bmp_listen (router
# `gobgp1`, 127.0.0.1/32), route-monitoring-policy pre-policy. `bgpscribe replay` sends the two
# biggest peers of a real RIB head (RouteViews 2014: AS8492 and AS293 from 127.0.0.20/.21, 20 %
# of the routes also as IPv6) into gobgpd over BGP and records what it sent. The collector
# archives the Route Monitoring with an MRT exporter (and a postgres one when PostgreSQL and the
# bmp migration are there). Then:
#   1. routes: the collector holds them; bgp.peers has a row per peer with the router named,
#      bgp.rib exactly the routes replay sent;
#   2. reconnect, post-policy: `gobgp bmp del` ends the BMP session (Termination): every
#      source goes down; `gobgp bmp add ... post` connects again: Peer Ups, and the whole table
#      as post-policy Route Monitoring (L flag), a second source per peer; bgp.rib holds the
#      routes as post-policy ones, exactly, and none as pre-policy;
#   3. peer down: replay stops (Cease): bgp.peer_events has every source down, bgp.rib none of
#      the routes; the MRT archive holds, per monitored peer, the routes replay sent exactly
#      (prefix set and every attribute), twice (pre-, then post-policy), with gobgpd's local
#      address and AS from the Peer Up, and the state changes up, down (disconnect), up (pre),
#      up (post), down, down.
# GoBGP 3.10 sends no Route Monitoring at all with route-monitoring-policy "both", and with
# "all" a Loc-RIB Route Monitoring without a Peer Up, hence one policy at a time.
# Skips (77) without gobgpd or the shared data.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gobgp_lib.sh"

ROUTER=gobgp1
GOBGP=127.0.0.4
PEERS=(127.0.0.20 127.0.0.21) # replay's sessions (--source-base, --peers 2) ...
PEER_AS=(8492 293)            # ... and their ASes (the RIB head's two biggest MRT peers)
GOBGPPORT=$(free_port)

NAME=bmp-gobgp-interop
source "$INTEROP_DIR/bmp_in_lib.sh"

{
  cat <<TOML
[global.config]
  as = $GOBGP_AS
  router-id = "$GOBGP"
  port = $GOBGPPORT
  local-address-list = ["$GOBGP"]

[[bmp-servers]]
  [bmp-servers.config]
    address = "127.0.0.1"
    port = $BMPPORT
    route-monitoring-policy = "pre-policy"
    sys-name = "bmp-gobgp"
TOML
  for i in "${!PEERS[@]}"; do
    cat <<TOML

[[neighbors]]
  [neighbors.config]
    neighbor-address = "${PEERS[$i]}"
    peer-as = ${PEER_AS[$i]}
  [neighbors.transport.config]
    local-address = "$GOBGP"
    passive-mode = true
$(gobgp_afi_safis "")
TOML
  done
} >"$T/gobgpd.toml"


start_bg collector "$BGPSCRIBE" run -c "$T/c.yaml"
wait_for "ss -ltn 'sport = :$BMPPORT' | grep -q LISTEN" "$WAIT" "the collector's bmp_listen on $BMPPORT"
gobgp_start gobgpd "$T/gobgpd.toml"
wait_for "grep -q 'bmp router $ROUTER (127.0.0.1)' '$T/collector.log'" "$WAIT" \
  "the collector logs router $ROUTER"

check "routes: replay feeds gobgpd, gobgpd reports them, the collector archives them"
start_bg replay "$BGPSCRIBE" replay --to "$GOBGP" --port "$GOBGPPORT" --source-base "${PEERS[0]}" \
  --peers 2 --ipv6-from-ipv4 20 --hold -1 --stats --record "$T/sent.mrt" "$RIB"
replay_total
wait_for "col_routes $total" "$WAIT" "the collector: $total routes, its exporters idle"
log "the collector holds the $total routes"


if ((SQL)); then
  check "SQL: bgp.rib holds every route of router $ROUTER's peers"
  wait_for "[[ \$(rib_count f) == $total ]]" "$WAIT" "bgp.rib: $total routes of router $ROUTER"
  sql_peers "${#PEERS[@]}"
  # compared once replay has written what it sent (at its exit)
  for p in "${PEERS[@]}"; do sql_routes "$p" f >"$T/sql-$p-f.txt"; done
fi

check "reconnect, post-policy: gobgpd's BMP session ends, a post-policy one reports the routes"
gobgp_ bmp del "127.0.0.1:$BMPPORT"
wait_for "[[ \$(downs) == ${#PEERS[@]} ]]" "$WAIT" "the collector: every source down at the disconnect"
gobgp_ bmp add "127.0.0.1:$BMPPORT" post
wait_for "[[ \$(grep -c ' post-policy AS[0-9]*: up (BMP)' '$T/collector.log') == ${#PEERS[@]} ]]" \
  "$WAIT" "the collector: a post-policy source per peer"
wait_for "col_routes $total" "$WAIT" "the collector: $total routes, its exporters idle"
log "the collector holds the $total routes (post-policy)"
if ((SQL)); then
  wait_for "[[ \$(rib_count t) == $total && \$(rib_count f) == 0 ]]" "$WAIT" \
    "bgp.rib: $total post-policy routes of router $ROUTER, no pre-policy one"
  for p in "${PEERS[@]}"; do sql_routes "$p" t >"$T/sql-$p-t.txt"; done
fi

check "peer down: replay ends its sessions"
stop_bg replay
# gobgpd's Peer Down takes each peer's pre- and post-policy sources down
wait_for "[[ \$(downs) == $((3 * ${#PEERS[@]})) ]]" "$WAIT" \
  "the collector logs the Peer Down of every source"
"$BGPSCRIBE" dump --json "$T/sent.mrt" >"$T/sent.json"
declare -A SENT
while read -r p n; do SENT[$p]=$n; done < <(
  sed -n 's/^bgpscribe replay: \([0-9.]*\): \([0-9]*\) prefixes, .*/\1 \2/p' "$T/replay.log")
if ((SQL)); then
  for p in "${PEERS[@]}"; do
    for post in f t; do
      "$PY" "$CHECK" sql "$T/sent.json" "$T/sql-$p-$post.txt" --peer "$p" >"$T/sql-check.txt" ||
        fail "bgp.rib of $p (post_policy $post): $(cat "$T/sql-check.txt")"
      log "ok: post_policy $post: $(cat "$T/sql-check.txt")"
    done
  done
  # every source down in bgp.peer_events, its routes withdrawn from bgp.rib
  down="SELECT count(*) FROM bgp.peer_events e JOIN bgp.peers p USING (peer_id)
        WHERE p.router = '$ROUTER' AND e.old_state = 'Established'"
  wait_for "[[ \$(sql \"$down\") == $((3 * ${#PEERS[@]})) ]]" "$WAIT" \
    "bgp.peer_events: $((3 * ${#PEERS[@]})) sources down"
  wait_for "[[ \$(rib_count t) == 0 && \$(rib_count f) == 0 ]]" "$WAIT" \
    "bgp.rib: no route of router $ROUTER left"
  sql "SELECT DISTINCT e.new_state || ': ' || e.reason FROM bgp.peer_events e
       JOIN bgp.peers p USING (peer_id) WHERE p.router = '$ROUTER' AND e.old_state = 'Established'" |
    while read -r l; do log "bgp.peer_events: $l"; done
fi
log_router_status
stop_bg gobgpd
kill -TERM "${PIDS[collector]}"
wait_for "! kill -0 ${PIDS[collector]}" 30 "the collector to exit after SIGTERM"
unset "PIDS[collector]"

# Each route twice (pre-policy, then post-policy after the reconnect). gobgpd withdrew none of
# the post-policy routes at the Peer Down here, though it withdraws each when it monitored
# post-policy from the start (seen with a plain listener).
"$BGPSCRIBE" dump --json "$T/mrt/updates" >"$T/archive.json"
"$PY" "$CHECK" routes "$T/sent.json" "$T/archive.json" --peer "${PEERS[@]}" --local-ip "$GOBGP" \
  --local-as "$GOBGP_AS" --copies 2 --announced >"$T/routes-check.txt" ||
  fail "the archive differs from what replay sent: $(cat "$T/routes-check.txt")"
log "ok: $(cat "$T/routes-check.txt")"
for p in "${PEERS[@]}"; do
  # none, or (when it monitored post-policy from the start) every route
  grep -Eq "^$p: .* (0|${SENT[$p]}) withdrawals;" "$T/routes-check.txt" ||
    fail "$p: neither 0 nor ${SENT[$p]} withdrawals archived: $(grep "^$p:" "$T/routes-check.txt")"
  states=$("$PY" "$CHECK" states "$T/archive.json" --peer "$p" | tr '\n' ' ')
  log "$p: state changes: $states"
  # up (pre), down (disconnect), up (pre), up (post), down, down
  [[ $states == "OpenConfirm>Established Established>Idle OpenConfirm>Established OpenConfirm>Established Established>Idle Established>Idle " ]] ||
    fail "$p: not the state changes of Peer Up, disconnect, Peer Up (pre, post), Peer Down: $states"
done
pass
