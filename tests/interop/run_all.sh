#!/usr/bin/env bash
# Runs the interop tests one after the other (never in parallel: they share loopback addresses)
# and ends with the line `N passed, N failed`. Arguments: test names (default: all), e.g.
#   tests/interop/run_all.sh bird frr_md5
# MONITOR=path selects the monitor binary (default build/ci/examples/bgpscribe-monitor).
# Logs: ${LOGDIR:-build/interop-logs}/NAME.log. A daemon that is not installed skips its tests.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
logdir=${LOGDIR:-$root/build/interop-logs}
mkdir -p "$logdir"
all=(bird frr gobgp exabgp bird_addpath frr_addpath gobgp_addpath exabgp_addpath
  bird_gr frr_gr gobgp_gr bird_md5 frr_md5 gobgp_md5
  collector_bird_addpath collector_gobgp_addpath collector_bmp_frr collector_bmp_gobgp)
tests=("$@")
[[ $# -gt 0 ]] || tests=("${all[@]}")
passed=0 failed=0 skipped=0
for t in "${tests[@]}"; do
  t=${t%.sh}
  case $t in
    bird*) bin=bird ;; frr*) bin=/usr/lib/frr/bgpd ;; gobgp*) bin=gobgpd ;; exabgp*) bin=exabgp ;;
    *) bin=true ;;
  esac
  if ! command -v "$bin" >/dev/null 2>&1; then
    echo "SKIP $t ($bin not installed)"
    skipped=$((skipped + 1))
    continue
  fi
  start=$(date +%s)
  if timeout 600 bash "$here/$t.sh" >"$logdir/$t.log" 2>&1; then
    echo "PASS $t ($(($(date +%s) - start)) s)"
    passed=$((passed + 1))
  else
    echo "FAIL $t ($(($(date +%s) - start)) s), log: $logdir/$t.log"
    grep -E 'FAIL:|MISMATCH' "$logdir/$t.log" | head -n 3 | sed 's/^/    /'
    failed=$((failed + 1))
  fi
done
line="$passed passed, $failed failed"
((skipped)) && line+=", $skipped skipped"
echo "$line"
((failed == 0))
