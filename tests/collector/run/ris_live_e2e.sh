#!/usr/bin/env bash
# End-to-end test of the RIS Live compatible WebSocket stream of `bgpscribe run` (api.ris_live),
# read by a client written from RIPE's RIS Live manual (ris_live_check.py: Python's standard
# library and Debian's python3-websockets), on loopback:
#   1. a client with no filters, subscribed before the feed, gets the UPDATEs and peer states of
#      the run exactly as `bgpscribe dump --format ris-live` writes them from the collector's own
#      MRT archive of the same run (peer by peer, in order, every field but id and host);
#   2. a client with prefix + moreSpecific and one with path + peer get exactly the messages of
#      the first that the manual's filters select (the second with includeRaw: the UPDATEs' bytes);
#   3. bad messages get ris_error and the connection goes on; ping gets pong; a wrong path 404;
#   4. the collector logs the URL and stops cleanly with clients connected.
# Every process started here is stopped by PID on exit; every wait is bounded.
# Skips (77) when the shared data or python3-websockets is missing.
set -uo pipefail
bin=${1:?usage: ris_live_e2e.sh BGPSCRIBE_BINARY [DATA_DIR]}
data=${2:-$(dirname "$0")/../../../../shared/data/mrt}
here=$(cd "$(dirname "$0")" && pwd)
rib=$data/pyasn/data/rib.20140523.0600_firstMB.bz2
py=/usr/bin/python3
[ -f "$rib" ] || { echo "SKIP: shared MRT data not found ($rib)"; exit 77; }
"$py" -c 'import websockets' 2>/dev/null || { echo "SKIP: python3-websockets missing"; exit 77; }

tmp_prefix=bgpscribe-ris-live-e2e
# shellcheck source=lib.sh
source "$here/lib.sh"

d=$tmp/ris
mkdir -p "$d"
port=$(free_port)
wsport=$(free_port)
while [ "$wsport" = "$port" ]; do wsport=$(free_port); done
{
  collector_yaml ris-e2e "$port" "$d/state" 1
  cat <<YAML
api:
  ris_live: "127.0.0.1:$wsport"
exporters:
YAML
  mrt_exporter_yaml "$d/mrt"
} >"$d/c.yaml"
start_collector "$d"
url="ws://127.0.0.1:$wsport/v1/ws/"
wait_for 10 grep -q "api: RIS Live on $url" "$d/run.log" || fail "no RIS Live line: $(tail -3 "$d/run.log")"

# The /8 with the most routes among the file's first RIB entries, for the prefix filter.
cover=$("$bin" dump -m "$rib" 2>/dev/null | head -3000 | cut -d'|' -f6 | grep -v : |
  cut -d. -f1 | sort | uniq -c | sort -rn | head -1 | awk '{print $2 ".0.0.0/8"}')
[ -n "$cover" ] || fail "no prefix to filter on"
by_prefix="{\"prefix\": \"$cover\", \"moreSpecific\": true}"
# replay --peers 4 connects from 127.0.0.2-5; 3356 is on many paths of the 2014 table.
by_path='{"path": "3356", "peer": "127.0.0.3", "type": "UPDATE", "socketOptions": {"includeRaw": true}}'

# ---- 1, 2: clients up before the feed ----------------------------------------------------------
listen() { # listen NAME FILTERS
  "$py" "$here/ris_live_check.py" listen "$url" "$2" "$d/$1.jsonl" >"$d/$1.log" 2>&1 &
  pids+=($!)
  eval "${1}_pid=$!"
}
listen all '{}'
listen prefix "$by_prefix"
listen path "$by_path"
for c in all prefix path; do
  wait_for 10 grep -q subscribed "$d/$c.log" || fail "client $c: $(cat "$d/$c.log")"
done

# ---- 3: the protocol's other answers, while the others wait --------------------------------------
"$py" "$here/ris_live_check.py" probe "$url" || fail "probe"

"$bin" replay --port "$port" --peers 4 --hold -1 "$rib" >"$d/replay.log" 2>&1 &
pids+=($!)
wait_for 20 established "$d" 4 || fail "4 sessions did not come up"
settled() { quiet "$1" && quiet "$1"; }
wait_for 60 settled "$d" || fail "the feed did not settle"
sleep 1.5  # the archive's writer and the stream's last poll
"$bin" dump --format ris-live "$d/mrt/.updates.partial" >"$d/dump.jsonl" 2>"$d/dump.err" ||
  fail "dump: $(cat "$d/dump.err")"
for c in all prefix path; do touch "$d/$c.jsonl.stop"; done
for c in all prefix path; do
  p=${c}_pid
  wait_for 10 sh -c "! kill -0 ${!p}" || fail "client $c did not stop"
  [ -s "$d/$c.jsonl.errors" ] && fail "client $c got: $(head -3 "$d/$c.jsonl.errors")"
done

"$py" "$here/ris_live_check.py" compare "$d/dump.jsonl" "$d/all.jsonl" ||
  fail "the live stream differs from dump --format ris-live of the archive"
"$py" "$here/ris_live_check.py" expect "$d/all.jsonl" "$by_prefix" "$d/prefix.jsonl" ||
  fail "prefix filter"
"$py" "$here/ris_live_check.py" expect "$d/all.jsonl" "$by_path" "$d/path.jsonl" ||
  fail "path and peer filter"

# ---- 4: a client still connected when the collector stops ---------------------------------------
listen last '{"type": "RIS_PEER_STATE"}'
wait_for 10 grep -q subscribed "$d/last.log" || fail "client last: $(cat "$d/last.log")"
stop_collector
touch "$d/last.jsonl.stop"
wait_for 10 sh -c "! kill -0 $last_pid" || fail "client last did not stop"

if [ "$failures" -gt 0 ]; then
  echo "--- run.log"; tail -20 "$d/run.log"
  echo "FAILED ($failures)"
  exit 1
fi
echo "PASS"
