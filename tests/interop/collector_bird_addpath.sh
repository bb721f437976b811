#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Interop: ADD-PATH sessions from BIRD 2 archived by `bgpscribe run` (issue #4).
# BIRD holds two paths for every 10th prefix (static protocols s4/s6 and s4d/s6d) and has three
# sessions to the collector, each carrying IPv4 and IPv6 unicast: ap4 (BIRD 127.0.0.2 connects)
# and ap6 (the collector connects to BIRD on [::1]) with `add paths tx` and collector peers with
# `add_path: [ipv4-unicast, ipv6-unicast]`; pl4 (127.0.0.12) without ADD-PATH (best paths only).
# Once the routes settled: RIB dump 1 (SIGUSR1); BIRD withdraws the second paths (disable
# s4d s6d); RIB dump 2; BIRD closes every session (Cease); the collector stops (SIGTERM). Then
# collector_mrt.py check asserts on the archive (BGP4MP_ET and BGP4MP update files, both
# dumps): ADDPATH subtypes exactly for the UPDATEs and RIB entries of ap4/ap6, plain ones for
# OPEN/KEEPALIVE/NOTIFICATION and for pl4; the dumps equal what `birdc show route export` says
# each session exported, path ids as announced; withdrawals by path id; bgpdump reads it all.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need bird birdc bgpdump
BGPSCRIBE=${BGPSCRIBE:-$REPO_ROOT/build/ci/tools/bgpscribe}
case $BGPSCRIBE in /*) ;; *) BGPSCRIBE=$REPO_ROOT/$BGPSCRIBE ;; esac
need "$BGPSCRIBE"
CHECK=$INTEROP_DIR/collector_mrt.py

AS=4200000002
AP4=127.0.0.2
AP6=::1
PL4=127.0.0.12
MONPORT=$(free_port)
MONPORT2=$(free_port)
PORT4=$(free_port)
PORT6=$(free_port)
PORT4P=$(free_port)
ROUTES=$T/routes

gen_routes bird "$ROUTES" --as "$AS" --nh4 192.0.2.2 --nh6 fd00:1ab::2 \
  --peer "$AP4" --peer "$AP6" --peer "$PL4" --v4 "${N4:-400}" --v6 "${N6:-200}" --dual-mod 10
# shellcheck source=/dev/null
source "$ROUTES/counts"
# The second paths are preferred (s4d/s6d get preference 250): pl4 first exports them, then,
# once they are withdrawn, replaces them with the first paths.
sed -i -E '/^protocol static s[46]d \{/,/^\}/ s/^  (ipv[46]);$/  \1 { preference 250; };/' \
  "$ROUTES/routes.conf"
grep -q 'preference 250' "$ROUTES/routes.conf" || fail "routes.conf: cannot set the preference"
render "$INTEROP_DIR/conf/collector_bird.conf.in" "$T/bird.conf" RUN="$T" AS="$AS" \
  ROUTES="$ROUTES/routes.conf" MONAS="$MON_AS" MONPORT="$MONPORT" MONPORT2="$MONPORT2" \
  PORT4="$PORT4" PORT6="$PORT6" PORT4P="$PORT4P"
bird -p -c "$T/bird.conf" || fail "bird config does not parse"
ap="add_path: [ipv4-unicast, ipv6-unicast]"
render "$INTEROP_DIR/conf/collector.yaml.in" "$T/c.yaml" RUN="$T" MONAS="$MON_AS" \
  LISTEN="\"127.0.0.1:$MONPORT\", \"[::1]:$MONPORT\", \"127.0.0.1:$MONPORT2\"" \
  PEERS="  - {address: $AP4, as: $AS, $ap}
  - {address: '$AP6', as: $AS, $ap, passive: false, port: $PORT6}
  - {address: $PL4, as: $AS}"

# rib_dump N: SIGUSR1, waits for the finished dump and moves it to $T/ribN.gz.
rib_dump() {
  kill -USR1 "${PIDS[collector]}"
  wait_for "compgen -G '$T/mrt-et/bview.*.gz'" "$WAIT" "RIB dump $1"
  mv "$(compgen -G "$T/mrt-et/bview.*.gz")" "$T/rib$1.gz"
  log "RIB dump $1 written"
}
# exported PHASE: what BIRD says each session exports, as expected route lines (routes.py
# format, path id `?` on ADD-PATH sessions, `-` on pl4) in $T/expPHASE.txt.
exported() {
  local proto peer pid
  : >"$T/exp$1.txt"
  for proto in ap4 ap6 pl4; do
    case $proto in ap4) peer=$AP4 pid='?' ;; ap6) peer=$AP6 pid='?' ;; pl4) peer=$PL4 pid=- ;; esac
    for ch in ipv4 ipv6; do
      birdc -s "$T/bird.ctl" show route export "$proto.$ch"
    done >"$T/export-$proto-$1.txt"
    # `PREFIX blackhole [s4d ...` then `  blackhole [s4 ...` for the prefix's next path
    awk -v pid="$pid" -v ef="$(expect_file expected "$peer")" -v df="$(expect_file dual "$peer")" '
      BEGIN { FS = OFS = "|"
              while ((getline l < ef) > 0) { split(l, f, "|"); main[f[4]] = l }
              while ((getline l < df) > 0) { split(l, f, "|"); dual[f[4]] = l } }
      $0 ~ /^[0-9a-f:.]+\/[0-9]+ / { split($0, w, " "); pfx = w[1] }
      match($0, /\[[a-z0-9]+ /) {
        src = substr($0, RSTART + 1, RLENGTH - 2)
        l = (src ~ /d$/) ? dual[pfx] : main[pfx]
        if (l == "") { print "no generated route for " pfx " from " src > "/dev/stderr"; exit 1 }
        split(l, f, "|"); f[5] = pid; l = f[1]
        for (i = 2; i <= length(f); i++) l = l OFS f[i]
        print l }' "$T/export-$proto-$1.txt" >>"$T/exp$1.txt" ||
      fail "cannot map birdc show route export $proto to generated routes"
  done
  log "BIRD exports ($1): $(grep -c "|$AP4|" "$T/exp$1.txt") paths to $AP4," \
    "$(grep -c "|$AP6|" "$T/exp$1.txt") to $AP6, $(grep -c "|$PL4|" "$T/exp$1.txt") to $PL4"
}

start_bg collector "$BGPSCRIBE" run -c "$T/c.yaml"
wait_for "[[ -s $T/state/status.json ]]" 20 "collector status.json"
start_bg bird bird -f -c "$T/bird.conf" -s "$T/bird.ctl" -P "$T/bird.pid"

N=$((N4 + N6))
D=$((D4 + D6))
check "three sessions; $((N + D)) paths on each ADD-PATH session, $N on $PL4"
wait_col $((2 * (N + D) + N)) 3
exported 1
rib_dump 1

check "BIRD withdraws the $D second paths (disable s4d s6d)"
birdc -s "$T/bird.ctl" disable s4d >/dev/null
birdc -s "$T/bird.ctl" disable s6d >/dev/null
wait_col $((3 * N)) 3
exported 2
rib_dump 2

check "BIRD closes the sessions (Cease), the collector stops on SIGTERM"
for proto in ap4 ap6 pl4; do
  birdc -s "$T/bird.ctl" "disable $proto \"end of test\"" >/dev/null
done
wait_col 0 0
stop_bg bird
kill -TERM "${PIDS[collector]}"
wait_for "! kill -0 ${PIDS[collector]}" 30 "collector to exit after SIGTERM"
rc=0
wait "${PIDS[collector]}" || rc=$?
unset "PIDS[collector]"
[[ $rc == 0 ]] || fail "collector exited with status $rc after SIGTERM"

check "the archive (collector_mrt.py check)"
"$PY" "$CHECK" check --bin "$BGPSCRIBE" --updates "$T/mrt-et/updates.gz" \
  --classic "$T/mrt-classic/updates" --rib1 "$T/rib1.gz" --rib2 "$T/rib2.gz" \
  --exp1 "$T/exp1.txt" --exp2 "$T/exp2.txt" --addpath "$AP4" --addpath "$AP6" --plain "$PL4" \
  >"$T/check.out" 2>&1 || { cat "$T/check.out"; fail "the archive is not right (above)"; }
cat "$T/check.out"
pass
