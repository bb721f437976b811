#!/usr/bin/env bash
# End-to-end test of `bgpscribe run` with real data, on loopback only.
#
#   1. archive: replay a real RIB head (3 MRT peers) and a RIS update file (at 30 times its
#      pace) into the collector (MRT exporters: BGP4MP_ET gzip and plain BGP4MP), switch the
#      plain one to bzip2 mid-feed with a SIGHUP reload, ask for a RIB snapshot (SIGUSR1), and
#      check that the archive holds exactly the updates replay sent (its --record file), per
#      peer, prefix, path and attributes, read by our dump, by bgpdump and by mrtparse (the
#      plain exporter's two files together: nothing lost or doubled across the switch); and
#      that the RIB dump holds exactly the routes the sent stream leaves;
#   2. slow exporter: a null exporter slowed to 1 ms per record behind a 100-record queue:
#      records spool to disk, nothing is lost, no session drops; a SIGHUP reload adds a peer
#      without touching the others; one that changes the exporter's delay (and summary file)
#      switches it mid-stream, and every message reaches exactly one of the two instances; one
#      with a bad option is refused with file:line:column;
#   3. kill -9: the collector rotates files every 2 s and is killed mid-run; finished files
#      are intact, the partial one is recovered at the next start, nothing written is lost;
#   3b. dynamic peers: a full range takes new peers once sessions end; silent connections close;
#   4. a bad config is refused with file:line and what to fix; a second instance on the same
#      state or archive directory is refused, naming the first.
# Every process started here is stopped by PID on exit; every wait is bounded.
# Skips (77) when the shared data, bgpdump or mrtparse is missing.
set -uo pipefail
bin=${1:?usage: collector_e2e.sh BGPSCRIBE_BINARY [DATA_DIR]}
data=${2:-$(dirname "$0")/../../../../shared/data/mrt}
here=$(cd "$(dirname "$0")" && pwd)
rib=$data/pyasn/data/rib.20140523.0600_firstMB.bz2
updates=$data/dfz_name_and_shame/dnas/tests/RRC23/rrc23.updates.20220421.0200.gz
for f in "$rib" "$updates"; do
  [ -f "$f" ] || { echo "SKIP: shared MRT data not found ($f)"; exit 77; }
done
command -v bgpdump >/dev/null || { echo "SKIP: bgpdump not installed"; exit 77; }
/usr/bin/python3 -c 'import mrtparse' 2>/dev/null || { echo "SKIP: python3-mrtparse not installed"; exit 77; }

tmp_prefix=bgpscribe-e2e
# shellcheck source=lib.sh
source "$here/lib.sh"
# route_lines FILE: bgpdump -m style lines of our dump without type and time, sorted.
route_lines() { "$bin" dump -m "$1" | grep -v '|STATE|' | cut -d'|' -f3- | sort; }

# ---- 1. archive ------------------------------------------------------------------------------
d=$tmp/archive
mkdir -p "$d"
port=$(free_port)
{
  collector_yaml e2e "$port" "$d/state" 0
  cat <<YAML
exporters:
  - type: mrt
    name: et
    directory: $d/et
    preset: none
    updates_file: "{collector}/updates.gz"
    rib_file: "{collector}/bview.%Y%m%d.%H%M%S.gz"
  - type: mrt
    name: classic
    directory: $d/classic
    preset: none
    format: bgp4mp
    compression: none
    updates_file: "{collector}/updates"
    rib_file: ""
YAML
} >"$d/c.yaml"
start_collector "$d"
# A second instance on the same state directory, or on the same archive directory, is refused
# naming the first (it would take the first's spool and live .partial files as its own).
timeout 20 "$bin" run -c "$d/c.yaml" >"$d/second.log" 2>&1 && fail "archive: a second instance on the same state directory started"
grep -q "state directory '$d/state' is in use by process $cpid" "$d/second.log" || fail "archive: second instance: $(cat "$d/second.log")"
sed -e "s|state_directory: .*|state_directory: $d/state2|" -e "s|127.0.0.1:$port|127.0.0.1:$(free_port)|" "$d/c.yaml" >"$d/c2.yaml"
timeout 20 "$bin" run -c "$d/c2.yaml" >"$d/second.log" 2>&1 && fail "archive: a second instance on the same MRT directory started"
grep -q "directory '$d/et' is in use by process $cpid" "$d/second.log" || fail "archive: second MRT writer: $(cat "$d/second.log")"
"$bin" replay --port "$port" --peers 3 --speed 30 --hold 30 --record "$d/sent.mrt" "$rib" "$updates" \
  >"$d/replay.log" 2>&1 &
rpid=$!
pids+=("$rpid")
wait_for 20 established "$d" 3 || fail "archive: 3 sessions did not come up"
# Mid-feed, the plain BGP4MP exporter changes its compression (and so its file name) on SIGHUP:
# its worker finishes the file of the running instance after the record it is on, and the new
# instance writes the rest into updates.bz2.
classic_busy() { # the classic exporter has archived 2,000 messages
  [ "$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["exporters"][1]["metrics"].get("messages", 0))' "$d/state/status.json")" -gt 2000 ]
}
wait_for 20 classic_busy || fail "archive: the classic exporter archived nothing"
sed -i -e 's/compression: none/compression: bzip2/' -e 's|updates_file: "{collector}/updates"$|updates_file: "{collector}/updates.bz2"|' "$d/c.yaml"
kill -HUP "$cpid"
wait_for 10 grep -q "reload: exporter 'classic': compression, updates_file changed" "$d/run.log" || fail "archive: the reload did not change the classic exporter: $(tail -2 "$d/run.log")"
wait_for 10 grep -q 'exporter classic: new settings in effect after' "$d/run.log" || fail "archive: the classic exporter did not switch: $(tail -2 "$d/run.log")"
# Settled: no new message for 3 s (the paced updates have gaps of about 30 ms).
settled() { quiet "$1" && quiet "$1" && quiet "$1"; }
wait_for 60 settled "$d" || fail "archive: the feed did not settle"
kill -USR1 "$cpid"
wait_for 20 bash -c "ls $d/et/e2e/bview.*.gz >/dev/null 2>&1" || fail "archive: no RIB dump"
kill -TERM "$rpid"
wait "$rpid"
grep -q 'failed' "$d/replay.log" && fail "archive: replay: $(grep failed "$d/replay.log" | head -2)"
sleep 0.5
stop_collector
# The exporter's own metrics reach status.json (Exporter::metrics): a BGP4MP record per message.
m=$(/usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["exporters"][0]["metrics"]["messages"], s["messages"])' "$d/state/status.json")
[ "${m% *}" = "${m#* }" ] || fail "archive: the MRT exporter's metrics say ${m% *} messages, the collector ${m#* }"

route_lines "$d/sent.mrt" >"$d/sent"
route_lines "$d/et/e2e/updates.gz" >"$d/et.ours"
bgpdump -m "$d/et/e2e/updates.gz" 2>"$d/bgpdump.err" | grep -v '|STATE|' | cut -d'|' -f3- | sort >"$d/et.bgpdump"
bgpdump -m "$d/sent.mrt" 2>/dev/null | cut -d'|' -f3- | sort >"$d/sent.bgpdump"
route_lines "$d/classic/e2e/updates" >"$d/classic.before"
route_lines "$d/classic/e2e/updates.bz2" >"$d/classic.after"
[ -s "$d/classic.before" ] && [ -s "$d/classic.after" ] ||
  fail "archive: the switch to bzip2 was not mid-feed: $(wc -l <"$d/classic.before") route events before it, $(wc -l <"$d/classic.after") after"
sort -m "$d/classic.before" "$d/classic.after" >"$d/classic.ours"
n=$(wc -l <"$d/sent")
[ "$n" -gt 20000 ] || fail "archive: only $n route events sent"
cmp -s "$d/sent" "$d/et.ours" || fail "archive: BGP4MP_ET file differs from what was sent (our dump): $(diff "$d/sent" "$d/et.ours" | head -3)"
cmp -s "$d/sent" "$d/classic.ours" || fail "archive: BGP4MP file differs from what was sent (our dump)"
cmp -s "$d/sent.bgpdump" "$d/et.bgpdump" || fail "archive: bgpdump sees a difference in the BGP4MP_ET file"
if grep -qiE 'error|warn|corrupt' "$d/bgpdump.err"; then fail "archive: bgpdump reported: $(head -3 "$d/bgpdump.err")"; fi
/usr/bin/python3 "$here/mrt_lines.py" "$d/sent.mrt" >"$d/sent.mrtparse" 2>"$d/mrtparse.err" || fail "archive: mrtparse failed on the sent file"
/usr/bin/python3 "$here/mrt_lines.py" "$d/classic/e2e/updates" >"$d/classic.mrtparse" 2>>"$d/mrtparse.err" || fail "archive: mrtparse failed on our file"
/usr/bin/python3 "$here/mrt_lines.py" "$d/classic/e2e/updates.bz2" >"$d/classic.bz2.mrtparse" 2>>"$d/mrtparse.err" || fail "archive: mrtparse failed on our bzip2 file"
grep -q ' errors 0$' "$d/classic.mrtparse" || fail "archive: mrtparse errors: $(tail -1 "$d/classic.mrtparse")"
grep -q ' errors 0$' "$d/classic.bz2.mrtparse" || fail "archive: mrtparse errors in the bzip2 file: $(tail -1 "$d/classic.bz2.mrtparse")"
if ! cmp -s <(grep -v '^records' "$d/sent.mrtparse" | sort) <(grep -hv '^records' "$d/classic.mrtparse" "$d/classic.bz2.mrtparse" | sort); then
  fail "archive: mrtparse sees different routes in our BGP4MP file"
fi
# The RIB dump is the state the sent stream leaves (per peer and prefix, every attribute).
"$bin" dump -m "$d/sent.mrt" >"$d/sent.ordered"
"$bin" dump -m "$d"/et/e2e/bview.*.gz >"$d/bview"
bgpdump -m "$d"/et/e2e/bview.*.gz 2>"$d/bgpdump-rib.err" >"$d/bview.bgpdump"
cmp -s "$d/bview" "$d/bview.bgpdump" || fail "archive: bgpdump reads the RIB dump differently"
/usr/bin/python3 - "$d/sent.ordered" "$d/bview" <<'PY' || fail "archive: RIB dump does not match the sent stream"
import sys
want = {}
for l in open(sys.argv[1]):
    f = l.rstrip("\n").split("|")
    if f[2] == "A":
        want[(f[3], f[5])] = "|".join(f[3:])
    elif f[2] == "W":
        want.pop((f[3], f[5]), None)
got = {}
for l in open(sys.argv[2]):
    f = l.rstrip("\n").split("|")
    got[(f[3], f[5])] = "|".join(f[3:])
bad = [k for k in set(want) | set(got) if want.get(k) != got.get(k)]
print("RIB dump: %d routes expected, %d dumped, %d differ" % (len(want), len(got), len(bad)))
for k in bad[:3]:
    print(" want", want.get(k), "\n got ", got.get(k))
sys.exit(1 if bad or not want else 0)
PY
echo "archive: $n route events ($(wc -l <"$d/classic.after") after the switch to bzip2) and the RIB dump checked by our dump, bgpdump and mrtparse"

# ---- 2. slow exporter, spool and reload ------------------------------------------------------
d=$tmp/slow
mkdir -p "$d"
port=$(free_port)
write_slow_config() { # write_slow_config EXTRA_PEERS [DELAY [SUMMARY_FILE]]
  cat >"$d/c.yaml" <<YAML
collector:
  name: slow
  local_as: 65000
  bgp_id: 192.0.2.1
  listen: ["127.0.0.1:$port"]
  state_directory: $d/state
  status_interval: 0
  queue:
    max_records: 100
peer_defaults:
  hold_time: 9
dynamic_peers:
  - range: 127.0.0.0/8
$1
exporters:
  - type: "null"
    delay: ${2:-1ms}
    summary_file: ${3:-$d/summary}
YAML
}
write_slow_config ""
start_collector "$d"
"$bin" replay --port "$port" --peers 3 --hold 30 "$rib" >"$d/replay.log" 2>&1 &
rpid=$!
pids+=("$rpid")
wait_for 20 established "$d" 3 || fail "slow: 3 sessions did not come up"
wait_for 15 bash -c "[ \$(/usr/bin/python3 -c 'import json; print(json.load(open(\"$d/state/status.json\"))[\"exporters\"][0][\"spooled\"])') -gt 0 ]" \
  || fail "slow: the slow exporter never spooled"
peer200="peers:
  - address: 127.0.0.200
    as: 64999"
write_slow_config "$peer200"
kill -HUP "$cpid"
wait_for 10 grep -q 'reload: 1 peers added, 0 removed' "$d/run.log" || fail "slow: reload did not add the peer: $(tail -2 "$d/run.log")"
# The exporter's settings change mid-stream (a faster delay, another summary file): its worker
# stops the running instance after the record it is on (which writes its summary) and starts
# one with the new settings, which takes over the queue and the spool.
[ "$(exporter_field "$d" 0 delivered)" -lt "$(exporter_field "$d" 0 pushed)" ] || fail "slow: the exporter caught up before its settings changed"
write_slow_config "$peer200" 200us "$d/summary.2"
kill -HUP "$cpid"
wait_for 10 grep -q "reload: exporter 'null': delay, summary_file changed" "$d/run.log" || fail "slow: the reload did not change the exporter: $(tail -2 "$d/run.log")"
wait_for 10 grep -q 'exporter null: new settings in effect after' "$d/run.log" || fail "slow: the exporter did not switch: $(tail -2 "$d/run.log")"
wait_for 10 test -s "$d/summary" || fail "slow: the first instance wrote no summary at its stop"
# A bad option is refused, with file:line:column, and the running instance goes on.
write_slow_config "$peer200" fast "$d/summary.3"
kill -HUP "$cpid"
line=$(grep -n 'delay: fast' "$d/c.yaml" | cut -d: -f1)
wait_for 10 grep -q "reload refused: $d/c.yaml:$line:12: exporter 'null': 'delay'" "$d/run.log" || fail "slow: a bad exporter option was not refused: $(tail -2 "$d/run.log")"
write_slow_config "$peer200" 200us "$d/summary.2"
# The exporter needs about 1 ms per record; give it time well past the 9 s hold time.
wait_for 120 bash -c "[ \$(/usr/bin/python3 -c 'import json; e=json.load(open(\"$d/state/status.json\"))[\"exporters\"][0]; print(int(e[\"delivered\"]==e[\"pushed\"] and e[\"spool_bytes\"]==0))') = 1 ]" \
  || fail "slow: the exporter did not catch up"
established "$d" 3 || fail "slow: a session dropped while the exporter was slow"
if grep -q ': down' "$d/run.log"; then fail "slow: a session went down: $(grep ': down' "$d/run.log" | head -2)"; fi
spooled=$(exporter_field "$d" 0 spooled)
kill -TERM "$rpid"
wait "$rpid"
sleep 0.5
stop_collector
messages=$(status_field "$d" messages)
[ "$(exporter_field "$d" 0 dropped)" = 0 ] || fail "slow: records dropped"
# Every message reached the instance before the switch or the one after, never both.
before=$(awk '$1 == "message" { print $2 }' "$d/summary")
after=$(awk '$1 == "message" { print $2 }' "$d/summary.2")
[ "${before:-0}" -gt 0 ] && [ "${after:-0}" -gt 0 ] || fail "slow: the switch was not mid-stream: ${before:-none} messages before it, ${after:-none} after"
[ $((before + after)) = "$messages" ] || fail "slow: exporter got $before + $after of $messages messages"
[ -e "$d/summary.3" ] && fail "slow: the refused settings ran"
echo "slow: $messages messages, $spooled through the spool, none lost, sessions stayed up, reload added a peer and switched the exporter after $before of them"

# ---- 3. kill -9 ------------------------------------------------------------------------------
d=$tmp/kill
mkdir -p "$d"
port=$(free_port)
{
  collector_yaml kill "$port" "$d/state" 0
  cat <<YAML
exporters:
  - type: mrt
    directory: $d/mrt
    preset: none
    updates_file: "{collector}/updates.%Y%m%d.%H%M%S.gz"
    updates_interval: 2s
    flush_interval: 1s
    rib_file: ""
YAML
} >"$d/c.yaml"
start_collector "$d"
# A continuous feed: the update file (300 s) replayed at its recorded pace x 30 (10 s), so that
# the kill, 3 to 6 s in, falls mid-feed (at x 60 the feed had often ended), with up to a second
# of records only in memory (flush_interval) for the journal to give again.
"$bin" replay --port "$port" --peers 3 --speed 30 --hold 30 "$updates" >"$d/replay.log" 2>&1 &
rpid=$!
pids+=("$rpid")
wait_for 20 established "$d" 1 || fail "kill: sessions did not come up"
wait_for 30 bash -c "[ \$(ls $d/mrt/kill/updates.*.gz 2>/dev/null | wc -l) -ge 2 ]" || fail "kill: no rotation seen"
sleep 1.3
kill -9 "$cpid"
wait "$cpid" 2>/dev/null
kill -TERM "$rpid"
wait "$rpid" 2>/dev/null
finished=$(ls "$d"/mrt/kill/updates.*.gz | wc -l)
partials=$(ls -a "$d"/mrt/kill/ | grep -c '\.partial$')
[ "$partials" -ge 1 ] || fail "kill: no partial file left by kill -9"
for f in "$d"/mrt/kill/updates.*.gz; do
  "$bin" dump -m -q "$f" >/dev/null 2>"$d/err" || fail "kill: finished file $f does not read cleanly: $(cat "$d/err")"
  bgpdump -m "$f" >/dev/null 2>"$d/err"
  if grep -qiE 'error|corrupt|warn' "$d/err"; then fail "kill: bgpdump on $f: $(head -2 "$d/err")"; fi
done
# Route lines readable before the restart: finished files plus the partial one.
routes_in() { for f in "$@"; do "$bin" dump -m -q "$f" 2>/dev/null; done | grep -vc '|STATE|'; }
finished_routes=$(routes_in "$d"/mrt/kill/updates.*.gz)
partial_lines=$(routes_in "$d"/mrt/kill/.*.partial)
[ "$partial_lines" -gt 0 ] || fail "kill: the partial file holds nothing readable"
start_collector "$d"
stop_collector
[ "$(ls -a "$d"/mrt/kill/ | grep -c '\.partial$')" = 0 ] || fail "kill: partial file not recovered"
for f in "$d"/mrt/kill/updates.*.gz; do
  bgpdump -m "$f" >/dev/null 2>"$d/err"
  if grep -qiE 'error|corrupt|warn' "$d/err"; then fail "kill: after recovery, bgpdump on $f: $(head -2 "$d/err")"; fi
done
after=$(routes_in "$d"/mrt/kill/updates.*.gz)
# What the files held, and what the journal gives again: the records read but not yet flushed
# (kill_e2e.sh counts them against what was sent).
[ "$after" -ge "$((finished_routes + partial_lines))" ] ||
  fail "kill: $after route lines after recovery, $finished_routes + $partial_lines readable before"
grep -q 'journal: .* replayed into exporter mrt' "$d/run.log" || fail "kill: the journal replayed nothing into the MRT exporter"
echo "kill -9: $finished finished files intact, $partial_lines lines in the partial recovered, $((after - finished_routes - partial_lines)) more from the journal, all files read by bgpdump"

# ---- 3b. dynamic peers give their places back -------------------------------------------------
# A range of 3 places: 3 sessions that end, then 3 more from other addresses come up (before,
# every place stayed taken until a restart); a silent connection is closed after open_timeout.
d=$tmp/places
mkdir -p "$d"
port=$(free_port)
{
  collector_yaml places "$port" "$d/state" 0
  cat <<YAML
    max_peers: 3
    max_pending: 2
    open_timeout: 1s
exporters:
  - type: "null"
YAML
} >"$d/c.yaml"
start_collector "$d"
"$bin" replay --port "$port" --peers 3 --hold 0 -q "$rib" >"$d/replay1.log" 2>&1 || fail "places: first replay: $(tail -2 "$d/replay1.log")"
"$bin" replay --port "$port" --peers 3 --hold 0 -q --source-base 127.0.0.20 "$rib" >"$d/replay2.log" 2>&1 ||
  fail "places: 3 sessions from new addresses after 3 ended: $(tail -2 "$d/replay2.log")"
# A connection that never sends an OPEN: closed by the collector after open_timeout.
/usr/bin/python3 - "$port" <<'PY' || fail "places: a silent connection was not closed within 5 s"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
t = time.time()
while time.time() - t < 5:
    if not s.recv(4096):
        sys.exit(0)
sys.exit(1)
PY
wait_for 5 bash -c "[ \$(/usr/bin/python3 -c 'import json; print(json.load(open(\"$d/state/status.json\"))[\"dynamic_closed_without_open\"])') -ge 1 ]" ||
  fail "places: the silent connection is not counted in status.json"
stop_collector
echo "dynamic peers: places freed by ended sessions, a silent connection closed after open_timeout"

# ---- 4. bad config ---------------------------------------------------------------------------
d=$tmp/bad
mkdir -p "$d"
cat >"$d/c.yaml" <<YAML
collector:
  name: bad
  local_as: 65000
  bgp_id: 192.0.2.1
peers:
  - address: 192.0.2.10
    as: 64500
    hold_time: 2
exporters:
  - type: mrt
    directory: $d/mrt
YAML
"$bin" run -c "$d/c.yaml" >"$d/out" 2>&1
rc=$?
[ $rc = 2 ] || fail "bad config: exit status $rc, want 2"
grep -q "c.yaml:8:16: peer: hold_time must be 0 or at least 3" "$d/out" || fail "bad config: message was: $(cat "$d/out")"
sed -i 's/hold_time: 2/hold_time: 30/; s/type: mrt/type: mrtt/' "$d/c.yaml"
"$bin" run -c "$d/c.yaml" >"$d/out" 2>&1
grep -q "c.yaml:10:11: unknown exporter type 'mrtt' (known: bmp, kafka, mrt, null, postgres)" "$d/out" || fail "bad config: message was: $(cat "$d/out")"
[ -e "$d/mrt" ] && fail "bad config: something was started"
echo "bad config: refused with file:line and what to fix"

if [ $failures -gt 0 ]; then
  echo "$failures failures"
  exit 1
fi
echo "all checks passed"
