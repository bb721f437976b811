#!/usr/bin/env bash
# End-to-end test of the BMP station input, two real collectors on loopback:
#
#   collector A holds the BGP sessions (`bgpscribe replay`: a real RIB head from 2 peers,
#   ADD-PATH, 10 % of the routes also as IPv6) and exports BMP to collector B's bmp_listen;
#   B archives the peers A reports as its own sources into MRT.
#
#   1. B's MRT update file holds exactly A's route lines (peer address and AS are the monitored
#      peer's in both); the replay ending shows in B as state changes to Idle.
#   2. Hostile BMP: a router that sends garbage is disconnected with the reason in B's log; an
#      address outside bmp_routers is refused; A's connection goes on, and B stays up.
# Every process started here is stopped by PID on exit; every wait is bounded.
# Skips (77) when the shared data is missing.
set -uo pipefail
bin=${1:?usage: bmp_station_e2e.sh BGPSCRIBE_BINARY [DATA_DIR]}
data=${2:-$(dirname "$0")/../../../../shared/data/mrt}
here=$(cd "$(dirname "$0")" && pwd)
rib=$data/pyasn/data/rib.20140523.0600_firstMB.bz2
[ -f "$rib" ] || { echo "SKIP: shared MRT data not found ($rib)"; exit 77; }

tmp_prefix=bgpscribe-bmp-station-e2e
# shellcheck source=lib.sh
source "$here/lib.sh"
# route lines without type, time and the A/B column, sorted.
lines() { "$bin" dump -m "$@" | grep -v '|STATE|' | cut -d'|' -f4- | sort; }
bmp_field() { # bmp_field DIR KEY: KEY of the first connected BMP router in DIR's status
  /usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])).get("bmp",{}).get("routers",[]); print(r[0].get(sys.argv[2],0) if r else 0)' "$1/state/status.json" "$2"
}
bmp_count() { # bmp_count DIR KEY: the station's counter KEY
  /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("bmp",{}).get(sys.argv[2],0))' "$1/state/status.json" "$2"
}
peers_up_at_least() { [ "$(bmp_field "$1" peers_up)" -ge "$2" ]; }

a=$tmp/a
b=$tmp/b
mkdir -p "$a" "$b"
port=$(free_port)
bport=$(free_port)
cat >"$b/c.yaml" <<YAML
collector:
  name: bmp-b
  local_as: 65001
  bgp_id: 192.0.2.2
  listen: ["127.0.0.1:$(free_port)"]
  state_directory: $b/state
  status_interval: 1
bmp_listen: ["127.0.0.1:$bport"]
bmp_routers:
  - prefix: 127.0.0.1
    name: collector-a
  - prefix: 127.0.0.2
    name: hostile
exporters:
  - type: mrt
    directory: $b/mrt
    preset: none
    compression: none
    updates_file: "updates"
YAML
cat >"$a/c.yaml" <<YAML
collector:
  name: bmp-a
  local_as: 65000
  bgp_id: 192.0.2.1
  listen: ["127.0.0.1:$port"]
  state_directory: $a/state
  status_interval: 1
dynamic_peers:
  - range: 127.0.0.0/8
exporters:
  - type: mrt
    directory: $a/mrt
    preset: none
    compression: none
    updates_file: "updates"
  - type: bmp
    stations: ["127.0.0.1:$bport"]
    stats_interval: 1
YAML
start_collector "$b"
bpid=$cpid
start_collector "$a"
apid=$cpid
wait_for 20 bash -c "grep -q 'bmp router collector-a (127.0.0.1): connected' $b/run.log" ||
  fail "A did not connect to B: $(tail -3 "$b/run.log")"

# ---- 1. routes and state changes ----------------------------------------------------------
"$bin" replay --port "$port" --peers 2 --add-path --ipv6-from-ipv4 10 --hold 30 "$rib" \
  >"$a/replay.log" 2>&1 &
rpid=$!
pids+=("$rpid")
wait_for 20 established "$a" 2 || fail "2 sessions did not come up at A"
wait_for 20 peers_up_at_least "$b" 2 || fail "B did not see A's 2 peers up"
settled() { quiet "$1" && quiet "$1"; }
wait_for 60 settled "$a" || fail "the feed did not settle at A"
# B gets A's UPDATEs (BMP carries no OPEN or KEEPALIVE): as many as A's BMP exporter sent.
wait_for 30 settled "$b" || fail "the feed did not settle at B"
# B's live API lists A's peers as BMP sources, Established, with as many routes as A holds.
"$bin" status --socket "$b/state/api.sock" --json >"$b/api-status.json" 2>&1 ||
  fail "status at B: $(cat "$b/api-status.json")"
/usr/bin/python3 - "$b/api-status.json" "$(status_field "$a" routes)" <<'PY' || fail "B's Status"
import json, sys
s = json.load(open(sys.argv[1]))
src = [p for p in s["peers"] if p["peer"].get("router") and p["state"] == "ESTABLISHED"]
assert len(src) == 2, "%d BMP sources Established: %s" % (len(src), s["peers"])
n = sum(int(f["prefixes"]) for p in src for f in p["prefixes"])
assert n == int(sys.argv[2]), "B's sources hold %d routes, A %s" % (n, sys.argv[2])
assert all(int(p["messages"]) > 0 for p in src), src
print("ok: B's Status lists A's 2 peers as BMP sources with all %d routes" % n)
PY

# ---- 2. hostile BMP, while A's connection goes on ---------------------------------------------
/usr/bin/python3 - "$bport" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def send(source, data):
    s = socket.socket()
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    try:
        s.sendall(data)
        s.settimeout(5)
        s.recv(1)  # the station closes: b"" (or a reset)
    except OSError:
        pass
    s.close()
# An Initiation, then a message of an unknown type (RFC 7854 has no type 42).
send("127.0.0.2", bytes([3, 0, 0, 0, 6, 4]) + bytes([3, 0, 0, 0, 6, 42]))
# A length below the common header: a broken stream.
send("127.0.0.2", bytes([3, 0, 0, 0, 2, 4]))
# Not in bmp_routers.
send("127.0.0.3", bytes([3, 0, 0, 0, 6, 4]))
PY
grep -q "bmp router hostile (127.0.0.2): disconnected: unknown BMP message type 42" "$b/run.log" ||
  fail "hostile: no disconnect for the unknown type: $(grep hostile "$b/run.log" | tail -2)"
grep -q "bmp router hostile (127.0.0.2): disconnected: broken BMP stream" "$b/run.log" ||
  fail "hostile: no disconnect for the broken length"
grep -q "bmp: connection from 127.0.0.3 refused: not in bmp_routers" "$b/run.log" ||
  fail "hostile: 127.0.0.3 was not refused"
closed_on_error() { [ "$(bmp_count "$b" closed_on_error)" -ge 2 ]; }
wait_for 5 closed_on_error || fail "hostile: closed_on_error not counted"
kill -0 "$bpid" || fail "hostile: collector B died"
peers_up_at_least "$b" 2 || fail "hostile: A's connection to B suffered"

# The replay ends: A's peers go down, and so do B's sources.
kill -TERM "$rpid"
wait "$rpid"
down_at_b() { [ "$(bmp_field "$b" peers_up)" -eq 0 ]; }
wait_for 20 down_at_b || fail "B's sources did not go down"
cpid=$apid
stop_collector
cpid=$bpid
stop_collector

lines "$a/mrt/updates" >"$a/lines"
lines "$b/mrt/updates" >"$b/lines"
n=$(wc -l <"$a/lines")
[ "$n" -gt 10000 ] || fail "only $n route lines in A's MRT file"
cmp -s "$a/lines" "$b/lines" ||
  fail "B's archive differs from A's ($n lines): $(diff "$a/lines" "$b/lines" | head -4)"
ups=$("$bin" dump -m "$b/mrt/updates" | grep '|STATE|' | grep -c '|6$')
downs=$("$bin" dump -m "$b/mrt/updates" | grep '|STATE|' | grep -c '|6|1$')
[ "$ups" -ge 2 ] && [ "$downs" -ge 2 ] || fail "B's archive has $ups sessions up and $downs down, want 2 and 2"
echo "bmp_station_e2e: $n route lines archived through BMP, $ups up, $downs down"
[ "$failures" -eq 0 ] || exit 1
echo "bmp_station_e2e: ok"
