# Shell helpers of the collector's end-to-end tests (sourced; needs $bin, the bgpscribe
# binary, and `tmp_prefix`). Sets $tmp (removed on exit unless KEEP is set), kills every PID in
# `pids` on exit, counts failures in $failures.
tmp=$(mktemp -d "/tmp/${tmp_prefix:-bgpscribe-e2e}-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
# free_port: a free TCP port on loopback (scripts/free-port says why it is below the ephemeral
# range).
free_port_script=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../scripts" && pwd)/free-port
free_port() {
  "$free_port_script"
}
# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s.
wait_for() {
  local limit=$(($1 * 10)) i=0
  shift
  while ! "$@" 2>/dev/null; do
    i=$((i + 1))
    [ $i -ge $limit ] && return 1
    sleep 0.1
  done
}
status_field() { # status_field DIR KEY: first value of KEY in DIR/state/status.json
  /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1/state/status.json" "$2"
}
exporter_field() { # exporter_field DIR INDEX KEY
  /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["exporters"][int(sys.argv[2])][sys.argv[3]])' "$1/state/status.json" "$2" "$3"
}
established() { [ "$(status_field "$1" peers_established)" -ge "$2" ]; }
# quiet DIR: the collector's message count has not moved for a second.
quiet() {
  local a b
  a=$(status_field "$1" messages) || return 1
  sleep 1
  b=$(status_field "$1" messages) || return 1
  [ "$a" = "$b" ] && [ "$a" -gt 0 ]
}
# collector_yaml NAME PORT STATE_DIR STATUS_INTERVAL: the config's head every script shares: the
# collector on 127.0.0.1:PORT taking dynamic peers from 127.0.0.0/8 (the rest follows).
collector_yaml() {
  cat <<YAML
collector:
  name: $1
  local_as: 65000
  bgp_id: 192.0.2.1
  listen: ["127.0.0.1:$2"]
  state_directory: $3
  status_interval: $4
dynamic_peers:
  - range: 127.0.0.0/8
YAML
}

mrt_exporter_yaml() { # mrt_exporter_yaml DIR: an `exporters:` entry, uncompressed MRT into DIR/updates
  cat <<YAML
  - type: mrt
    name: mrt
    directory: $1
    preset: none
    compression: none
    updates_file: "updates"
YAML
}

start_collector() { # start_collector DIR: runs $1/c.yaml, sets $cpid
  rm -f "$1/state/status.json"
  "$bin" run -c "$1/c.yaml" >"$1/run.log" 2>&1 &
  cpid=$!
  pids+=("$cpid")
  wait_for 10 test -f "$1/state/status.json" || fail "collector in $1 did not start: $(cat "$1/run.log")"
}
stop_collector() { # stop_collector [SECONDS]: SIGTERM, wait at most SECONDS (30)
  local limit=${1:-30}
  kill -TERM "$cpid"
  local i=0
  while kill -0 "$cpid" 2>/dev/null && [ $i -lt $((limit * 10)) ]; do sleep 0.1; i=$((i + 1)); done
  if kill -0 "$cpid" 2>/dev/null; then
    fail "collector did not stop within $limit s of SIGTERM"
    kill -9 "$cpid"
  fi
  wait "$cpid"
  local rc=$?
  [ $rc -eq 0 ] || fail "collector exited with $rc after SIGTERM"
}
