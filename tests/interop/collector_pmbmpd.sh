#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Interop: the collector's BMP exporter (issue 18) feeding pmacct's pmbmpd as a BMP station.
# `bgpscribe replay` sends a real RIB head (RouteViews, 2014) from two ADD-PATH peers (10 % of
# the routes also as IPv6, 4-octet AS sessions) into `bgpscribe run`, and pmbmpd_check.py's
# small speaker two more sessions: one over IPv6 (::1, IPv6 unicast routes, 4-octet AS) and one
# 2-octet AS session (no capability 65: the A flag, 2-octet AS_PATHs in the live UPDATEs and in
# the table rebuilt from the RIB). The collector archives them with an MRT exporter and sends
# them to pmbmpd with a BMP exporter. Then:
#   1. live: pmbmpd logged Initiation (sysName = the collector's name), a Peer Up per peer (the
#      2-octet session's with the A flag, the IPv6 one with V), and
#      every route of the MRT archive, as Route Monitoring, exactly (peer, prefix, path id, AS
#      path, next hop, communities; pmbmpd_check.py routes), and Statistics Reports whose
#      Adj-RIB-In count (type 7) reaches the routes each peer sent;
#   2. table: pmbmpd restarted mid-session gets the whole table again (the same routes, exactly)
#      without a new Peer Up being missed;
#   3. peer down: the replay's sessions end with a NOTIFICATION; pmbmpd logs a Peer Down per peer.
# Skips (77) without pmbmpd or the shared data.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need pmbmpd
BGPSCRIBE=${BGPSCRIBE:-$REPO_ROOT/build/ci/tools/bgpscribe}
case $BGPSCRIBE in /*) ;; *) BGPSCRIBE=$REPO_ROOT/$BGPSCRIBE ;; esac
need "$BGPSCRIBE"
CHECK=$INTEROP_DIR/pmbmpd_check.py
RIB=$REPO_ROOT/../shared/data/mrt/pyasn/data/rib.20140523.0600_firstMB.bz2
[[ -f $RIB ]] || { log "SKIP: shared MRT data not found ($RIB)"; exit 77; }

PORT=$(free_port)
BMPPORT=$(free_port)

# start_pmbmpd NAME: pmbmpd on BMPPORT logging JSON to $T/NAME.json.
start_pmbmpd() {
  cat >"$T/$1.conf" <<CONF
daemonize: false
bmp_daemon_ip: 127.0.0.1
bmp_daemon_port: $BMPPORT
bmp_daemon_msglog_file: $T/$1.json
bmp_daemon_msglog_output: json
logfile: $T/$1-daemon.log
CONF
  : >"$T/$1.json"
  start_bg "$1" pmbmpd -f "$T/$1.conf"
  wait_for "ss -ltn 'sport = :$BMPPORT' | grep -q LISTEN" "$WAIT" "pmbmpd listening on $BMPPORT"
}
count() { "$PY" "$CHECK" count "$T/$1.json" "${@:2}"; }
stat() { "$PY" "$CHECK" stat "$T/$1.json" "$2" "$3"; }

cat >"$T/c.yaml" <<YAML
collector:
  name: pmbmpd-interop
  local_as: 65000
  bgp_id: 192.0.2.1
  listen: ["127.0.0.1:$PORT", "[::1]:$PORT"]
  state_directory: $T/state
  status_interval: 1
dynamic_peers:
  - range: 127.0.0.0/8
    add_path: [ipv4-unicast, ipv6-unicast]
  - range: ::1/128
exporters:
  - type: mrt
    name: mrt
    directory: $T/mrt
    preset: none
    compression: none
    updates_file: updates
  - type: bmp
    name: bmp
    stations: ["127.0.0.1:$BMPPORT"]
    stats_interval: 1
YAML

start_pmbmpd pm1
start_bg collector "$BGPSCRIBE" run -c "$T/c.yaml"
wait_for "[[ \$(count pm1 init) -ge 1 ]]" "$WAIT" "pmbmpd logs the Initiation"
grep -q '"bmp_init_info_sysname": "pmbmpd-interop"' "$T/pm1.json" ||
  fail "Initiation without the collector's name: $(grep -m1 '"init"' "$T/pm1.json")"

check "live: Peer Up per peer, every route as Route Monitoring, Statistics Reports"
start_bg replay "$BGPSCRIBE" replay --port "$PORT" --peers 2 --add-path --ipv6-from-ipv4 10 \
  --hold 30 --stats "$RIB"
wait_for "grep -c 'routes held' '$T/replay.log' | grep -qx 2" "$WAIT" "the replay sends its tables"
# The IPv6 session (4-octet AS) and the 2-octet AS one: 400 prefixes each, 4 per attribute set,
# once pmbmpd has its (empty) table: live here, in the table after the restart below.
V6=::1
AS2=127.0.0.250
start_bg speak6 "$PY" "$CHECK" speak ::1 "$PORT" "$V6" 4200000010 10.0.0.10 ipv6 1 400
start_bg speak2 "$PY" "$CHECK" speak 127.0.0.1 "$PORT" "$AS2" 65010 10.0.0.11 ipv4 0 400
for s in speak6 speak2; do
  wait_for "grep -q 'prefixes sent' '$T/$s.log'" "$WAIT" "$s sends its routes"
done
declare -A SENT
while read -r peer n; do SENT[$peer]=$n; done < <(
  sed -n 's/^bgpscribe replay: \([0-9.]*\): \([0-9]*\) prefixes, .*/\1 \2/p' "$T/replay.log")
((${#SENT[@]} == 2)) || fail "replay: expected 2 peers in its statistics"
SENT[$V6]=400
SENT[$AS2]=400
total=0
for peer in "${!SENT[@]}"; do
  total=$((total + SENT[$peer]))
  wait_for "[[ \$(count pm1 peer_up $peer) -eq 1 ]]" "$WAIT" "pmbmpd logs one Peer Up for $peer"
  wait_for "[[ \$(stat pm1 $peer 7) -eq ${SENT[$peer]} ]]" "$WAIT" \
    "pmbmpd's Adj-RIB-In count (stat 7) for $peer reaches ${SENT[$peer]}"
done
wait_for "[[ \$(count pm1 route_monitor) -ge $total ]]" "$WAIT" "$total Route Monitoring routes at pmbmpd"
log "ok: $total routes sent by 4 peers; pmbmpd's stat 7 matches for each"

check "table: a restarted pmbmpd gets Peer Up and the whole table again"
stop_bg pm1 3
start_pmbmpd pm2
for peer in "${!SENT[@]}"; do
  wait_for "[[ \$(count pm2 peer_up $peer) -eq 1 ]]" "$WAIT" "pmbmpd (again) logs the Peer Up of $peer"
done
wait_for "[[ \$(count pm2 route_monitor) -ge $total ]]" "$WAIT" "$total routes in the table sent again"

check "peer down: the sessions end with a NOTIFICATION"
stop_bg replay
stop_bg speak6
stop_bg speak2
for peer in "${!SENT[@]}"; do
  wait_for "[[ \$(count pm2 peer_down $peer) -eq 1 ]]" "$WAIT" "pmbmpd logs the Peer Down of $peer"
done
grep '"peer_down"' "$T/pm2.json" | grep -q '"reason_type": 3' ||
  fail "Peer Down reason is not 3 (remote NOTIFICATION): $(grep -m1 peer_down "$T/pm2.json")"
stop_bg collector
stop_bg pm2 3

"$BGPSCRIBE" dump --json "$T/mrt/updates" >"$T/archive.json"
for run in pm1 pm2; do
  "$PY" "$CHECK" sessions "$T/$run.json" "$AS2" "$V6" >"$T/$run-sessions.txt" ||
    fail "$run: the IPv6 or 2-octet AS session at pmbmpd: $(cat "$T/$run-sessions.txt")"
  log "ok: $run: $(cat "$T/$run-sessions.txt")"
  "$PY" "$CHECK" routes "$T/$run.json" "$T/archive.json" >"$T/$run-check.txt" ||
    fail "$run: pmbmpd's routes differ from the archive: $(cat "$T/$run-check.txt")"
  log "ok: $run: $(tail -n1 "$T/$run-check.txt")"
done
pass
