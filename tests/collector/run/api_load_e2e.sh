#!/usr/bin/env bash
# The live API under load (issue 19): `tail` and Subscribe while 20 full tables load. One
# `bgpscribe run` with an MRT exporter, a postgres exporter (a private cluster, scripts/
# pg-cluster) and the API; three subscribers up before the feed:
#   - `bgpscribe tail --json` into a file, and a Python grpcio client on SubscribeBatches
#     (api_load_check.py subscribe), both reading everything as it comes;
#   - a Python client whose Subscribe asks for a small queue_limit and reads nothing until the
#     load is over (api_load_check.py stall).
# The feed: `bgpscribe replay --clone 20 --diversify` of the 2015 full table (the one real full
# table of the shared data: 577,733 prefixes in 89,680 UPDATEs of one session), 20 sessions that
# differ as real peers do (docs/replay.md). Checked once the collector holds everything:
#   a. each fast subscriber's route events equal the MRT archive's, event for event and in
#      order per peer (action, prefix, path id; api_load_check.py compare);
#   b. the SQL archive is complete: bgp.updates holds as many announcements and withdrawals as
#      the MRT archive (the short form also compares them row for row with pg_compare.py);
#   c. the 20 sessions stayed Established throughout: both streams saw 20 come up and none
#      leave, and Status lists 20 Established;
#   d. the stalled subscriber got the first events of the stream, then Lagging with dropped > 0,
#      then RESOURCE_EXHAUSTED; the log has the cut-off line and status.json counts exactly
#      one cut-off (the fast ones were not cut off); the feed itself lost no record;
#   e. the metrics endpoint, scraped 5 times a second all along, answered within 100 ms (95th
#      percentile; the figures printed) and promtool accepts a scrape taken during the load.
# Short form (default, for ctest; about 20 s here): the head of the table, its first
# $API_LOAD_UPDATES (150) UPDATEs, which pack some 88 prefixes each: about 13,200 prefixes per
# session, 264,487 route events in all. API_LOAD_FULL=1: the whole table, about 11.4 M
# route events (by hand: 339 s here at 347e16b, tail and the Python subscriber reading every
# event; the collector holds the events they have not read yet, about 250 bytes each).
# Prints the counts: sent (replay --stats), archived (MRT, SQL), delivered per subscriber,
# dropped for the stalled one. Every process started here is stopped by PID on exit; every wait
# is bounded; loopback only. Skips (77) when the shared data, python3-grpcio, protoc or
# PostgreSQL 15 is missing.
set -uo pipefail
bin=${1:?usage: api_load_e2e.sh BGPSCRIBE_BINARY [DATA_DIR]}
data=${2:-$(dirname "$0")/../../../../shared/data/mrt}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
protos=$root/schema/proto
table=$data/bgpdump/test_data/updates.et-header.2015.gz
py=/usr/bin/python3
full=${API_LOAD_FULL:-0}
updates=${API_LOAD_UPDATES:-150}
[ -f "$table" ] || { echo "SKIP: shared MRT data not found ($table)"; exit 77; }
"$py" -c 'import grpc' 2>/dev/null || { echo "SKIP: python3-grpcio missing"; exit 77; }
if [ ! -x /usr/bin/grpc_python_plugin ] || ! command -v protoc >/dev/null; then
  echo "SKIP: protoc or grpc_python_plugin missing"
  exit 77
fi
[ -x /usr/lib/postgresql/15/bin/initdb ] || { echo "SKIP: PostgreSQL 15 not installed"; exit 77; }
command -v promtool >/dev/null || { echo "SKIP: promtool (prometheus) missing"; exit 77; }

tmp_prefix=bgpscribe-api-load
# shellcheck source=lib.sh
source "$here/lib.sh"
chmod 755 "$tmp"
started=$(date +%s)
elapsed() { echo "$(($(date +%s) - started)) s"; }
pg=$tmp/pg
dsn=$("$root/scripts/pg-cluster" start "$pg") || { echo "FAIL: cannot start PostgreSQL"; exit 1; }
trap '"$root/scripts/pg-cluster" stop "$pg" >/dev/null 2>&1; cleanup' EXIT
sql() { psql "$dsn" -X -q -A -t -c "$1"; }

d=$tmp/load
mkdir -p "$d/stubs"
protoc -I "$protos" --python_out="$d/stubs" --grpc_python_out="$d/stubs" \
  --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
  "$protos/bgpscribe/v1/events.proto" "$protos/bgpscribe/v1/api.proto" || fail "protoc for python"

# Waits scale with the feed: the short form takes seconds, the full one minutes (the Python
# subscriber reads some 20 to 40 k events a second).
if [ "$full" = 1 ]; then
  feed=$table
  long=1800
  stop_limit=120
else
  # The head of the table: its first MRT records (the OPEN, the state changes, then the
  # UPDATEs), cut at a record boundary into $tmp, as the 1 MiB RouteViews head elsewhere is a
  # head of its table.
  feed=$d/head.mrt
  "$py" - "$table" "$((updates + 5))" "$feed" <<'PY' || fail "cannot cut the head of the table"
import gzip, struct, sys
with gzip.open(sys.argv[1], "rb") as f, open(sys.argv[3], "wb") as out:
    for _ in range(int(sys.argv[2])):
        header = f.read(12)  # timestamp, type, subtype, length (RFC 6396 section 2)
        if len(header) < 12:
            break
        out.write(header + f.read(struct.unpack(">I", header[8:])[0]))
PY
  long=120
  stop_limit=30
fi

# subscriber_queue is counted in events and is the most a stream may have waiting. A fast
# subscriber must never be cut off here, whatever the machine's load: the feed's whole event
# count fits (20 sessions x at most 577,733 prefixes = 11.55 M in the full form), so even a
# subscriber that fell behind by everything is still served. The queues share the events
# (collector/api/feed.hpp), so this bounds memory once, not per subscriber. The stalled
# subscriber asks for a queue of its own of 5,000 events (queue_limit).
queue=12000000
port=$(free_port)
mport=$(free_port)
{
  collector_yaml api-load "$port" "$d/state" 1
  cat <<YAML
exporters:
  - type: mrt
    name: mrt
    directory: $d/mrt
    preset: none
    compression: none
    updates_file: "updates.mrt"
    updates_interval: 0
    rib_file: ""
  - type: postgres
    name: sql
    dsn: "$dsn"
    batch_interval_ms: 300
api:
  subscriber_queue: $queue
metrics:
  listen: 127.0.0.1:$mport
YAML
} >"$d/c.yaml"
sql "DROP SCHEMA IF EXISTS bgp CASCADE" >/dev/null 2>&1
start_collector "$d"
sock=$d/state/api.sock
wait_for 10 test -S "$sock" || fail "no api socket: $(tail -3 "$d/run.log")"
feed_metric() { # feed_metric KEY: the live API feed's metric in status.json
  "$py" -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["internal"][0]["metrics"][sys.argv[2]]))' \
    "$d/state/status.json" "$1"
}
feed_field() { # feed_field KEY: the feed's worker counter in status.json (pushed, dropped)
  "$py" -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["internal"][0][sys.argv[2]]))' \
    "$d/state/status.json" "$1"
}

# ---- the subscribers, before the feed -----------------------------------------------------------
"$bin" tail --json --socket "$sock" >"$d/tail.jsonl" 2>"$d/tail.err" &
tpid=$!
pids+=("$tpid")
"$py" "$here/api_load_check.py" "$d/stubs" "$sock" subscribe "$d/py.events" >"$d/py.log" 2>&1 &
ppid_=$!
pids+=("$ppid_")
"$py" "$here/api_load_check.py" "$d/stubs" "$sock" stall "$d/stall.events" 5000 \
  >"$d/stall.log" 2>&1 &
spid=$!
pids+=("$spid")
subscribed() { [ "$(feed_metric subscribers)" -ge 3 ]; }
wait_for 20 subscribed || fail "3 subscribers did not subscribe: $(cat "$d/py.log" "$d/stall.log" "$d/tail.err")"

# ---- e: the metrics endpoint, scraped 5 times a second through the load ------------------------
"$py" - "http://127.0.0.1:$mport/metrics" "$d/scrapes" <<'PY' >"$d/scrapes.log" 2>&1 &
import os, sys, time, urllib.request
url, out = sys.argv[1], sys.argv[2]
times = []
last = b""
end = time.time() + 3600
while not os.path.exists(out + ".stop") and time.time() < end:
    t = time.monotonic()
    last = urllib.request.urlopen(url, timeout=10).read()
    times.append(time.monotonic() - t)
    if len(times) == 10:
        open(out + ".mid.txt", "wb").write(last)  # one taken while the tables load
    time.sleep(0.2)
times.sort()
with open(out, "w") as f:
    f.write("%d %.4f %.4f %.4f\n" % (len(times), times[len(times) // 2],
                                     times[min(len(times) - 1, len(times) * 95 // 100)], times[-1]))
PY
scpid=$!
pids+=("$scpid")

# ---- the load --------------------------------------------------------------------------------
"$bin" replay --port "$port" --clone 20 --diversify --hold -1 --stats -q "$feed" \
  >"$d/replay.log" 2>&1 &
rpid=$!
pids+=("$rpid")
wait_for 30 established "$d" 20 || fail "20 sessions did not come up: $(tail -3 "$d/replay.log")"
all_sent() { [ "$(grep -c ' sent at ' "$d/replay.log")" -ge 20 ]; }
wait_for "$long" all_sent || fail "replay did not send everything: $(tail -3 "$d/replay.log")"
# What replay sent, from its per-session lines: prefixes, withdrawals, routes held.
read -r sent_prefixes sent_withdrawals sent_held < <(awk '/ sent at /{p += $4; w += $6; h += $8}
  END {print p + 0, w + 0, h + 0}' "$d/replay.log")
sent=$((sent_prefixes + sent_withdrawals))
echo "replay sent $sent_prefixes prefixes and $sent_withdrawals withdrawals on 20 sessions ($(elapsed))"
holds_all() { [ "$(status_field "$d" routes)" -ge "$sent_held" ]; }
wait_for "$long" holds_all || fail "the collector holds $(status_field "$d" routes) routes, replay says $sent_held"
echo "the collector holds $sent_held routes ($(elapsed))"
# Every event is on its way to every subscriber: each stream has it all (20 state lines too).
lines_at_least() { [ "$(wc -l <"$1")" -ge "$2" ]; }
wait_for "$long" lines_at_least "$d/tail.jsonl" "$((sent + 20))" ||
  fail "tail got $(wc -l <"$d/tail.jsonl") lines, want $((sent + 20)): $(cat "$d/tail.err")"
echo "tail --json has every event ($(elapsed))"
wait_for "$long" lines_at_least "$d/py.events" "$((sent + 20))" ||
  fail "the Python subscriber got $(wc -l <"$d/py.events") events, want $((sent + 20))"
echo "the Python subscriber has every event ($(elapsed))"
sql_rows() { sql "SELECT count(*) FROM bgp.updates"; }
sql_has_all() { [ "$(sql_rows)" -ge "$sent" ]; }
wait_for "$long" sql_has_all || fail "bgp.updates holds $(sql_rows) rows, replay sent $sent"
echo "bgp.updates has every event ($(elapsed))"
sleep 1.5 # the MRT exporter's flush interval: the file holds every record

# ---- c: the sessions, and what each stream got --------------------------------------------------
"$bin" status --socket "$sock" --json >"$d/status.json" 2>&1 || fail "status --json"
up=$("$py" -c 'import json,sys; print(sum(p["state"] == "ESTABLISHED" for p in json.load(open(sys.argv[1]))["peers"]))' "$d/status.json")
[ "$up" = 20 ] || fail "Status: $up sessions Established, want 20"

# ---- e: how fast the metrics endpoint answered during the load, and promtool on its text -------
touch "$d/scrapes.stop"
wait_for 20 test -s "$d/scrapes" || fail "the scraper did not end: $(cat "$d/scrapes.log")"
read -r scrapes p50 p95 pmax <"$d/scrapes"
echo "metrics endpoint during the load: $scrapes scrapes, median $p50 s, 95th percentile $p95 s, longest $pmax s"
"$py" -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 0.1 else 1)' "$p95" ||
  fail "the metrics endpoint's 95th percentile under load is $p95 s, over 100 ms"
if [ -s "$d/scrapes.mid.txt" ]; then
  promtool check metrics <"$d/scrapes.mid.txt" >"$d/promtool.log" 2>&1 && [ ! -s "$d/promtool.log" ] ||
    fail "promtool on a scrape taken under load: $(head -5 "$d/promtool.log")"
else
  fail "no scrape while the tables loaded"
fi

# ---- d: the stalled subscriber reads now ---------------------------------------------------------
touch "$d/stall.events.go"
wait_for 60 test -s "$d/stall.events.json" || fail "the stalled subscriber did not end: $(cat "$d/stall.log")"
grep -q 'api: a subscriber fell 5000 events behind (its queue): cut off as lagging' "$d/run.log" ||
  fail "no log line for the cut-off"
cut=$(feed_metric cut_off)
[ "$cut" = 1 ] || fail "status.json counts $cut cut-offs, want 1 (the stalled subscriber alone)"
[ "$(feed_field dropped)" = 0 ] || fail "the API feed lost $(feed_field dropped) records"

kill -INT "$tpid"
wait "$tpid"
trc=$?
[ "$trc" = 0 ] || fail "tail exited $trc: $(cat "$d/tail.err")"
touch "$d/py.events.stop"
wait_for 20 sh -c "! kill -0 $ppid_" || fail "the Python subscriber did not stop"

# ---- a, d: the streams against the MRT archive ---------------------------------------------------
mapfile -t mrt < <(find "$d/mrt" -type f -name '*updates.mrt*' | sort)
"$py" "$here/api_load_check.py" compare "$bin" "$d/tail.jsonl" "$d/py.events" \
  "$d/stall.events" "${mrt[@]}" >"$d/compare.log" 2>&1 || fail "the streams differ from the MRT archive"
cat "$d/compare.log"
counts=$(sed -n 's/^counts: //p' "$d/compare.log")
count() { echo "$counts" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
mrt_events=$(($(count mrt_announce) + $(count mrt_withdraw)))
[ "$mrt_events" = "$sent" ] || fail "the MRT archive has $mrt_events route events, replay sent $sent"
[ "$(count mrt_peers)" = 20 ] || fail "the MRT archive has $(count mrt_peers) peers, want 20"

# ---- b: the SQL archive ------------------------------------------------------------------------
read -r sql_a sql_w < <(sql "SELECT count(*) FILTER (WHERE attr_id IS NOT NULL), count(*) FILTER (WHERE attr_id IS NULL) FROM bgp.updates" | tr '|' ' ')
if [ "$sql_a" != "$(count mrt_announce)" ] || [ "$sql_w" != "$(count mrt_withdraw)" ]; then
  fail "bgp.updates: $sql_a announcements and $sql_w withdrawals, the MRT archive $(count mrt_announce) and $(count mrt_withdraw)"
fi
if [ "$full" != 1 ]; then
  # Row for row (time, peer, prefix, path id, attributes): the sessions are still up, so there
  # is no implicit withdrawal yet. Not in the full form: pg_compare.py holds both archives in
  # memory, several GB for 11 M events.
  out=$("$py" "$here/pg_compare.py" "$dsn" "$bin" events "${mrt[@]}") ||
    fail "bgp.updates differs from the MRT archive: $out"
  echo "SQL archive: $out"
fi

# ---- the end ---------------------------------------------------------------------------------
kill -INT "$rpid"
wait "$rpid"
rrc=$?
[ "$rrc" = 0 ] || fail "replay exited $rrc (a session went down?): $(grep -v ' at ' "$d/replay.log" | tail -3)"
grep 'replay: total' "$d/replay.log"
# The sessions went down with the replay: the postgres exporter now moves every route the 20
# held into bgp.updates as implicit withdrawals (11.4 M rows in the full form), and a stop keeps
# delivering for up to queue.stop_timeout (60 s) before it leaves the rest spooled.
stopping=$(date +%s)
stop_collector "$stop_limit"
echo "the collector stopped in $(($(date +%s) - stopping)) s"

echo "counts: sent $sent (prefixes $sent_prefixes, withdrawals $sent_withdrawals), MRT $mrt_events," \
  "SQL $((sql_a + sql_w)), tail $(count tail_routes), Python $(count python_routes)," \
  "stalled $(count stalled_routes) routes of $(count stalled_events) events then" \
  "$(count stalled_dropped) dropped; $(elapsed) in all"
if [ "$failures" -gt 0 ]; then
  echo "--- run.log"
  grep -v '^status' "$d/run.log" | tail -20
  echo "FAILED ($failures); files in $tmp with KEEP=1"
  exit 1
fi
echo "PASS"
