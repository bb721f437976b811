# Helpers for the interop tests: source it from a test script (bash, set -euo pipefail).
#
# Each test gets its own folder $T under ${TMPDIR:-/tmp}, removed at exit (kept when
# KEEP=1 or when the test fails and KEEP_ON_FAIL=1). Every process is started by start_bg,
# which records its PID; the exit trap stops exactly those PIDs (TERM, bounded wait, KILL).
# Nothing here uses pkill/killall or touches processes it did not start.

INTEROP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$INTEROP_DIR/../.." && pwd)
PY=/usr/bin/python3
MONITOR=${MONITOR:-$REPO_ROOT/build/ci/examples/bgpscribe-monitor}
case $MONITOR in /*) ;; *) MONITOR=$REPO_ROOT/$MONITOR ;; esac
WAIT=${WAIT:-60}                  # default bound for every wait, seconds
MON_AS=4200000001
MON_ID=127.0.0.1

T=$(mktemp -d "${TMPDIR:-/tmp}/bgpscribe-interop.XXXXXX")
: >"$T/mon.out"
declare -A PIDS=()                # name -> pid
TEST_NAME=$(basename "$0" .sh)
TEST_START=$(date +%s)
MON_FD=

log() { printf '[%s %5ss] %s\n' "$TEST_NAME" "$(($(date +%s) - TEST_START))" "$*"; }
check() { log "CHECK: $*"; }

fail() {
  log "FAIL: $*"
  dump_logs
  exit 1
}

# Last lines of every log in $T, to explain a failure.
dump_logs() {
  local f
  for f in "$T"/*.log "$T"/mon.out "$T"/mon.err; do
    [[ -s $f ]] || continue
    echo "----- tail of $f" >&2
    tail -n "${LOG_TAIL:-25}" "$f" >&2
  done
}

# stop_pid PID [GRACE_SECONDS]: TERM, wait up to GRACE (default 10 s), then KILL. Returns once
# the process is gone (reaped if it is our child).
stop_pid() {
  local pid=$1 grace=${2:-10} i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid did not exit after TERM in ${grace}s: KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# start_bg NAME CMD...: runs CMD in the background, output in $T/NAME.log, records the PID.
start_bg() {
  local name=$1
  shift
  : >"$T/$name.log"  # emptied before the fork: a check right after a restart reads no old lines
  "$@" >>"$T/$name.log" 2>&1 &
  PIDS[$name]=$!
  log "started $name (pid ${PIDS[$name]}): $*"
}

# stop_bg NAME [GRACE]: stops a process started by start_bg.
stop_bg() {
  local name=$1 pid=${PIDS[$1]:-}
  [[ -n $pid ]] || return 0
  stop_pid "$pid" "${2:-10}"
  unset "PIDS[$name]"
  log "stopped $name"
}

# kill9_bg NAME: SIGKILL (for graceful restart tests).
kill9_bg() {
  local name=$1 pid=${PIDS[$1]:-}
  [[ -n $pid ]] || return 0
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "PIDS[$name]"
  log "killed -9 $name (pid $pid)"
}

running() { [[ -n ${PIDS[$1]:-} ]] && kill -0 "${PIDS[$1]}" 2>/dev/null; }

cleanup() {
  local rc=$? name
  trap - EXIT INT TERM
  if [[ -n $MON_FD ]]; then
    echo quit >&"$MON_FD" 2>/dev/null || true
    sleep 0.2
  fi
  for name in "${!PIDS[@]}"; do
    stop_pid "${PIDS[$name]}" 5
  done
  [[ -n $MON_FD ]] && eval "exec $MON_FD>&-" 2>/dev/null || true
  if [[ ${KEEP:-0} == 1 || ($rc != 0 && ${KEEP_ON_FAIL:-0} == 1) ]]; then
    echo "kept test folder $T" >&2
  else
    rm -rf "$T"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for CMD TIMEOUT [WHAT]: polls the shell command CMD (eval'd) every 0.2 s until it
# succeeds; fails the test after TIMEOUT seconds.
wait_for() {
  local cmd=$1 timeout=${2:-$WAIT} what=${3:-$1} deadline
  deadline=$(($(date +%s) + timeout))
  until eval "$cmd" >/dev/null 2>&1; do
    if (($(date +%s) >= deadline)); then
      fail "timed out after ${timeout}s waiting for: $what"
    fi
    sleep 0.2
  done
}

# never_for CMD SECONDS [WHAT]: fails if CMD succeeds at any poll during SECONDS.
never_for() {
  local cmd=$1 secs=$2 what=${3:-$1} deadline
  deadline=$(($(date +%s) + secs))
  while (($(date +%s) < deadline)); do
    if eval "$cmd" >/dev/null 2>&1; then
      fail "unexpected: $what"
    fi
    sleep 0.5
  done
}

# free_port: a TCP port that nothing listens on at 127.0.0.1 nor [::1] right now (below the
# ephemeral range: scripts/free-port says why).
free_port() {
  "$INTEROP_DIR/../../scripts/free-port"
}

# render TEMPLATE OUT KEY=VALUE...: copies TEMPLATE to OUT replacing each @KEY@ by VALUE (the
# last value given for a KEY wins).
render() {
  local in=$1 out=$2
  shift 2
  "$PY" - "$in" "$out" "$@" <<'EOF'
import sys
src, dst, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
text = open(src).read()
values = {}
for kv in pairs:            # a later KEY=VALUE overrides an earlier one
    k, _, v = kv.partition("=")
    values[k] = v
for k, v in values.items():
    text = text.replace("@" + k + "@", v)
if "@" in text:
    import re
    left = sorted(set(re.findall(r"@[A-Z0-9_]+@", text)) - {"@NAME@"})
    if left:
        sys.exit("render: unreplaced placeholders in %s: %s" % (src, " ".join(left)))
open(dst, "w").write(text)
EOF
}

# need PROGRAM...: exits 77 (skipped, for ctest) when one is not installed.
need() {
  local c
  for c in "$@"; do
    if ! command -v "$c" >/dev/null 2>&1 && [[ ! -x $c ]]; then
      log "SKIP: $c is not installed"
      exit 77
    fi
  done
}

# ---- the monitor under test -------------------------------------------------------------
# start_monitor ARGS...: starts $MONITOR with a fifo on stdin (fd kept open by this shell),
# stdout in $T/mon.out, stderr in $T/mon.err.
start_monitor() {
  [[ -x $MONITOR ]] || fail "monitor binary not found or not executable: $MONITOR (set MONITOR=)"
  rm -f "$T/mon.in"
  mkfifo "$T/mon.in"
  exec {MON_FD}<>"$T/mon.in"
  "$MONITOR" --local-as "$MON_AS" --router-id "$MON_ID" "$@" <"$T/mon.in" >>"$T/mon.out" 2>>"$T/mon.err" &
  PIDS[monitor]=$!
  log "started monitor (pid ${PIDS[monitor]}): $MONITOR $*"
}

stop_monitor() {
  if [[ -n $MON_FD ]]; then
    echo quit >&"$MON_FD" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
      running monitor || break
      sleep 0.1
    done
  fi
  stop_bg monitor 5
  [[ -n $MON_FD ]] && eval "exec $MON_FD>&-"
  MON_FD=
}

# mon_cmd LINE: writes one command line to the monitor's stdin.
mon_cmd() {
  log "monitor <- $*"
  printf '%s\n' "$*" >&"$MON_FD"
}

# mon_lines TYPE [PEER]: the monitor's lines of that type (for that peer), time field removed.
mon_lines() {
  awk -F'|' -v t="$1" -v p="${2:-}" 'BEGIN{OFS="|"} $1==t && (p=="" || $3==p) {
      $2=""; sub(/\|\|/, "|"); print }' "$T/mon.out"
}

# mon_count TYPE [PEER] [EXTRA_AWK_CONDITION]
mon_count() {
  awk -F'|' -v t="$1" -v p="${2:-}" '$1==t && (p=="" || $3==p) {n++} END{print n+0}' "$T/mon.out"
}

# mon_has REGEX: an (extended) regex matches a line of mon.out.
mon_has() { grep -Eq -- "$1" "$T/mon.out"; }

# mon_count_re REGEX
mon_count_re() { grep -Ec -- "$1" "$T/mon.out" || true; }

# field F of the last line matching REGEX
mon_last_field() { grep -E -- "$1" "$T/mon.out" | tail -n1 | cut -d'|' -f"$2"; }

# wait_established PEER [TIMEOUT] [MIN_COUNT]: waits for the MIN_COUNT-th ESTABLISHED line of
# PEER (default: one more than there were lines before, given by a previous mark_established).
wait_established() {
  local peer=$1 timeout=${2:-$WAIT} n=${3:-1}
  wait_for "[[ \$(mon_count ESTABLISHED $peer) -ge $n ]]" "$timeout" "ESTABLISHED #$n from $peer"
  log "ESTABLISHED $peer: $(grep -E "^ESTABLISHED\|[^|]*\|$peer\|" "$T/mon.out" | tail -n1 | cut -d'|' -f3-)"
}

# line_re TYPE PEER REST: a regex for mon.out lines: TYPE|time|PEER|REST (REST is a regex)
line_re() {
  local peer_re=${2//./\\.}
  echo "^$1\|[0-9.]+\|${peer_re}\|$3"
}

# wait_eor PEER FAMILY [TIMEOUT] [MIN_COUNT]
wait_eor() {
  local peer=$1 fam=$2 timeout=${3:-$WAIT} n=${4:-1}
  local re
  re=$(line_re EOR "$peer" "[0-9]+\|$fam\$")
  wait_for "[[ \$(mon_count_re '$re') -ge $n ]]" "$timeout" "EOR #$n $fam from $peer"
}

# a_current PEER: the A lines of PEER (time removed), sorted.
a_current() { mon_lines A "$1" | LC_ALL=C sort; }

# compare_sorted EXPECTED_FILE ACTUAL_FILE WHAT: exact comparison of sorted files.
compare_sorted() {
  local exp=$1 act=$2 what=$3
  LC_ALL=C sort "$exp" >"$exp.sorted"
  LC_ALL=C sort "$act" >"$act.sorted"
  if ! cmp -s "$exp.sorted" "$act.sorted"; then
    log "MISMATCH $what: expected $(wc -l <"$exp.sorted") lines, got $(wc -l <"$act.sorted")"
    diff "$exp.sorted" "$act.sorted" | head -n 20 >&2 || true
    fail "$what differs from $exp"
  fi
  log "ok: $what: $(wc -l <"$act.sorted") lines match exactly"
}

# gen_routes ARGS...: runs routes.py.
gen_routes() { "$PY" "$INTEROP_DIR/routes.py" "$@"; }

# ---- the collector daemon (collector_*.sh) ------------------------------------------------
# col_is ROUTES ESTABLISHED: the collector's $T/state/status.json says so and its exporters are
# idle (the last status read is kept in status.log, shown on failure).
col_is() {
  echo "routes, established, exporters idle: $("$PY" "$INTEROP_DIR/collector_mrt.py" status \
    "$T/state/status.json" 2>&1)" >"$T/status.log"
  [[ $(cat "$T/status.log") == *": $1 $2 1" ]]
}
# wait_col ROUTES ESTABLISHED: until col_is holds twice, 1.5 s apart.
wait_col() {
  wait_for "col_is $1 $2 && sleep 1.5 && col_is $1 $2" "$WAIT" \
    "collector: $1 routes, $2 sessions established, exporters idle"
  log "collector: $1 routes, $2 sessions established, exporters idle"
}

pass() {
  log "PASS ($(($(date +%s) - TEST_START)) s)"
  echo PASS
}

# ---- common test steps ------------------------------------------------------------------
# mark: the current number of lines of mon.out (for since/wait_since).
mark() { wc -l <"$T/mon.out" | tr -d ' '; }

# since MARK TYPE [PEER]: lines after MARK of that type (and peer), time field removed.
since() {
  tail -n +"$(($1 + 1))" "$T/mon.out" | awk -F'|' -v t="$2" -v p="${3:-}" 'BEGIN{OFS="|"}
      $1==t && (p=="" || $3==p) { $2=""; sub(/\|\|/, "|"); print }'
}
since_count() { since "$@" | wc -l | tr -d ' '; }

# expect_file KIND PEER: path of the generated file (expected, kept, withdrawn, dual) for PEER.
expect_file() { echo "$ROUTES/$1-${2//:/_}.txt"; }

# wait_routes MARK PEER COUNT: waits until COUNT A lines of PEER arrived after MARK, then waits
# SETTLE seconds (default 2) more and checks that no more arrived.
wait_routes() {
  local m=$1 peer=$2 n=$3
  wait_for "[[ \$(since_count $m A $peer) -ge $n ]]" "$WAIT" "$n A lines from $peer (have \$(since_count $m A $peer))"
  sleep "${SETTLE:-2}"
  local got
  got=$(since_count "$m" A "$peer")
  [[ $got == "$n" ]] || fail "$peer: expected $n A lines, got $got"
}

# check_routes MARK PEER KIND: the A lines of PEER after MARK equal the generated KIND file.
check_routes() {
  local m=$1 peer=$2 kind=$3
  since "$m" A "$peer" >"$T/actual-${peer//:/_}-$kind.txt"
  compare_sorted "$(expect_file "$kind" "$peer")" "$T/actual-${peer//:/_}-$kind.txt" "A lines of $peer vs $kind routes"
}

# check_session MARK PEER N4 N6 KIND: after MARK, both EORs and N4+N6 A lines equal to KIND.
check_session() {
  local m=$1 peer=$2 n=$(($3 + $4)) kind=$5
  if [[ ${NO_EOR:-0} == 1 ]]; then
    check "$peer: $n routes equal to the $kind set (this peer sends no End-of-RIB)"
  else
    check "$peer: EOR ipv4/unicast and ipv6/unicast, $n routes equal to the $kind set"
    wait_for "[[ \$(since $m EOR $peer | grep -c 'ipv4/unicast\$') -ge 1 && \$(since $m EOR $peer | grep -c 'ipv6/unicast\$') -ge 1 ]]" \
      "$WAIT" "EOR for both families from $peer"
  fi
  wait_routes "$m" "$peer" "$n"
  check_routes "$m" "$peer" "$kind"
}

# check_withdrawn MARK PEER: the W lines of PEER after MARK equal the withdraw subset.
check_withdrawn() {
  local m=$1 peer=$2 exp n
  exp=$(expect_file withdrawn "$peer")
  n=$(wc -l <"$exp")
  check "$peer: $n withdrawals (W lines) for the withdrawn subset"
  wait_for "[[ \$(since_count $m W $peer) -ge $n ]]" "$WAIT" "$n W lines from $peer"
  sleep "${SETTLE:-2}"
  since "$m" W "$peer" >"$T/actual-w-${peer//:/_}.txt"
  compare_sorted "$exp" "$T/actual-w-${peer//:/_}.txt" "W lines of $peer"
}

# check_refresh PEER FAMILY COUNT: sends `refresh`, expects COUNT A lines again for FAMILY.
check_refresh() {
  local peer=$1 fam=$2 n=$3 m
  m=$(mark)
  mon_cmd "refresh $peer $fam"
  check_refresh_from "$m" "$peer" "$fam" "$n"
}

# check_refresh_from MARK PEER FAMILY COUNT: the second half of check_refresh, after the command.
check_refresh_from() {
  local m=$1 peer=$2 fam=$3 n=$4
  check "$peer: refresh $fam makes the peer re-send its $n $fam routes"
  wait_routes "$m" "$peer" "$n"
  local other
  other=$(since "$m" A "$peer" | awk -F'|' -v f="$fam" '(f=="ipv4/unicast") == ($4 ~ /:/)' | wc -l)
  [[ $other == 0 ]] || fail "$peer: refresh of $fam brought $other routes of the other family"
  # the re-sent routes are the same as the ones the peer holds
  since "$m" A "$peer" | LC_ALL=C sort >"$T/refresh.txt"
  LC_ALL=C sort "$(expect_file kept "$peer")" | awk -F'|' -v f="$fam" '(f=="ipv4/unicast") != ($4 ~ /:/)' >"$T/refresh.exp"
  compare_sorted "$T/refresh.exp" "$T/refresh.txt" "re-sent $fam routes of $peer"
}

# since_has MARK REGEX: a line after MARK matches the extended regex.
# (no grep -q: it would exit at the first match, tail would die of SIGPIPE, and pipefail
# would turn the match into a failure)
since_has() { tail -n +"$(($1 + 1))" "$T/mon.out" | grep -E -- "$2" >/dev/null; }

# wait_notification MARK PEER DIRECTION REST_REGEX: a NOTIFICATION line after MARK, e.g.
# wait_notification "$m" 127.0.0.2 received '6\|2\|text$'
wait_notification() {
  local m=$1 peer=$2 dir=$3 rest=$4 re
  re=$(line_re NOTIFICATION "$peer" "[0-9]+\|$dir\|$rest")
  wait_for "since_has $m '$re'" "$WAIT" "NOTIFICATION $dir from $peer matching $rest"
  log "ok: $(tail -n +"$((m + 1))" "$T/mon.out" | grep -E "$re" | tail -n1)"
}

# wait_down MARK PEER: after MARK, a STATE line of PEER leaving Established.
wait_down() {
  local m=$1 peer=$2 re
  re=$(line_re STATE "$peer" "[0-9]+\|Established\|")
  wait_for "since_has $m '$re'" "$WAIT" "$peer leaving Established"
}

# check_addpath MARK PEER: after MARK, PEER sent the expected routes plus the second paths
# (dual set) with ADD-PATH: every (prefix, path_id) is distinct, the D4+D6 dual prefixes have
# two paths, and the lines equal the generated ones (path_id compared only where the generator
# knows it, i.e. is not "?").
check_addpath() {
  local m=$1 peer=$2 exp dual n safe=${2//:/_}
  exp=$(expect_file expected "$peer")
  dual=$(expect_file dual "$peer")
  n=$(($(wc -l <"$exp") + $(wc -l <"$dual")))
  check "$peer: ADD-PATH: $n paths, $((D4 + D6)) prefixes with two distinct path ids"
  wait_routes "$m" "$peer" "$n"
  cat "$exp" "$dual" >"$T/addpath-exp-$safe.txt"
  if grep -q '^A|[^|]*|[^|]*|[^|]*|?|' "$T/addpath-exp-$safe.txt"; then
    since "$m" A "$peer" | awk -F'|' 'BEGIN{OFS="|"} {$5="?"; print}' >"$T/addpath-act-$safe.txt"
  else
    since "$m" A "$peer" >"$T/addpath-act-$safe.txt"
  fi
  compare_sorted "$T/addpath-exp-$safe.txt" "$T/addpath-act-$safe.txt" "ADD-PATH A lines of $peer"
  local stats
  stats=$(since "$m" A "$peer" | awk -F'|' '
      { k = $4 "|" $5; if (k in seen) dup++; seen[k] = 1; paths[$4]++; if ($5 == 0) zero++ }
      END { for (p in paths) if (paths[p] == 2) two++; else if (paths[p] > 2) more++
            printf "%d %d %d %d", dup, two, more, zero }')
  read -r dup two more zero <<<"$stats"
  [[ $dup == 0 ]] || fail "$peer: $dup repeated (prefix, path_id) pairs"
  [[ $more == 0 ]] || fail "$peer: $more prefixes with more than two paths"
  [[ $two == $((D4 + D6)) ]] || fail "$peer: $two prefixes with two paths, expected $((D4 + D6))"
  log "ok: $peer: $two prefixes with two distinct path ids, no repeated (prefix, path_id); path_id 0 on $zero paths"
}
