#!/usr/bin/env bash
# Fault test: a connection storm of hostile and careless peers while real load runs (issue 14).
#
# Three replay sessions send a real RIB head and a RIS update file (paced x 60, about 15 s) into
# `bgpscribe run` (a dynamic range 127.0.0.0/8: 64 places, 16 connections waiting for an OPEN,
# open_timeout 2 s). Meanwhile hostile.py opens COUNT connections (default 1000; 10000 for the
# long form) from addresses of 127.16.0.0/12, 32 at a time: silent ones, garbage, bad markers,
# OPENs of version 3, hold time 1, identifier 0, cut short, a 65535-byte header, KEEPALIVE
# floods and resets. Asserted: no replay session drops (replay exits 0), the MRT archive holds
# exactly the route events replay sent (none lost, none duplicated), every hostile connection
# was refused or closed by the collector, refusals are counted in status.json and logged (the
# log bounded: 200 lines a minute), and
# the collector's memory stays bounded (RSS after under 4 x before + 64 MiB).
# Every process started here is stopped by PID on exit; every wait is bounded. Skips (77) when
# the shared data is missing.
set -uo pipefail
bin=${1:?usage: hostile_e2e.sh BGPSCRIBE_BINARY [DATA_DIR]}
data=${2:-$(dirname "$0")/../../../../shared/data/mrt}
here=$(cd "$(dirname "$0")" && pwd)
count=${COUNT:-1000}
rib=$data/pyasn/data/rib.20140523.0600_firstMB.bz2
updates=$data/dfz_name_and_shame/dnas/tests/RRC23/rrc23.updates.20220421.0200.gz
for f in "$rib" "$updates"; do
  [ -f "$f" ] || { echo "SKIP: shared MRT data not found ($f)"; exit 77; }
done

tmp_prefix=bgpscribe-hostile-e2e
# shellcheck source=lib.sh
source "$here/lib.sh"
route_lines() { "$bin" dump -m -q "$@" | grep -v '|STATE|' | cut -d'|' -f3- | sort; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

d=$tmp/storm
mkdir -p "$d"
port=$(free_port)
{
  collector_yaml storm "$port" "$d/state" 0
  cat <<YAML
    max_peers: 64
    max_pending: 16
    open_timeout: 2s
exporters:
  - type: mrt
    directory: $d/mrt
    preset: none
    compression: none
    updates_file: "updates.mrt"
    updates_interval: 0
    rib_file: ""
YAML
} >"$d/c.yaml"
start_collector "$d"
"$bin" replay --port "$port" --peers 3 --speed 60 --hold 3 -q --record "$d/sent.mrt" \
  "$rib" "$updates" >"$d/replay.log" 2>&1 &
rpid=$!
pids+=("$rpid")
wait_for 20 established "$d" 3 || fail "sessions did not come up"
rss_before=$(rss_kb "$cpid")
storm=$(/usr/bin/python3 "$here/hostile.py" "$port" "$count" 32 240) || fail "hostile.py failed"
rss_after=$(rss_kb "$cpid")
wait "$rpid" || fail "replay failed (a session dropped?): $(tail -n 3 "$d/replay.log")"
wait_for 30 quiet "$d" || fail "the feed did not settle"
refused=$(status_field "$d" connections_refused)
closed=$(status_field "$d" dynamic_closed_without_open)
opens_refused=$(status_field "$d" opens_refused)
resets=$(status_field "$d" session_resets)
stop_collector

route_lines "$d/sent.mrt" >"$d/sent"
route_lines "$d/mrt/updates.mrt" >"$d/archived"
sent=$(wc -l <"$d/sent")
archived=$(wc -l <"$d/archived")
lost=$(comm -23 "$d/sent" "$d/archived" | wc -l)
extra=$(comm -13 "$d/sent" "$d/archived" | wc -l)
# The replay sessions (127.0.0.2-4) must not go down before replay ends them.
downs=$(grep -E '^peer 127\.0\.0\.[2-4] .*: down' "$d/run.log" | grep -vc 'bgpscribe replay finished')
logged=$(grep -cE 'OPEN refused|message refused|connection from .* refused' "$d/run.log")
read -r _ conns _ refused_or_closed _ <<<"$storm"
echo "storm: $conns hostile connections, $refused_or_closed refused or closed by the collector;" \
  "status: $refused refused, $closed closed without an OPEN, $opens_refused OPENs refused, $resets resets; $logged log lines;" \
  "RSS $rss_before -> $rss_after kB"
echo "storm: events sent $sent, archived $archived, lost $lost, not sent $extra, sessions dropped $downs"
[ "$sent" -gt 20000 ] || fail "only $sent route events sent"
[ "$lost" = 0 ] || fail "$lost route events lost"
[ "$extra" = 0 ] || fail "$extra archived route events were never sent (or were archived twice)"
[ "$downs" = 0 ] || fail "$downs replay sessions went down: $(grep -E '^peer 127\.0\.0\.[2-4] .*: down' "$d/run.log" | head -2)"
[ "$conns" = "$count" ] || fail "only $conns of $count hostile connections were made"
[ "$refused_or_closed" = "$conns" ] || fail "$((conns - refused_or_closed)) hostile connections were neither refused nor closed"
[ "$((refused + closed))" -gt 0 ] || fail "no refusal counted in status.json"
# Bad versions, hold time 1, identifier 0 are refused OPENs; bad markers, cut-short and huge
# headers and the flood's short header reset what they started.
[ "$opens_refused" -gt 0 ] || fail "no refused OPEN counted in status.json"
[ "$resets" -gt 0 ] || fail "no session reset counted in status.json"
[ "$logged" -gt 0 ] || fail "no refusal logged"
# 200 lines a minute for malformed input and 20 for refusals, over at most a few minutes.
[ "$logged" -le 700 ] || fail "$logged log lines: the log is not bounded"
[ "$rss_after" -lt "$((rss_before * 4 + 65536))" ] || fail "RSS grew from $rss_before to $rss_after kB"
if [ "$failures" -gt 0 ]; then
  echo "hostile_e2e: $failures failures (logs in $d, KEEP=1 keeps them)"
  tail -5 "$d/run.log"
  exit 1
fi
echo "hostile_e2e: passed"
