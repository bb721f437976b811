#!/usr/bin/env bash
# Interop: ADD-PATH from BIRD 2. Two static protocols hold different paths for every 10th
# prefix (s4/s6 and s4d/s6d); with `add paths tx` BIRD sends both, and the monitor peers say
# `addpath` (ADD-PATH receive for IPv4 and IPv6 unicast). Sessions as in bird.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need bird birdc

AS=4200000002
P4=127.0.0.2
P6=::1
MONPORT=$(free_port)
PORT4=$(free_port)
PORT6=$(free_port)
ROUTES=$T/routes

gen_routes bird "$ROUTES" --as "$AS" --nh4 192.0.2.2 --nh6 fd00:1ab::2 --peer "$P4" --peer "$P6" \
  --v4 "${N4:-400}" --v6 "${N6:-200}" --dual-mod 10
source "$ROUTES/counts"
render "$INTEROP_DIR/conf/bird.conf.in" "$T/bird.conf" RUN="$T" ROUTES="$ROUTES/routes.conf" AS="$AS" \
  MONAS="$MON_AS" NEIGHBOR4=127.0.0.1 MONPORT="$MONPORT" PORT4="$PORT4" PORT6="$PORT6" GR= \
  BGP_EXTRA= PASSWORD= CH_EXTRA="add paths tx;"
bird -p -c "$T/bird.conf" || fail "bird config does not parse"

start_monitor --listen "127.0.0.1:$MONPORT" --listen "[::1]:$MONPORT" --connect-retry 2 \
  --peer "$P4,$AS,addpath" --peer "$P6,$AS,active,port=$PORT6,addpath"
start_bg bird bird -f -c "$T/bird.conf" -s "$T/bird.ctl" -P "$T/bird.pid"

wait_established "$P4"
wait_established "$P6"
check_addpath 0 "$P4"
check_addpath 0 "$P6"

log "== withdrawing the second paths (birdc disable s4d s6d) leaves one path per prefix"
m=$(mark)
birdc -s "$T/bird.ctl" disable s4d >/dev/null
birdc -s "$T/bird.ctl" disable s6d >/dev/null
for p in "$P4" "$P6"; do
  wait_for "[[ \$(since_count $m W $p) -ge $((D4 + D6)) ]]" "$WAIT" "$((D4 + D6)) W lines from $p"
  sleep 1
  n=$(since_count "$m" W "$p")
  [[ $n == $((D4 + D6)) ]] || fail "$p: $n withdrawals, expected $((D4 + D6))"
  # each withdrawn (prefix, path_id) is one that the dual set announced, and not path id of the
  # path that stays
  since 0 A "$p" | awk -F'|' '{print $4 "|" $5}' | LC_ALL=C sort >"$T/ann.txt"
  since "$m" W "$p" | awk -F'|' '{print $4 "|" $5}' | LC_ALL=C sort >"$T/wd.txt"
  missing=$(LC_ALL=C comm -13 "$T/ann.txt" "$T/wd.txt" | wc -l)
  [[ $missing == 0 ]] || fail "$p: $missing withdrawals of (prefix, path_id) never announced"
  dual_pfx=$(cut -d'|' -f4 "$(expect_file dual "$p")" | LC_ALL=C sort)
  [[ $(cut -d'|' -f1 "$T/wd.txt") == "$dual_pfx" ]] || fail "$p: withdrawn prefixes are not the dual set"
  log "ok: $p: $n withdrawals with the path ids of the second paths"
done

stop_bg bird
pass
