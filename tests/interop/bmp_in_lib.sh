# shellcheck shell=bash
# Shared part of the tests of routers as BMP clients of the collector (collector_bmp_frr.sh,
# collector_bmp_gobgp.sh): sourced after lib.sh with ROUTER (the router's name) and NAME (the
# collector's) set. Sets BGPSCRIBE, CHECK, RIB, PORT, BMPPORT and SQL (1 with a private
# PostgreSQL and a postgres exporter, DSN; NO_SQL=1: without), writes the collector's config
# ($T/c.yaml: bmp_listen, the router at 127.0.0.1/32, an MRT exporter), and defines the helpers
# below. Skips (77) without the shared data.
BGPSCRIBE=${BGPSCRIBE:-$REPO_ROOT/build/ci/tools/bgpscribe}
case $BGPSCRIBE in /*) ;; *) BGPSCRIBE=$REPO_ROOT/$BGPSCRIBE ;; esac
need "$BGPSCRIBE"
CHECK=$INTEROP_DIR/bmp_in_check.py
RIB=$REPO_ROOT/../shared/data/mrt/pyasn/data/rib.20140523.0600_firstMB.bz2
[[ -f $RIB ]] || { log "SKIP: shared MRT data not found ($RIB)"; exit 77; }
PORT=$(free_port)    # the collector's BGP listener (unused here)
BMPPORT=$(free_port) # its bmp_listen

SQL=0
if [[ ${NO_SQL:-0} != 1 ]] && command -v psql >/dev/null; then
  SQL=1
  chmod 711 "$T" # run as root, the server runs as postgres and must reach $T/pg
  DSN=$("$REPO_ROOT/scripts/pg-cluster" start "$T/pg") || fail "cannot start PostgreSQL"
  # at exit: the collector first (it would retry the database), the cluster, then lib.sh's
  # cleanup with the test's status (set +e: `(exit 1)` must not end the trap before it)
  trap 'rc=$?; set +e; stop_bg collector 15; "$REPO_ROOT/scripts/pg-cluster" stop "$T/pg" >/dev/null 2>&1
    (exit $rc); cleanup' EXIT
  sql() { psql "$DSN" -XAtqc "$1"; }
else
  log "no SQL part: NO_SQL=1, or psql is missing"
fi

cat >"$T/c.yaml" <<YAML
collector:
  name: $NAME
  local_as: 65000
  bgp_id: 192.0.2.1
  listen: ["127.0.0.1:$PORT"]
  state_directory: $T/state
  status_interval: 1
bmp_listen:
  - "127.0.0.1:$BMPPORT"
bmp_routers:
  - {prefix: 127.0.0.1/32, name: $ROUTER}
exporters:
  - {type: mrt, name: mrt, directory: $T/mrt, preset: none, compression: none,
     updates_file: updates, rib_file: ""}
YAML
((SQL)) && echo "  - {type: postgres, name: sql, dsn: \"$DSN\", batch_interval_ms: 200}" >>"$T/c.yaml"

# col_routes N: the collector's status.json counts N routes and its exporters are idle
col_routes() {
  [[ $("$PY" "$INTEROP_DIR/collector_mrt.py" status "$T/state/status.json") =~ ^$1\ [0-9]+\ 1$ ]]
}
# router_stat KEY: the collector's status.json count KEY of the BMP router
router_stat() {
  "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["bmp"]["routers"][0][sys.argv[2]])' \
    "$T/state/status.json" "$1"
}
# downs: how many sources the collector logged going down
downs() { grep -c ': down (BMP): ' "$T/collector.log" || true; }
# replay_total: waits for replay (started as `replay`, --stats) to send its tables to every
# peer of PEERS and sets `total` to the prefixes it sent
replay_total() {
  wait_for "grep -c 'routes held, sent at' '$T/replay.log' | grep -qx ${#PEERS[@]}" "$WAIT" \
    "replay sends its tables"
  total=0
  local p n
  for p in "${PEERS[@]}"; do
    n=$(sed -n "s/^bgpscribe replay: $p: \([0-9]*\) prefixes, .*/\1/p" "$T/replay.log")
    [[ -n $n ]] || fail "replay: no count for $p"
    log "replay: $p sent $n prefixes"
    total=$((total + n))
  done
}
# sql_routes PEER POST: bgp.rib lines of PEER's source (post_policy POST: f or t) for
# bmp_in_check.py sql
sql_routes() {
  sql "SELECT r.prefix, a.origin, a.as_path_text, host(a.next_hop), a.med,
         array_to_string(a.communities, ' '), array_to_string(a.large_communities, ' '),
         a.atomic_aggregate, a.aggregator_as, host(a.aggregator_address)
       FROM bgp.rib r JOIN bgp.peers p USING (peer_id) JOIN bgp.attr_sets a USING (attr_id)
       WHERE p.router = '$ROUTER' AND host(p.address) = '$1' AND p.post_policy = '$2'"
}
# rib_count [POST]: bgp.rib routes of the router's sources (post_policy POST: f or t; all)
rib_count() {
  sql "SELECT count(*) FROM bgp.rib JOIN bgp.peers USING (peer_id)
       WHERE router = '$ROUTER' ${1:+AND post_policy = '$1'}"
}
# sql_peers ROWS: bgp.peers has ROWS rows of the router (logged)
sql_peers() {
  sql "SELECT router, host(router_address), host(address), asn, host(local_address), local_as,
       post_policy FROM bgp.peers WHERE router <> '' ORDER BY 3, 7" >"$T/sql-peers.txt"
  log "bgp.peers: $(tr '\n' ';' <"$T/sql-peers.txt")"
  [[ $(wc -l <"$T/sql-peers.txt") == "$1" ]] ||
    fail "bgp.peers: not $1 rows of router $ROUTER: $(cat "$T/sql-peers.txt")"
}
# log_router_status: the collector's counts of the router's connection
log_router_status() {
  "$PY" -c 'import json, sys; r = json.load(open(sys.argv[1]))["bmp"]["routers"]
for x in r: print("bmp router %(name)s: %(messages)d messages, %(route_monitoring)d Route Monitoring" % x)' \
    "$T/state/status.json" | while read -r l; do log "$l (this connection)"; done
}
