#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Interop: ADD-PATH sessions from GoBGP archived by `bgpscribe run` (issue #4).
# Every 10th prefix is added to gobgpd twice (`gobgp global rib add ... identifier 1|2`, other
# attributes). Three sessions to the collector, each carrying IPv4 and IPv6 unicast: 127.0.0.4
# (connects to 127.0.0.1) and ::1 (the collector connects to gobgpd) with add-paths send-max 8
# and collector peers with `add_path: [ipv4-unicast, ipv6-unicast]`; 127.0.0.14 (connects to
# 127.0.0.11) without ADD-PATH (best paths only).
# Once the routes settled: RIB dump 1 (SIGUSR1); gobgpd deletes identifier 1 of the prefixes
# with two paths (the best path: the plain session gets the other one); RIB dump 2; gobgpd
# disables the neighbors (Cease); the collector stops (SIGTERM). Then collector_mrt.py check
# asserts on the archive (BGP4MP_ET and BGP4MP update files, both dumps): ADDPATH subtypes
# exactly for the UPDATEs and RIB entries of the ADD-PATH sessions, plain ones for
# OPEN/KEEPALIVE/NOTIFICATION and for 127.0.0.14; the dumps equal `gobgp neighbor X adj-out`,
# path ids included (its ID column is the id gobgpd sends); withdrawals by path id; bgpdump
# reads it all.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/gobgp_lib.sh"
need bgpdump
BGPSCRIBE=${BGPSCRIBE:-$REPO_ROOT/build/ci/tools/bgpscribe}
case $BGPSCRIBE in /*) ;; *) BGPSCRIBE=$REPO_ROOT/$BGPSCRIBE ;; esac
need "$BGPSCRIBE"
CHECK=$INTEROP_DIR/collector_mrt.py

AS=$GOBGP_AS
AP4=127.0.0.4
AP6=::1
PL4=127.0.0.14
MONPORT=$(free_port)
PORT=$(free_port)
ROUTES=$T/routes

gen_routes gobgp "$ROUTES" --as "$AS" --nh4 192.0.2.4 --nh6 fd00:1ab::4 \
  --peer "$AP4" --peer "$AP6" --peer "$PL4" --v4 "${N4:-400}" --v6 "${N6:-200}" --dual-mod 10
# shellcheck source=/dev/null
source "$ROUTES/counts"
# phase 2: delete identifier 1 (the best path) of every prefix that has two
awk '$0 ~ / identifier 2 / { print $1, $2, $3, $4, "del", $6, "identifier", 1 }' \
  "$ROUTES/add.txt" >"$T/del.txt"
render "$INTEROP_DIR/conf/collector_gobgp.toml.in" "$T/gobgpd.toml" AS="$AS" MONAS="$MON_AS" \
  PORT="$PORT" MONPORT="$MONPORT" AFI_SAFIS="$(gobgp_afi_safis)" \
  AFI_SAFIS_ADDPATH="$(gobgp_afi_safis $'    [neighbors.afi-safis.add-paths.config]
      send-max = 8')"
ap="add_path: [ipv4-unicast, ipv6-unicast]"
render "$INTEROP_DIR/conf/collector.yaml.in" "$T/c.yaml" RUN="$T" MONAS="$MON_AS" \
  LISTEN="\"127.0.0.1:$MONPORT\", \"[::1]:$MONPORT\", \"127.0.0.11:$MONPORT\"" \
  PEERS="  - {address: $AP4, as: $AS, $ap}
  - {address: '$AP6', as: $AS, $ap, passive: false, port: $PORT}
  - {address: $PL4, as: $AS}"

# rib_dump N: SIGUSR1, waits for the finished dump and moves it to $T/ribN.gz.
rib_dump() {
  kill -USR1 "${PIDS[collector]}"
  wait_for "compgen -G '$T/mrt-et/bview.*.gz'" "$WAIT" "RIB dump $1"
  mv "$(compgen -G "$T/mrt-et/bview.*.gz")" "$T/rib$1.gz"
  log "RIB dump $1 written"
}
# exported PHASE: what gobgpd says each neighbor was sent (`neighbor X adj-out`), as expected
# route lines (routes.py format; path id from the ID column on ADD-PATH sessions, `-` on the
# plain one) in $T/expPHASE.txt.
exported() {
  local nbr peer plain fam
  : >"$T/exp$1.txt"
  for nbr in 127.0.0.1 ::1 127.0.0.11; do
    case $nbr in
      127.0.0.1) peer=$AP4 plain=0 ;;
      ::1) peer=$AP6 plain=0 ;;
      *) peer=$PL4 plain=1 ;;
    esac
    for fam in ipv4 ipv6; do
      gobgp_ neighbor "$nbr" adj-out -a "$fam"
    done >"$T/adj-out-${peer//:/_}-$1.txt"
    # `   ID  Network  Next Hop  AS_PATH  Attrs`: the generated line of that prefix whose AS
    # path is this one (the two paths of a prefix differ in length)
    awk -v plain="$plain" -v ef="$(expect_file expected "$peer")" \
      -v df="$(expect_file dual "$peer")" '
      BEGIN { FS = OFS = "|"
              while ((getline l < ef) > 0) { split(l, f); main[f[4]] = l; mpath[f[4]] = f[6] }
              while ((getline l < df) > 0) { split(l, f); dual[f[4]] = l; dpath[f[4]] = f[6] } }
      /^ *[0-9]+ / && !match($0, /^ *[0-9]+ +[^ ]+ +[^ ]+ +[0-9][0-9 {},]* +\[/) {
        print "cannot read: " $0 > "/dev/stderr"; exit 1 }
      match($0, /^ *[0-9]+ +[^ ]+ +[^ ]+ +[0-9][0-9 {},]* +\[/) {
        split($0, w, " "); id = w[1]; pfx = w[2]
        path = substr($0, RSTART, RLENGTH - 1); sub(/^ *[0-9]+ +[^ ]+ +[^ ]+ +/, "", path)
        sub(/ +$/, "", path)
        if (pfx in dual && dpath[pfx] == path) l = dual[pfx]
        else if (pfx in main && (!(pfx in dual) || mpath[pfx] == path)) l = main[pfx]
        else { print "no generated route for " pfx " " path > "/dev/stderr"; exit 1 }
        split(l, f, "|"); f[5] = plain ? "-" : id; l = f[1]
        for (i = 2; i <= length(f); i++) l = l OFS f[i]
        print l }' "$T/adj-out-${peer//:/_}-$1.txt" >>"$T/exp$1.txt" ||
      fail "cannot map gobgp neighbor $nbr adj-out to generated routes"
  done
  log "gobgpd adj-out ($1): $(grep -c "|$AP4|" "$T/exp$1.txt") paths to $AP4," \
    "$(grep -c "|$AP6|" "$T/exp$1.txt") to $AP6, $(grep -c "|$PL4|" "$T/exp$1.txt") to $PL4"
}

start_bg collector "$BGPSCRIBE" run -c "$T/c.yaml"
wait_for "[[ -s $T/state/status.json ]]" 20 "collector status.json"
gobgp_start gobgp "$T/gobgpd.toml"
gobgp_load "$ROUTES/add.txt"
for nbr in 127.0.0.1 ::1 127.0.0.11; do
  gobgp_ neighbor "$nbr" enable >/dev/null
done

N=$((N4 + N6))
D=$((D4 + D6))
check "three sessions; $((N + D)) paths on each ADD-PATH session, $N on $PL4"
wait_col $((2 * (N + D) + N)) 3
exported 1
rib_dump 1

check "gobgpd deletes identifier 1 of the $D prefixes with two paths"
gobgp_load "$T/del.txt"
wait_col $((3 * N)) 3
exported 2
rib_dump 2

check "gobgpd disables the neighbors (Cease), the collector stops on SIGTERM"
for nbr in 127.0.0.1 ::1 127.0.0.11; do
  gobgp_ neighbor "$nbr" disable >/dev/null
done
wait_col 0 0
stop_bg gobgp
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
