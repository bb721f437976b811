#!/usr/bin/env bash
# Fault test: kill -9 of the collector at a random moment of a real feed (issue 14, fault 5).
#
# Each round: `bgpscribe run` with an MRT and a postgres exporter (a private PostgreSQL cluster)
# takes a real RIB head (3 MRT peers) and then a RIS update file paced x 60 from `replay
# --record`; it is killed with SIGKILL 1 to 7 s after the sessions came up (seeded by ROUND_SEED
# or the round number, printed); it is started again (the partial MRT file is recovered, the
# spooled batches applied, the dead sessions ended) and stopped. crash_count.py then counts, per
# archive, the events replay sent, archived, lost and duplicated, and how long before the kill
# the earliest lost event was sent.
#
# Asserted: nothing is duplicated; the SQL archive holds exactly the MRT archive's events
# (pg_compare.py), although the two exporters flush on clocks of their own: the collector's
# write-ahead journal gives every exporter, at the next start, what it had read but not yet made
# durable. So only what was still in flight at the kill (queued in replay or in the sockets, not
# yet read) may be missing from both, and nothing sent earlier than WINDOW seconds (default 1.5:
# on a loaded machine the collector may read a second late) before the kill.
# ROUNDS=2 in CI (ctest); `ROUNDS=10 tests/collector/run/kill_e2e.sh BIN` is the long form.
# Every process started here is stopped by PID on exit; every wait is bounded. Skips (77) when
# the shared data or PostgreSQL 15 is missing.
set -uo pipefail
bin=${1:?usage: kill_e2e.sh BGPSCRIBE_BINARY [DATA_DIR]}
data=${2:-$(dirname "$0")/../../../../shared/data/mrt}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
rounds=${ROUNDS:-2}
window=${WINDOW:-1.5}
rib=$data/pyasn/data/rib.20140523.0600_firstMB.bz2
updates=$data/dfz_name_and_shame/dnas/tests/RRC23/rrc23.updates.20220421.0200.gz
for f in "$rib" "$updates"; do
  [ -f "$f" ] || { echo "SKIP: shared MRT data not found ($f)"; exit 77; }
done
[ -x /usr/lib/postgresql/15/bin/initdb ] || { echo "SKIP: PostgreSQL 15 not installed"; exit 77; }

tmp_prefix=bgpscribe-kill-e2e
# shellcheck source=lib.sh
source "$here/lib.sh"
chmod 755 "$tmp"
pg=$tmp/pg
dsn=$("$root/scripts/pg-cluster" start "$pg") || { echo "FAIL: cannot start PostgreSQL"; exit 1; }
trap '"$root/scripts/pg-cluster" stop "$pg" >/dev/null 2>&1; cleanup' EXIT
sql() { psql "$dsn" -X -q -A -t -c "$1"; }
pg_field() {
  /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
    "$1/state/postgres-sql/status.json" "$2"
}
drained() { [ "$(pg_field "$1" spool_batches)" = 0 ]; }

totals=()
for round in $(seq 1 "$rounds"); do
  d=$tmp/round$round
  mkdir -p "$d"
  sql "DROP SCHEMA IF EXISTS bgp CASCADE" >/dev/null 2>&1
  port=$(free_port)
  {
    collector_yaml kill "$port" "$d/state" 0
    cat <<YAML
exporters:
  - type: mrt
    name: mrt
    directory: $d/mrt
    preset: none
    updates_file: "updates.%H%M%S.gz"
    updates_interval: 0
    rib_file: ""
  - type: postgres
    name: sql
    dsn: "$dsn"
YAML
  } >"$d/c.yaml"
  start_collector "$d"
  "$bin" replay --port "$port" --peers 3 --speed 60 --hold 30 -q --record "$d/sent.mrt" \
    "$rib" "$updates" >"$d/replay.log" 2>&1 &
  rpid=$!
  pids+=("$rpid")
  wait_for 20 established "$d" 3 || fail "round $round: sessions did not come up"
  seed=${ROUND_SEED:-$round}
  delay=$(/usr/bin/python3 -c "import random; random.seed($seed * 7919); print('%.2f' % random.uniform(1, 7))")
  sleep "$delay"
  kill_us=$(date +%s%6N)
  kill -9 "$cpid"
  wait "$cpid" 2>/dev/null
  wait "$rpid" 2>/dev/null  # replay reports the dead collector and ends
  start_collector "$d"
  wait_for 60 drained "$d" || fail "round $round: the spool was not applied after the restart"
  stop_collector
  files=$(find "$d/mrt" -type f -name 'updates.*' | sort)
  # shellcheck disable=SC2086
  out=$(/usr/bin/python3 "$here/crash_count.py" "$bin" "$dsn" "$kill_us" "$d/sent.mrt" -- $files) ||
    fail "round $round: crash_count.py failed"
  echo "round $round (kill -9 after ${delay} s):"
  echo "$out" | sed 's/^/  /'
  totals+=("$out")
  while read -r name _ sent _ archived _ lost _ dup _ win; do
    [ "$dup" = 0 ] || fail "round $round: $dup events archived twice in $name"
    if [ "$lost" -gt 0 ] && /usr/bin/python3 -c "import sys; sys.exit(0 if $win > $window else 1)"; then
      fail "round $round: $name lost an event sent $win s before the kill (bound: $window s)"
    fi
    [ "$sent" -gt 20000 ] || fail "round $round: only $sent events sent before the kill"
  done <<<"$out"
  [ "$(sql "SELECT count(*) FROM bgp.rib")" = 0 ] || fail "round $round: the dead sessions' routes are still in bgp.rib"
  # shellcheck disable=SC2086
  same=$(/usr/bin/python3 "$here/pg_compare.py" "$dsn" "$bin" events $files) ||
    fail "round $round: the SQL archive differs from the MRT archive: $same"
done
printf '%s\n' "${totals[@]}" | awk '{s[$1]+=$3; a[$1]+=$5; l[$1]+=$7; d[$1]+=$9; if ($11 > w[$1]) w[$1] = $11}
  END {for (k in s) printf "kill -9 x %d, %s: sent %d, archived %d, lost %d, duplicated %d, earliest loss %.3f s before a kill\n", '"$rounds"', k, s[k], a[k], l[k], d[k], w[k]}'
if [ "$failures" -gt 0 ]; then
  echo "kill_e2e: $failures failures (logs in $tmp, KEEP=1 keeps them)"
  exit 1
fi
echo "kill_e2e: passed"
