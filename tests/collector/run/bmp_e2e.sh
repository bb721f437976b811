#!/usr/bin/env bash
# End-to-end test of the BMP exporter with the real collector, on loopback only.
#
#   1. live: a BMP station (bmp_station.py, a listener writing the stream to a file) is up
#      before the collector; once it has its (empty) table, `bgpscribe replay` sends a real RIB
#      head from 2 peers (ADD-PATH, 10 % of the routes also as IPv6) into a collector with an MRT
#      exporter and a BMP exporter. The stream, read back with `bgpscribe dump --input bmp -m`,
#      holds exactly the route lines of the MRT exporter's file of the same run.
#   2. table: the station restarts; the exporter notices (its Statistics Reports fail), connects
#      again and sends Initiation, Peer Up, the whole table and End-of-RIB: its routes are exactly
#      those of the MRT RIB dump taken at that point (SIGUSR1).
#   3. tshark's BMP dissector reads both streams (as pcaps) without a malformed packet.
# Every process started here is stopped by PID on exit; every wait is bounded.
# Skips (77) when the shared data is missing.
set -uo pipefail
bin=${1:?usage: bmp_e2e.sh BGPSCRIBE_BINARY [DATA_DIR]}
data=${2:-$(dirname "$0")/../../../../shared/data/mrt}
here=$(cd "$(dirname "$0")" && pwd)
rib=$data/pyasn/data/rib.20140523.0600_firstMB.bz2
[ -f "$rib" ] || { echo "SKIP: shared MRT data not found ($rib)"; exit 77; }

tmp_prefix=bgpscribe-bmp-e2e
# shellcheck source=lib.sh
source "$here/lib.sh"
metric() { # metric DIR NAME: the BMP exporter's (index 1) metric NAME
  /usr/bin/python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["exporters"][1]["metrics"].get(sys.argv[2], 0)))' "$1/state/status.json" "$2"
}
metric_at_least() { [ "$(metric "$1" "$2")" -ge "$3" ]; }
# route lines without type, time and the A/B column (tables say B, updates A), sorted.
lines() { "$bin" dump -m "$@" | grep -v '|STATE|' | cut -d'|' -f4- | sort; }

d=$tmp/bmp
mkdir -p "$d"
port=$(free_port)
sport=$(free_port)
/usr/bin/python3 "$here/bmp_station.py" "$sport" "$d/station" &
spid=$!
pids+=("$spid")
{
  collector_yaml bmp-e2e "$port" "$d/state" 1
  cat <<YAML
exporters:
YAML
  mrt_exporter_yaml "$d/mrt"
  cat <<YAML
    rib_file: "bview.%H%M%S"
  - type: bmp
    name: bmp
    stations: ["127.0.0.1:$sport"]
    stats_interval: 1
YAML
} >"$d/c.yaml"
start_collector "$d"
wait_for 20 metric_at_least "$d" station0_tables_sent 1 || fail "live: the station got no table: $(tail -3 "$d/run.log")"

# ---- 1. live ---------------------------------------------------------------------------------
"$bin" replay --port "$port" --peers 2 --add-path --ipv6-from-ipv4 10 --hold 30 "$rib" \
  >"$d/replay.log" 2>&1 &
rpid=$!
pids+=("$rpid")
wait_for 20 established "$d" 2 || fail "live: 2 sessions did not come up"
settled() { quiet "$1" && quiet "$1"; }
wait_for 60 settled "$d" || fail "live: the feed did not settle"
wait_for 20 metric_at_least "$d" station0_messages_sent "$(($(status_field "$d" messages) / 2))" ||
  fail "live: the station got too few messages"

# ---- 2. table --------------------------------------------------------------------------------
kill -TERM "$spid"
wait "$spid" 2>/dev/null
/usr/bin/python3 "$here/bmp_station.py" "$sport" "$d/again" &
spid=$!
pids+=("$spid")
wait_for 30 metric_at_least "$d" station0_tables_sent 2 || fail "table: the station got no second table"
kill -USR1 "$cpid"
wait_for 20 bash -c "ls $d/mrt/bview.* >/dev/null 2>&1" || fail "table: no RIB dump"
kill -TERM "$rpid"
wait "$rpid"
stop_collector
kill -TERM "$spid"
wait "$spid" 2>/dev/null

lines "$d/mrt/updates" >"$d/mrt.lines"
lines --input bmp "$d/station.0" >"$d/bmp.lines"
n=$(wc -l <"$d/mrt.lines")
[ "$n" -gt 10000 ] || fail "live: only $n route lines in the MRT file"
cmp -s "$d/mrt.lines" "$d/bmp.lines" ||
  fail "live: the BMP stream differs from the MRT file ($n lines): $(diff "$d/mrt.lines" "$d/bmp.lines" | head -4)"
"$bin" dump --input bmp -m "$d/station.0" | grep -c '|STATE|' >"$d/states"
[ "$(cat "$d/states")" -ge 2 ] || fail "live: no Peer Up in the stream"

lines "$d"/mrt/bview.* >"$d/rib.lines"
# The table: the routes of the second connection before the peers went down (End-of-RIB shows
# nothing in -m; the live messages after it are none, the feed had settled).
lines --input bmp "$d/again.0" >"$d/table.lines"
r=$(wc -l <"$d/rib.lines")
[ "$r" -gt 10000 ] || fail "table: only $r routes in the RIB dump"
cmp -s "$d/rib.lines" "$d/table.lines" ||
  fail "table: the table differs from the RIB dump ($r routes): $(diff "$d/rib.lines" "$d/table.lines" | head -4)"
# tshark's BMP dissector (when installed) decodes both streams, counting the Route Monitoring
# messages our dump counts, with no malformed packet and no expert warning or error.
if command -v tshark >/dev/null; then
  for f in station.0 again.0; do
    /usr/bin/python3 "$here/bmp_station.py" pcap "$d/$f" "$d/$f.pcap"
    t=$(tshark -n -r "$d/$f.pcap" -d tcp.port==1790,bmp -T fields -e bmp.type 2>/dev/null | tr ',' '\n' | grep -cx 0)
    o=$("$bin" dump --input bmp --summary -m "$d/$f" 2>&1 >/dev/null | sed -n 's/.*route-monitoring \([0-9]*\).*/\1/p')
    [ "$t" = "$o" ] && [ "$t" -gt 1000 ] || fail "tshark: $f: $t Route Monitoring messages, our dump $o"
    bad=$(tshark -n -r "$d/$f.pcap" -d tcp.port==1790,bmp -Y '_ws.malformed || _ws.expert.severity >= 6291456' 2>/dev/null | wc -l)
    [ "$bad" -eq 0 ] || fail "tshark: $f: $bad packets malformed or with expert warnings"
  done
else
  echo "bmp_e2e: tshark not installed, its check skipped"
fi
echo "bmp_e2e: $n route lines live, $r routes in the table"
[ "$failures" -eq 0 ] || exit 1
echo "bmp_e2e: ok"
