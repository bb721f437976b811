#!/usr/bin/env bash
# End-to-end test of the PostgreSQL archive against a real server (a private cluster started
# here with scripts/pg-cluster), on loopback only. Each part runs `bgpscribe run` with an MRT
# exporter and a postgres exporter side by side and compares the two archives with
# pg_compare.py: every route event of the MRT files is in bgp.updates exactly once, with its
# time in microseconds, peer, prefix, path id and attributes, and nothing else is; bgp.rib is
# the state the events leave; sessions that go down withdraw exactly what they held.
#
#   1. archive: replay a real RIB head (3 MRT peers) and a RIS update file; bgp.rib is checked
#      while the sessions are up, the log after they went down (Cease);
#   2. database down: PostgreSQL is stopped for 4 s in the middle of a paced replay and started
#      again: the batches spool to disk and are applied when it is back, nothing lost, nothing
#      duplicated;
#   3. kill -9 mid-batch: a lock holds the writer inside a batch transaction while the whole
#      feed arrives; the collector is killed; the lock is released; the next start applies the
#      spooled batches and withdraws the dead sessions' routes; a batch file that was already
#      committed (a crash between COMMIT and the file's removal) is skipped, not applied twice.
# Every process started here is stopped by PID on exit; every wait is bounded.
# Skips (77) when the shared data or PostgreSQL 15 is missing.
set -uo pipefail
bin=${1:?usage: postgres_e2e.sh BGPSCRIBE_BINARY [DATA_DIR]}
data=${2:-$(dirname "$0")/../../../../shared/data/mrt}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
rib=$data/pyasn/data/rib.20140523.0600_firstMB.bz2
updates=$data/dfz_name_and_shame/dnas/tests/RRC23/rrc23.updates.20220421.0200.gz
for f in "$rib" "$updates"; do
  [ -f "$f" ] || { echo "SKIP: shared MRT data not found ($f)"; exit 77; }
done
[ -x /usr/lib/postgresql/15/bin/initdb ] || { echo "SKIP: PostgreSQL 15 not installed"; exit 77; }

tmp_prefix=bgpscribe-pg-e2e
# shellcheck source=lib.sh
source "$here/lib.sh"
chmod 755 "$tmp"
pg=$tmp/pg
dsn=$("$root/scripts/pg-cluster" start "$pg") || { echo "FAIL: cannot start PostgreSQL"; exit 1; }
trap '"$root/scripts/pg-cluster" stop "$pg" >/dev/null 2>&1; cleanup' EXIT
sql() { psql "$dsn" -X -q -A -t -c "$1"; }
compare() { /usr/bin/python3 "$here/pg_compare.py" "$dsn" "$bin" "$@"; }
fresh_db() { # drops the archive; the exporter migrates the empty database at its start
  sql "DROP SCHEMA IF EXISTS bgp CASCADE" >/dev/null 2>&1
}
pg_field() { # pg_field DIR KEY: a value of the postgres exporter's status file
  /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
    "$1/state/postgres-sql/status.json" "$2"
}
drained() { # drained DIR: nothing spooled and the batches applied
  [ "$(pg_field "$1" spool_batches)" = 0 ] && [ "$(pg_field "$1" batches_applied)" -gt 0 ]
}
write_config() { # write_config DIR PORT
  cat >"$1/c.yaml" <<YAML
collector:
  name: pg-e2e
  local_as: 65000
  bgp_id: 192.0.2.1
  listen: ["127.0.0.1:$2"]
  state_directory: $1/state
  status_interval: 0
dynamic_peers:
  - range: 127.0.0.0/8
exporters:
  - type: mrt
    name: mrt
    directory: $1/mrt
    preset: none
    updates_file: "updates.mrt"
    updates_interval: 0
    rib_file: ""
    compression: none
  - type: postgres
    name: sql
    dsn: "$dsn"
    batch_interval_ms: 300
YAML
}
mrt_files() { find "$1/mrt" -type f -name '*updates.mrt*' | sort; }
at_least() { [ "$(pg_field "$1" "$2")" -ge "$3" ]; } # at_least DIR KEY N
locked() {
  [ "$(sql "SELECT count(*) FROM pg_locks WHERE relation = 'bgp.updates'::regclass AND granted AND mode = 'AccessExclusiveLock'")" = 1 ]
}

# ---- 1. archive ------------------------------------------------------------------------------
d=$tmp/archive
mkdir -p "$d"
fresh_db
port=$(free_port)
write_config "$d" "$port"
start_collector "$d"
"$bin" replay --port "$port" --peers 3 --hold 8 -q "$rib" "$updates" >"$d/replay.log" 2>&1 &
rpid=$!
pids+=("$rpid")
wait_for 20 established "$d" 3 || fail "archive: sessions did not come up"
wait_for 20 quiet "$d" || fail "archive: the feed did not end"
wait_for 20 drained "$d" || fail "archive: the batches were not applied: $(cat "$d/state/postgres-sql/status.json")"
sleep 1.2 # the MRT exporter's flush interval: the .partial file holds every record
# shellcheck disable=SC2046
out=$(compare rib $(mrt_files "$d")) || fail "archive: bgp.rib differs from the MRT state: $out"
echo "archive (sessions up): $out"
[ "$(sql "SELECT count(*) FROM bgp.rib")" -gt 18000 ] || fail "archive: bgp.rib holds too few routes"
wait "$rpid" || fail "archive: replay failed: $(tail -n 3 "$d/replay.log")"
wait_for 20 drained "$d"
stop_collector
# shellcheck disable=SC2046
out=$(compare events $(mrt_files "$d")) || fail "archive: bgp.updates differs from the MRT: $out"
echo "archive (sessions down): $out"
[ "$(sql "SELECT count(*) FROM bgp.rib")" = 0 ] || fail "archive: routes left in bgp.rib after every session went down"
[ "$(sql "SELECT count(*) FROM bgp.peers")" = 3 ] || fail "archive: expected 3 peers: $(sql "SELECT address, asn FROM bgp.peers")"
[ "$(sql "SELECT count(*) FROM bgp.peer_events WHERE notification_code = 6 AND notification_subcode = 2 AND sent_by = 'peer'")" = 3 ] ||
  fail "archive: the three Cease NOTIFICATIONs are not in bgp.peer_events"
[ "$(sql "SELECT count(*) FROM bgp.peers WHERE 'multiprotocol ipv6/unicast' = ANY (capabilities_received)")" = 3 ] ||
  fail "archive: the peers' capabilities are not recorded"
dup=$(sql "SELECT count(*) FROM (SELECT raw FROM bgp.attr_sets GROUP BY raw HAVING count(*) > 1) s")
[ "$dup" = 0 ] || fail "archive: $dup attribute sets stored twice"

# ---- 2. database down in the middle of a replay -------------------------------------------------
d=$tmp/down
mkdir -p "$d"
fresh_db
port=$(free_port)
write_config "$d" "$port"
start_collector "$d"
# The update file spans 15 minutes: at 150 x it takes about 6 s after the RIB.
"$bin" replay --port "$port" --peers 3 --speed 150 --hold 3 -q "$rib" "$updates" >"$d/replay.log" 2>&1 &
rpid=$!
pids+=("$rpid")
wait_for 20 established "$d" 3 || fail "down: sessions did not come up"
sleep 1.5
"$root/scripts/pg-cluster" stop "$pg" >/dev/null || fail "down: cannot stop PostgreSQL"
sleep 4
spooled=$(pg_field "$d" spool_batches)
connected=$(pg_field "$d" connected)
"$root/scripts/pg-cluster" start "$pg" >/dev/null || fail "down: cannot start PostgreSQL again"
[ "$spooled" -gt 0 ] || fail "down: nothing was spooled while PostgreSQL was down"
[ "$connected" = False ] || fail "down: status says connected while PostgreSQL was down"
wait "$rpid" || fail "down: replay failed (a session dropped?): $(tail -n 3 "$d/replay.log")"
wait_for 60 drained "$d" || fail "down: the spool was not applied: $(cat "$d/state/postgres-sql/status.json")"
stop_collector
grep -q "spooling" "$d/run.log" || fail "down: the outage was not logged"
# shellcheck disable=SC2046
out=$(compare events $(mrt_files "$d")) || fail "down: bgp.updates differs from the MRT: $out"
echo "database down ($spooled batches spooled): $out"

# ---- 3. kill -9 in the middle of a batch --------------------------------------------------------
d=$tmp/kill
mkdir -p "$d"
fresh_db
sql "SELECT 1" >/dev/null
port=$(free_port)
write_config "$d" "$port"
start_collector "$d"
wait_for 20 at_least "$d" batches_applied 1 || fail "kill: the first batch was not applied"
# Holds bgp.updates: the writer's next COPY waits inside its batch transaction.
psql "$dsn" -X -q -c "BEGIN; LOCK TABLE bgp.updates IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120);" \
  >/dev/null 2>&1 &
lock_pid=$!
pids+=("$lock_pid")
wait_for 10 locked || fail "kill: the lock was not taken"
"$bin" replay --port "$port" --peers 3 --hold -1 -q "$rib" "$updates" >"$d/replay.log" 2>&1 &
rpid=$!
pids+=("$rpid")
wait_for 20 established "$d" 3 || fail "kill: sessions did not come up"
wait_for 20 quiet "$d" || fail "kill: the feed did not end"
waiting=$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bgpscribe' AND wait_event_type = 'Lock'")
[ "$waiting" -ge 1 ] || fail "kill: the writer is not inside a batch waiting for the lock"
sleep 1.5 # every record sealed into a spooled batch, and the MRT file flushed
spooled=$(find "$d/state/postgres-sql/batches" -name '*.batch' | wc -l)
[ "$spooled" -ge 1 ] || fail "kill: expected spooled batches, found $spooled"
kill -9 "$cpid"
wait "$cpid" 2>/dev/null
kill "$rpid" 2>/dev/null
wait "$rpid" 2>/dev/null
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()" >/dev/null
wait "$lock_pid" 2>/dev/null
# Keep a copy of one batch to play the crash between COMMIT and the file's removal below.
replayed=$(find "$d/state/postgres-sql/batches" -name '*.batch' | sort | tail -n 1)
cp "$replayed" "$tmp/"
start_collector "$d"
wait_for 60 drained "$d" || fail "kill: the spool was not applied after the restart"
stop_collector
# shellcheck disable=SC2046
out=$(compare events $(mrt_files "$d")) || fail "kill: bgp.updates differs from the MRT: $out"
echo "kill -9 mid-batch ($spooled batches spooled, $waiting writer waiting): $out"
[ "$(sql "SELECT count(*) FROM bgp.rib")" = 0 ] || fail "kill: the dead sessions' routes are still in bgp.rib"
[ "$(sql "SELECT count(*) FROM bgp.peer_events WHERE reason = 'collector restarted'")" = 3 ] ||
  fail "kill: the restart did not end the three dead sessions"
# The crash between COMMIT and removal: the same batch again must change nothing.
before=$(sql "SELECT count(*) FROM bgp.updates")
cp "$tmp/$(basename "$replayed")" "$d/state/postgres-sql/batches/"
start_collector "$d"
wait_for 30 at_least "$d" batches_skipped 1 || fail "kill: the already committed batch was not recognised"
stop_collector
[ "$(sql "SELECT count(*) FROM bgp.updates")" = "$before" ] || fail "kill: a committed batch was applied twice"

if [ "$failures" -gt 0 ]; then
  echo "$failures failure(s); logs in $tmp (KEEP=1 keeps them)"
  exit 1
fi
echo "postgres_e2e: all parts passed"
