#!/usr/bin/env bash
# End-to-end test of the live API (gRPC) of `bgpscribe run`, on loopback and a unix socket, read
# by Python's grpcio (Debian's python3-grpcio; stubs generated here from schema/proto by protoc
# and grpc_python_plugin: Debian's grpc_tools bundles a protoc too old for proto3 `optional`):
#   1. a live subscriber, up before the feed, gets one route event per route the MRT archive of
#      the same run records (peer, prefix, AS path, next hop), in archive order per peer;
#   2. a subscriber that reads nothing is cut off with a Lagging event and RESOURCE_EXHAUSTED,
#      while the live one and the MRT archive lose nothing;
#   3. Status, Rib (exact, longest match, more-specifics in pages) and Subscribe with a snapshot
#      agree with the table the MRT archive implies (api_check.py);
#   4. after SIGTERM the socket is gone;
#   5. a RIS Live port that is taken stops the start (exit 1, naming it) and leaves no socket.
# Every process started here is stopped by PID on exit; every wait is bounded.
# Skips (77) when the shared data or python3-grpcio is missing.
set -uo pipefail
bin=${1:?usage: api_e2e.sh BGPSCRIBE_BINARY [DATA_DIR]}
data=${2:-$(dirname "$0")/../../../../shared/data/mrt}
here=$(cd "$(dirname "$0")" && pwd)
protos=$here/../../../schema/proto
rib=$data/pyasn/data/rib.20140523.0600_firstMB.bz2
py=/usr/bin/python3
[ -f "$rib" ] || { echo "SKIP: shared MRT data not found ($rib)"; exit 77; }
"$py" -c 'import grpc' 2>/dev/null || { echo "SKIP: python3-grpcio missing"; exit 77; }

tmp_prefix=bgpscribe-api-e2e
# shellcheck source=lib.sh
source "$here/lib.sh"

d=$tmp/api
mkdir -p "$d/stubs"
protoc -I "$protos" --python_out="$d/stubs" --grpc_python_out="$d/stubs" \
  --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
  "$protos/bgpscribe/v1/events.proto" "$protos/bgpscribe/v1/api.proto" || fail "protoc for python"
port=$(free_port)
{
  collector_yaml api-e2e "$port" "$d/state" 1
  cat <<YAML
exporters:
YAML
  mrt_exporter_yaml "$d/mrt"
} >"$d/c.yaml"
start_collector "$d"
sock=$d/state/api.sock
wait_for 10 test -S "$sock" || fail "no api socket: $(tail -3 "$d/run.log")"

# ---- 1, 2: subscribers up before the feed ------------------------------------------------------
"$py" "$here/api_check.py" "$d/stubs" "$sock" subscribe "$d/live.jsonl" >"$d/live.log" 2>&1 &
pids+=($!)
lpid=$!
"$py" "$here/api_check.py" "$d/stubs" "$sock" stall "$d/stall.json" >"$d/stall.log" 2>&1 &
pids+=($!)
wait_for 20 grep -q subscribed "$d/live.log" || fail "live subscriber: $(cat "$d/live.log")"
wait_for 20 grep -q subscribed "$d/stall.log" || fail "stalled subscriber: $(cat "$d/stall.log")"
sleep 0.5  # the Subscribe calls reach the server

"$bin" replay --port "$port" --peers 4 --hold -1 "$rib" >"$d/replay.log" 2>&1 &
rpid=$!
pids+=("$rpid")
wait_for 20 established "$d" 4 || fail "4 sessions did not come up"
settled() { quiet "$1" && quiet "$1"; }
wait_for 60 settled "$d" || fail "the feed did not settle"
# The MRT archive of the run: its route lines in order, and the table they leave.
sleep 1.5
"$bin" dump -m "$d/mrt/.updates.partial" >"$d/mrt.txt" 2>"$d/dump.err" || fail "dump: $(cat "$d/dump.err")"

touch "$d/stall.json.go"
wait_for 30 test -s "$d/stall.json" || fail "the stalled subscriber did not end"
"$py" - "$d/stall.json" <<'PY' || fail "stalled subscriber: $(cat "$d/stall.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["lagging"] > 0 and s["code"] == "StatusCode.RESOURCE_EXHAUSTED", s
print("ok: the stalled subscriber got %d routes, then Lagging (%d dropped) and %s"
      % (s["routes"], s["lagging"], s["code"]))
PY

# The cut-off is a log line and a counter in status.json (the feed is an internal exporter).
grep -q 'api: a subscriber fell .* cut off as lagging' "$d/run.log" || fail "no log line for the cut-off"
cut_counted() {
  [ "$("$py" -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["internal"][0]["metrics"]["cut_off"]))' "$d/state/status.json")" -ge 1 ]
}
wait_for 5 cut_counted || fail "status.json does not count the cut-off"

touch "$d/live.jsonl.stop"
wait_for 10 sh -c "! kill -0 $lpid" || fail "the live subscriber did not stop"
"$py" - "$d/mrt.txt" "$d/live.jsonl" "$d/want.json" "$port" <<'PY' || fail "live stream vs the MRT archive"
import collections, json, sys
mrt, live, want_out, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
announced = []  # route keys of the archive's A lines, in order
table = collections.OrderedDict()
for line in open(mrt):
    f = line.rstrip("\n").split("|")
    if f[2] == "A":
        key = "|".join([f[3], f[5], f[6], f[8]])
        announced.append(key)
        table[(f[3], f[5])] = key
    elif f[2] == "W":
        table.pop((f[3], f[5]), None)
events = [json.loads(l) for l in open(live)]
errors = [e for e in events if e["kind"] == "error"]
got = [e["key"] for e in events if e["kind"] == "route" and e["action"] == 0]
assert not errors, errors
def per_peer(keys):
    out = collections.defaultdict(list)
    for k in keys:
        out[k.split("|")[0]].append(k)
    return out
assert per_peer(got) == per_peer(announced), \
    "live stream: %d announcements, the archive %d" % (len(got), len(announced))
print("ok: the live subscriber got all %d announcements of the archive, in order per peer"
      % len(got))
routes_per_peer = collections.Counter(p for p, _ in table)
prefixes = sorted({p for _, p in table})
sample = prefixes[:: max(1, len(prefixes) // 20)][:20]
exact = {p: [k for (peer, q), k in table.items() if q == p] for p in sample}
# A /8 with many routes as the cover prefix.
by8 = collections.Counter(p.split(".")[0] for _, p in table if ":" not in p)
cover = by8.most_common(1)[0][0] + ".0.0.0/8"
import ipaddress
net = ipaddress.ip_network(cover)
inside = [k for (peer, p), k in table.items()
          if ":" not in p and ipaddress.ip_network(p).subnet_of(net)]
json.dump({"collector": "api-e2e", "peers": 4, "routes_per_peer": routes_per_peer,
           "bgp_port": port, "exact": exact, "cover": cover, "inside_cover": inside},
          open(want_out, "w"))
PY

# ---- 3: Status, Rib, Subscribe with a snapshot --------------------------------------------------
"$py" "$here/api_check.py" "$d/stubs" "$sock" check "$d/want.json" || fail "api_check"

# ---- 3b: the command-line clients against the same collector -----------------------------------
"$bin" status -c "$d/c.yaml" >"$d/status.txt" 2>&1 || fail "status: $(cat "$d/status.txt")"
grep -q '4 peers (4 established)' "$d/status.txt" || fail "status text: $(head -3 "$d/status.txt")"
"$bin" status --socket "$sock" --json >"$d/status.json" 2>&1 || fail "status --json"
cover=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["cover"])' "$d/want.json")
sample=$("$py" -c 'import json,sys; print(sorted(json.load(open(sys.argv[1]))["exact"])[0])' "$d/want.json")
"$bin" rib -c "$d/c.yaml" "$sample" >"$d/rib.txt" 2>&1 || fail "rib: $(cat "$d/rib.txt")"
"$bin" rib -c "$d/c.yaml" --longer --json "$cover" >"$d/rib-longer.jsonl" 2>&1 || fail "rib --longer"
n_inside=$("$py" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["inside_cover"]))' "$d/want.json")
timeout 30 "$bin" tail -c "$d/c.yaml" --snapshot --json --prefix "$cover" --more-specific \
  --count "$((n_inside + 2))" >"$d/tail.jsonl" 2>"$d/tail.err" || fail "tail: $(cat "$d/tail.err")"
"$bin" tail -c "$d/c.yaml" >"$d/tail-int.txt" 2>&1 &
tpid=$!
pids+=("$tpid")
sleep 1
kill -INT "$tpid"
wait "$tpid"
trc=$?
[ "$trc" = 0 ] || fail "tail after SIGINT exited $trc: $(cat "$d/tail-int.txt")"
"$py" - "$d/want.json" "$d/status.json" "$d/rib.txt" "$d/rib-longer.jsonl" "$d/tail.jsonl" "$sample" <<'PY' || fail "command-line clients vs the archive"
import json, sys
want = json.load(open(sys.argv[1]))
status = json.load(open(sys.argv[2]))
est = [p for p in status["peers"] if p["state"] == "ESTABLISHED"]
assert len(est) == 4, "status --json: %d Established" % len(est)
rib = [l for l in open(sys.argv[3]) if l.strip()]
assert len(rib) == len(want["exact"][sys.argv[6]]), "rib %s: %d lines, want %d" % (
    sys.argv[6], len(rib), len(want["exact"][sys.argv[6]]))
longer = [json.loads(l) for l in open(sys.argv[4])]
got = sorted("|".join([r["peer_ip"], r["prefix"], r.get("as_path", ""), r["next_hop"]])
             for r in longer)
assert got == sorted(want["inside_cover"]), "rib --longer: %d routes, want %d" % (
    len(got), len(want["inside_cover"]))
tail = [json.loads(l) for l in open(sys.argv[5])]
kinds = [t["kind"] for t in tail]
assert kinds[0] == "snapshot_begin" and kinds[-1] == "snapshot_end", kinds[:2] + kinds[-2:]
got = sorted("|".join([t["peer_ip"], t["prefix"], t.get("as_path", ""), t["next_hop"]])
             for t in tail if t["kind"] == "announce")
assert got == sorted(want["inside_cover"]), "tail --snapshot: %d routes, want %d" % (
    len(got), len(want["inside_cover"]))
print("ok: status, rib (exact, --longer) and tail --snapshot --json agree with the archive; "
      "tail ends with 0 on SIGINT")
PY

# ---- 4: the socket goes with the collector -----------------------------------------------------
stop_collector
[ -e "$sock" ] && fail "the api socket is still there after the collector stopped"
grep -q 'api: listening on unix:' "$d/run.log" || fail "no 'api: listening' line in the log"

# ---- 5: a port that is taken stops the start cleanly, socket file included ----------------------
busy=$(free_port)
sed -e "s|state_directory: $d/state|state_directory: $d/state2|" "$d/c.yaml" >"$d/busy.yaml"
printf 'api:\n  ris_live: 127.0.0.1:%s\n' "$busy" >>"$d/busy.yaml"
"$py" - "$busy" "$bin" "$d/busy.yaml" "$d/state2/api.sock" <<'PY' || fail "a taken RIS Live port"
import os, socket, subprocess, sys
port, binary, config, sock = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen()
r = subprocess.run([binary, "run", "-c", config], capture_output=True, text=True, timeout=30)
assert r.returncode == 1, r
assert "cannot listen for RIS Live on 127.0.0.1:%d" % port in r.stderr, r.stderr
assert not os.path.exists(sock), "the api socket was left behind"
print("ok: a taken RIS Live port stops the start (exit 1, says which), no socket left")
PY

if [ "$failures" -gt 0 ]; then
  echo "--- run.log"; tail -20 "$d/run.log"
  echo "FAILED ($failures)"
  exit 1
fi
echo "PASS"
