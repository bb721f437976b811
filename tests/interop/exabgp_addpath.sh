#!/usr/bin/env bash
# Interop: ADD-PATH from ExaBGP (`capability { add-path send; }`). Every 10th prefix is
# announced with path-information 1 and 2 (different attributes); ExaBGP sends the path ids
# verbatim, so they are compared exactly. Sessions as in exabgp.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$INTEROP_DIR/exabgp_lib.sh"

AS=$EXA_AS
P4=127.0.0.6
P6=::1
MONPORT=$(free_port)
ROUTES=$T/routes

gen_routes exabgp "$ROUTES" --as "$AS" --nh4 192.0.2.6 --nh6 fd00:1ab::6 --peer "$P4" --peer "$P6" \
  --v4 "${N4:-400}" --v6 "${N6:-200}" --dual-mod 10
source "$ROUTES/counts"
exabgp_setup "$ROUTES/announce.txt"
render "$INTEROP_DIR/conf/exabgp.conf.in" "$T/exabgp.conf" RUN="$T" AS="$AS" MONAS="$MON_AS" \
  MONPORT="$MONPORT" CAPS="add-path send;"

start_monitor --listen "127.0.0.1:$MONPORT" --listen "[::1]:$MONPORT" --connect-retry 2 \
  --peer "$P4,$AS,addpath" --peer "$P6,$AS,addpath"
exabgp_start exabgp "$T/exabgp.conf"

wait_established "$P4"
wait_established "$P6"
check_addpath 0 "$P4"
check_addpath 0 "$P6"

log "== withdraw path-information 1 of the withdraw subset"
m=$(mark)
exa_api "$ROUTES/withdraw.txt"
check_withdrawn "$m" "$P4"
check_withdrawn "$m" "$P6"

stop_bg exabgp
pass
