#!/usr/bin/env bash
# Fault test: the MRT archive's disk fills up while real load runs (issue 14, fault 4).
#
# The collector runs in a mount namespace of its own (unshare -m) whose archive directory is a
# tmpfs of 128 KiB; its state directory (queue spool) is on the ordinary disk. A real RIB head
# (3 MRT peers, 1 MB of MRT) is replayed into it, uncompressed, so the archive fills in the
# first second. Then:
#   - status.json shows the failure while it lasts: a `disk` alarm naming ENOSPC, nothing counted
#     as delivered that was not written, no record refused or lost;
#   - the exporter stops taking records once its memory buffer is full and the collector's own
#     spool takes them (spooled > 0): no session drops;
#   - the tmpfs is made larger (nsenter + remount): the exporter carries on, the alarm clears,
#     and the archive holds every route event replay sent, each once.
# Prints the counts: events sent, archived, lost, duplicated, sessions dropped.
# Every process started here is stopped by PID on exit; every wait is bounded. Skips (77) when
# the shared data is missing or this machine cannot make a mount namespace (not root).
set -uo pipefail
bin=${1:?usage: disk_full_e2e.sh BGPSCRIBE_BINARY [DATA_DIR]}
data=${2:-$(dirname "$0")/../../../../shared/data/mrt}
here=$(cd "$(dirname "$0")" && pwd)
rib=$data/pyasn/data/rib.20140523.0600_firstMB.bz2
[ -f "$rib" ] || { echo "SKIP: shared MRT data not found ($rib)"; exit 77; }
if ! unshare -m --propagation private true 2>/dev/null; then
  echo "SKIP: cannot create a mount namespace here (needs root)"
  exit 77
fi

tmp_prefix=bgpscribe-diskfull
# shellcheck source=lib.sh
source "$here/lib.sh"
route_lines() { for f in "$@"; do "$bin" dump -m -q "$f"; done | grep -v '|STATE|' | cut -d'|' -f3- | sort; }

d=$tmp/full
mkdir -p "$d/archive" "$d/copy"
port=$(free_port)
cat >"$d/c.yaml" <<YAML
collector:
  name: full
  local_as: 65000
  bgp_id: 192.0.2.1
  listen: ["127.0.0.1:$port"]
  state_directory: $d/state
  status_interval: 0
  queue:
    max_records: 2000
dynamic_peers:
  - range: 127.0.0.0/8
exporters:
  - type: mrt
    directory: $d/archive
    preset: none
    compression: none
    updates_file: "{collector}/updates.%Y%m%d.%H%M%S"
    updates_interval: 0
    rib_file: ""
    max_buffer: 64k
    flush_interval: 20ms
YAML
# The shell stays in the namespace after the collector ends, to copy the archive out of the
# tmpfs before the namespace (and the tmpfs with it) is gone.
unshare -m --propagation private sh -c '
  mount -t tmpfs -o size=128k bgpscribe-full "$1/archive" || exit 70
  "$2" run -c "$1/c.yaml" >"$1/run.log" 2>&1 &
  echo $! >"$1/cpid"
  wait $!
  rc=$?
  cp -a "$1/archive/." "$1/copy/"
  exit $rc' sh "$d" "$bin" &
nspid=$!
pids+=("$nspid")
wait_for 10 test -s "$d/cpid" || fail "the collector did not start"
cpid=$(cat "$d/cpid")
pids+=("$cpid")
wait_for 10 test -f "$d/state/status.json" || fail "no status.json: $(cat "$d/run.log")"

"$bin" replay --port "$port" --peers 3 --hold 60 --record "$d/sent.mrt" "$rib" >"$d/replay.log" 2>&1 &
rpid=$!
pids+=("$rpid")
wait_for 20 established "$d" 3 || fail "3 sessions did not come up"
alarm() { /usr/bin/python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["exporters"][0]["alarms"]; print(a[0] if a else "")' "$d/state/status.json"; }
wait_for 30 bash -c "$(declare -f alarm); d=$d; alarm | grep -q '^disk: .*No space left on device'" ||
  fail "no disk alarm in status.json while the archive is full: '$(alarm)'"
echo "while full: alarm '$(alarm)'"
wait_for 30 bash -c "[ \$(/usr/bin/python3 -c 'import json; print(json.load(open(\"$d/state/status.json\"))[\"exporters\"][0][\"spooled\"])') -gt 0 ]" ||
  fail "the collector never spooled while the exporter waited for the disk"
[ "$(exporter_field "$d" 0 failed)" = 0 ] || fail "records refused while the disk was full"
[ "$(exporter_field "$d" 0 dropped)" = 0 ] || fail "records dropped while the disk was full"
sleep 2  # some seconds of full disk under load
established "$d" 3 || fail "a session dropped while the disk was full"

# Room again.
nsenter -t "$cpid" -m mount -o remount,size=256m "$d/archive" || fail "cannot enlarge the tmpfs"
wait_for 60 bash -c "$(declare -f alarm); d=$d; [ -z \"\$(alarm)\" ]" || fail "the disk alarm did not clear: '$(alarm)'"
wait_for 60 bash -c "[ \$(/usr/bin/python3 -c 'import json; e=json.load(open(\"$d/state/status.json\"))[\"exporters\"][0]; print(int(e[\"delivered\"]==e[\"pushed\"] and e[\"spool_bytes\"]==0))') = 1 ]" ||
  fail "the exporter did not catch up after the disk had room again"
wait_for 30 quiet "$d" || fail "the feed did not settle"
established "$d" 3 || fail "a session dropped"
downs=$(grep -c ': down' "$d/run.log")
kill -TERM "$rpid"
wait "$rpid"
kill -TERM "$cpid"
wait_for 30 bash -c "! kill -0 $nspid 2>/dev/null" || fail "the collector did not stop"
wait "$nspid" || fail "the collector exited with $?"
grep -q 'waiting for the disk' "$d/run.log" || fail "the log does not say the exporter waited for the disk"

route_lines "$d/sent.mrt" >"$d/sent"
files=$(find "$d/copy" -type f -name 'updates.*' | sort)
[ -n "$files" ] || fail "no archive files"
# shellcheck disable=SC2086
route_lines $files >"$d/archived"
sent=$(wc -l <"$d/sent")
archived=$(wc -l <"$d/archived")
lost=$(comm -23 "$d/sent" "$d/archived" | wc -l)
duplicated=$(uniq -d "$d/archived" | wc -l)
extra=$(comm -13 "$d/sent" "$d/archived" | wc -l)
echo "disk full: events sent $sent, archived $archived, lost $lost, duplicated $duplicated, not sent $extra, sessions dropped $downs"
[ "$sent" -gt 20000 ] || fail "only $sent route events sent"
[ "$lost" = 0 ] || fail "$lost route events lost: $(comm -23 "$d/sent" "$d/archived" | head -2)"
[ "$extra" = 0 ] || fail "$extra archived route events were never sent"
[ "$downs" = 0 ] || fail "$downs sessions dropped"
if [ "$(sort -u "$d/sent" | wc -l)" = "$sent" ]; then
  [ "$duplicated" = 0 ] || fail "$duplicated route events archived twice"
fi
if [ "$failures" -gt 0 ]; then
  echo "disk_full_e2e: $failures failures (logs: $d, KEEP=1 keeps them)"
  tail -20 "$d/run.log"
  exit 1
fi
echo "disk_full_e2e: passed"
