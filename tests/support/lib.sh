# Shell helpers of the end-to-end test scripts (tests/examples, tests/install): a work folder
# removed at exit, processes run in the background and stopped by their PID at exit, and waits
# bounded by WAIT seconds (default 20). Set TEST_NAME, then source this file: it makes the work
# folder T (bgpscribe-TEST_NAME.XXXXXX under TMPDIR; KEEP=1 keeps it) and sets the EXIT trap.
#   log MESSAGE...        "[TEST_NAME  Ns] MESSAGE"
#   fail MESSAGE...       logs FAIL and the tails of $T/*.log, *.out and *.err; exits 1
#   start NAME CMD...     CMD in the background, stdout in $T/NAME.out, stderr in $T/NAME.err
#   stop NAME             TERM, up to 5 s, then KILL; reaps it
#   finish NAME           waits (bounded) for NAME to exit by itself; its exit status goes to RC
#   wait_for WHAT CMD...  polls CMD (output discarded) until it succeeds, at most WAIT seconds
# shellcheck shell=bash

: "${TEST_NAME:?set TEST_NAME before sourcing tests/support/lib.sh}"
WAIT=${WAIT:-20}
T=$(mktemp -d "${TMPDIR:-/tmp}/bgpscribe-$TEST_NAME.XXXXXX")
declare -A PIDS=()  # name -> pid
START=$SECONDS

log() { printf '[%s %3ss] %s\n' "$TEST_NAME" "$((SECONDS - START))" "$*"; }

fail() {
  log "FAIL: $*"
  local f
  for f in "$T"/*.log "$T"/*.out "$T"/*.err; do
    [[ -s $f ]] || continue
    echo "----- tail of $f" >&2
    tail -n 20 "$f" >&2
  done
  exit 1
}

# stop_pid PID: TERM, up to 5 s, then KILL; reaps it.
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? name
  trap - EXIT
  for name in "${!PIDS[@]}"; do
    stop_pid "${PIDS[$name]}"
  done
  if [[ ${KEEP:-0} == 1 ]]; then
    echo "kept $T" >&2
  else
    rm -rf "$T"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() {
  local name=$1
  shift
  # Emptied here, not by the child's redirection: that happens after the fork, so a check right
  # after a restart under the same name could still read the previous run's lines.
  : >"$T/$name.out"
  : >"$T/$name.err"
  "$@" </dev/null >>"$T/$name.out" 2>>"$T/$name.err" &
  PIDS[$name]=$!
}

stop() {
  stop_pid "${PIDS[$1]}"
  unset "PIDS[$1]"
}

finish() {
  local pid=${PIDS[$1]} deadline=$((SECONDS + WAIT))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "$1 did not exit within ${WAIT}s"
    sleep 0.1
  done
  RC=0
  wait "$pid" || RC=$?
  unset "PIDS[$1]"
}

wait_for() {
  local what=$1 deadline=$((SECONDS + WAIT))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "timed out after ${WAIT}s waiting for $what"
    sleep 0.1
  done
}
