#!/usr/bin/env bash
# End-to-end test of the Prometheus metrics endpoint of `bgpscribe run` (`metrics:`), on loopback:
#   1. four replayed peers of a real RIB; the endpoint's text passes `promtool check metrics`
#      (Debian's prometheus) and its figures agree with the MRT archive of the same run:
#      prefixes announced per peer, routes held, sessions up, records delivered, the
#      delivery-lag histogram's count;
#   2. a connection from an address no peer or range matches is counted as refused
#      (reason unknown_source);
#   3. a real Prometheus server scrapes it: `up` is 1 and sum(bgpscribe_peer_up) is 4, and every
#      query of the Grafana dashboard (docker/grafana/dashboards) answers there;
#   4. when the peers go (dynamic peers: removed), their series go and their state changes are
#      counted;
#   5. other paths answer 404, other methods 405, HEAD the headers of GET;
#   6. a taken metrics port stops the start (exit 1, naming the address);
#   7. the log (`log: {format: json, file: ...}`): every line is a JSON object with time, level,
#      source and msg; the refused connection has its line with address and reason; each
#      session's "up" line carries the peer's name, AS and address as fields.
# Every process started here is stopped by PID on exit; every wait is bounded.
# Skips (77) when the shared data or prometheus/promtool is missing.
set -uo pipefail
bin=${1:?usage: metrics_e2e.sh BGPSCRIBE_BINARY [DATA_DIR]}
data=${2:-$(dirname "$0")/../../../../shared/data/mrt}
here=$(cd "$(dirname "$0")" && pwd)
rib=$data/pyasn/data/rib.20140523.0600_firstMB.bz2
py=/usr/bin/python3
[ -f "$rib" ] || { echo "SKIP: shared MRT data not found ($rib)"; exit 77; }
command -v promtool >/dev/null && command -v prometheus >/dev/null ||
  { echo "SKIP: prometheus (promtool) missing"; exit 77; }

tmp_prefix=bgpscribe-metrics-e2e
# shellcheck source=lib.sh
source "$here/lib.sh"

d=$tmp/metrics
mkdir -p "$d"
port=$(free_port)
mport=$(free_port)
cat >"$d/c.yaml" <<YAML
collector:
  name: metrics-e2e
  local_as: 65000
  bgp_id: 192.0.2.1
  listen: ["127.0.0.1:$port"]
  state_directory: $d/state
  status_interval: 1
dynamic_peers:
  - range: 127.0.0.0/29
metrics:
  listen: 127.0.0.1:$mport
log:
  format: json
  file: $d/collector.log
exporters:
YAML
mrt_exporter_yaml "$d/mrt" >>"$d/c.yaml"
start_collector "$d"
url=http://127.0.0.1:$mport/metrics
grep -q "\"source\":\"metrics\",\"msg\":\"listening on $url\"" "$d/collector.log" ||
  fail "no 'metrics: listening' line: $(cat "$d/collector.log")"

scrape() { "$py" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$url"; }

"$bin" replay --port "$port" --peers 4 --hold -1 "$rib" >"$d/replay.log" 2>&1 &
rpid=$!
pids+=("$rpid")
wait_for 20 established "$d" 4 || fail "4 sessions did not come up"
settled() { quiet "$1" && quiet "$1"; }
wait_for 60 settled "$d" || fail "the feed did not settle"
sleep 1.5  # the MRT exporter's flush
"$bin" dump -m "$d/mrt/.updates.partial" >"$d/mrt.txt" 2>"$d/dump.err" || fail "dump: $(cat "$d/dump.err")"

# ---- 2: a connection no peer or range matches --------------------------------------------------
"$py" - "$port" <<'PY' || fail "connecting from 127.0.0.9"
import socket, sys
s = socket.socket()
s.bind(("127.0.0.9", 0))
s.connect(("127.0.0.1", int(sys.argv[1])))
s.settimeout(5)
try:
    s.recv(1)  # the collector closes it
except OSError:
    pass
PY

# ---- 1: the text, checked by promtool and against the archive ----------------------------------
scrape >"$d/m1.txt" || fail "GET $url"
promtool check metrics <"$d/m1.txt" >"$d/promtool.log" 2>&1 ||
  fail "promtool check metrics: $(head -20 "$d/promtool.log")"
[ -s "$d/promtool.log" ] && fail "promtool has remarks: $(head -20 "$d/promtool.log")"
"$py" - "$d/m1.txt" "$d/mrt.txt" "$d/state/status.json" <<'PY' || fail "metrics against the archive"
import collections, json, re, sys
line = re.compile(r'^([a-z_:]+)(\{(.*)\})? (\S+)$')
samples = collections.defaultdict(list)
for text in open(sys.argv[1]):
    if text.startswith("#") or not text.strip():
        continue
    m = line.match(text.rstrip("\n"))
    assert m, "not a sample line: %r" % text
    labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
    samples[m.group(1)].append((labels, float(m.group(4))))
def total(name, **want):
    return sum(v for l, v in samples[name] if all(l.get(k) == x for k, x in want.items()))
# The archive: announcements and withdrawals per peer address, and the table they leave.
announced = collections.Counter()
withdrawn = collections.Counter()
table = {}
for text in open(sys.argv[2]):
    f = text.rstrip("\n").split("|")
    if len(f) < 6 or not f[0].startswith("BGP4MP"):
        continue
    if f[2] == "A":
        announced[f[3]] += 1
        table[(f[3], f[5])] = 1
    elif f[2] == "W":
        withdrawn[f[3]] += 1
        table.pop((f[3], f[5]), None)
ok = True
def check(what, got, want):
    global ok
    if got != want:
        ok = False
        print("FAIL: %s: %s, the archive says %s" % (what, got, want))
    else:
        print("ok: %s: %s" % (what, got))
check("peers up", total("bgpscribe_peer_up"), 4)
for peer, n in sorted(announced.items()):
    check("prefixes announced by %s" % peer,
          total("bgpscribe_peer_prefixes_announced_total", address=peer), n)
    check("prefixes withdrawn by %s" % peer,
          total("bgpscribe_peer_prefixes_withdrawn_total", address=peer), withdrawn[peer])
check("routes held", total("bgpscribe_peer_routes"), len(table))
check("routes held (collector)", total("bgpscribe_routes"), len(table))
status = json.load(open(sys.argv[3]))
delivered = total("bgpscribe_exporter_delivered_total", exporter="mrt")
check("records delivered = pushed", delivered, total("bgpscribe_exporter_pushed_total", exporter="mrt"))
check("lag histogram count = delivered",
      total("bgpscribe_exporter_delivery_lag_seconds_count", exporter="mrt"), delivered)
inf = total("bgpscribe_exporter_delivery_lag_seconds_bucket", exporter="mrt", le="+Inf")
check("lag histogram +Inf bucket = count", inf, delivered)
check("refused, unknown source", total("bgpscribe_refused_total", reason="unknown_source"), 1)
check("messages (metrics = status.json)", total("bgpscribe_messages_total"), status["messages"])
check("process_open_fds > 0", total("process_open_fds") > 0, True)
check("process_resident_memory_bytes > 0", total("process_resident_memory_bytes") > 0, True)
sys.exit(0 if ok else 1)
PY

# ---- 3: a real Prometheus scrapes it ------------------------------------------------------------
pport=$(free_port)
cat >"$d/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: bgpscribe
    static_configs:
      - targets: ["127.0.0.1:$mport"]
YAML
prometheus --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/prom" \
  --web.listen-address="127.0.0.1:$pport" >"$d/prometheus.log" 2>&1 &
ppid_=$!
pids+=("$ppid_")
query() { # query EXPR: the value of its first sample, or nothing
  "$py" - "http://127.0.0.1:$pport/api/v1/query" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
u = sys.argv[1] + "?" + urllib.parse.urlencode({"query": sys.argv[2]})
r = json.load(urllib.request.urlopen(u, timeout=5))
res = r["data"]["result"]
if res:
    print(res[0]["value"][1])
PY
}
scraped() { [ "$(query 'up{job="bgpscribe"}')" = 1 ] && [ "$(query 'sum(bgpscribe_peer_up)')" = 4 ]; }
if wait_for 30 scraped; then
  echo "ok: Prometheus scraped the endpoint: up 1, sum(bgpscribe_peer_up) 4"
else
  fail "Prometheus did not scrape it: up=$(query 'up{job="bgpscribe"}'), $(tail -5 "$d/prometheus.log")"
fi
# Every query of the Grafana dashboard (docker/grafana) runs on that Prometheus: no error, and
# a result, so that no panel names a metric or label we do not have.
sleep 3  # a few more scrapes, so that rate() has two samples
"$py" - "http://127.0.0.1:$pport/api/v1/query" "$here/../../../docker/grafana/dashboards/bgpscribe.json" <<'PY' ||
import json, sys, urllib.parse, urllib.request
dash = json.load(open(sys.argv[2]))
bad = 0
n = 0
for p in dash["panels"]:
    for t in p.get("targets", []):
        expr = t["expr"].replace("$__rate_interval", "1m")
        u = sys.argv[1] + "?" + urllib.parse.urlencode({"query": expr})
        try:
            r = json.load(urllib.request.urlopen(u, timeout=5))
        except Exception as e:  # a 400 for a query Prometheus cannot parse
            r = {"status": "error", "error": str(e)}
        n += 1
        if r["status"] != "success" or not r["data"]["result"]:
            bad += 1
            print("FAIL: panel %r: %s: %s" % (p["title"], expr, r.get("error", "no result")))
if bad == 0:
    print("ok: the dashboard's %d queries all answer" % n)
sys.exit(1 if bad else 0)
PY
  fail "dashboard queries"
kill -TERM "$ppid_"
wait "$ppid_" 2>/dev/null

# ---- 4: the peers go ---------------------------------------------------------------------------
kill -TERM "$rpid"
wait "$rpid" 2>/dev/null
gone() { scrape >"$d/m2.txt" && ! grep -q '^bgpscribe_peer_up' "$d/m2.txt"; }
wait_for 20 gone || fail "sessions still up after the replay stopped"
changes=$(awk '/^bgpscribe_state_changes_total/ {print $NF}' "$d/m2.txt")
before=$(awk '/^bgpscribe_state_changes_total/ {print $NF}' "$d/m1.txt")
# Dynamic peers are removed when their session ends: their series go, the collector's count stays.
if [ $((changes - before)) -ge 4 ] && ! grep -q '^bgpscribe_peer_up' "$d/m2.txt"; then
  echo "ok: the four sessions' ends counted ($before -> $changes state changes), their series gone"
else
  fail "after the peers went: state changes $before -> $changes, $(grep -c '^bgpscribe_peer_up' "$d/m2.txt") peer_up lines"
fi

# ---- 5: other paths and methods ----------------------------------------------------------------
"$py" - "127.0.0.1" "$mport" <<'PY' || fail "paths and methods"
import http.client, sys
def ask(method, path):
    c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=5)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    return r.status, dict(r.getheaders()), body
s, h, b = ask("GET", "/nothing")
assert s == 404, s
s, h, b = ask("POST", "/metrics")
assert s == 405 and h.get("Allow") == "GET, HEAD", (s, h)
s, h, b = ask("HEAD", "/metrics")
assert s == 200 and b == b"" and int(h["Content-Length"]) > 0, (s, h)
assert h["Content-Type"].startswith("text/plain; version=0.0.4"), h
print("ok: 404 for another path, 405 for POST, HEAD without a body")
PY
stop_collector

# ---- 7: the log, JSON lines ---------------------------------------------------------------------
"$py" - "$d/collector.log" <<'PY' || fail "the JSON log: $(tail -5 "$d/collector.log")"
import json, re, sys
lines = [json.loads(text) for text in open(sys.argv[1])]  # each line parses alone
stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
for l in lines:
    assert stamp.match(l["time"]) and l["level"] in ("debug", "info", "warning", "error"), l
    assert isinstance(l["source"], str) and isinstance(l["msg"], str), l
refused = [l for l in lines if l.get("address") == "127.0.0.9" and "refused" in l["msg"]]
assert refused and refused[0]["level"] == "warning", refused
assert refused[0]["reason"] == "no peer or dynamic range matches the address", refused
ups = [l for l in lines if l["source"] == "peer" and l["msg"] == "up"]
assert len(ups) == 4, ups
for l in ups:
    assert l["peer_as"] > 0 and l["address"].startswith("127.0.0.") and l["peer"], l
print("ok: %d JSON log lines; the refused connection: %r; 4 'up' lines with peer fields, e.g. %s"
      % (len(lines), refused[0]["msg"], json.dumps(ups[0])))
PY

# ---- 6: a taken port ---------------------------------------------------------------------------
"$py" -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(30)' "$mport" &
hold=$!
pids+=("$hold")
sleep 0.5
timeout 20 "$bin" run -c "$d/c.yaml" >"$d/taken.log" 2>&1
rc=$?
kill "$hold" 2>/dev/null
if [ $rc -eq 1 ] && grep -q "cannot listen for metrics on 127.0.0.1:$mport" "$d/taken.log"; then
  echo "ok: a taken metrics port stops the start, naming it"
else
  fail "taken metrics port: exit $rc, $(tail -3 "$d/taken.log")"
fi

if [ $failures -gt 0 ]; then
  echo "--- run.log"; tail -20 "$d/run.log"
  echo "--- collector.log"; tail -20 "$d/collector.log"
  echo "FAILED ($failures)"
  exit 1
fi
echo "PASS"
