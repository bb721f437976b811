#!/usr/bin/env bash
# Interop: ADD-PATH from GoBGP. Every 10th prefix is added twice with `identifier 1` and
# `identifier 2` (different attributes); the neighbors have add-paths send-max = 8, the monitor
# peers say `addpath`. Sessions as in gobgp.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$INTEROP_DIR/gobgp_lib.sh"

AS=$GOBGP_AS
P4=127.0.0.4
P6=::1
MONPORT=$(free_port)
PORT=$(free_port)
ROUTES=$T/routes

gen_routes gobgp "$ROUTES" --as "$AS" --nh4 192.0.2.4 --nh6 fd00:1ab::4 --peer "$P4" --peer "$P6" \
  --v4 "${N4:-400}" --v6 "${N6:-200}" --dual-mod 10
source "$ROUTES/counts"
gobgp_render "$T/gobgpd.toml" PORT="$PORT" MONPORT="$MONPORT" \
  AFI_SAFIS="$(gobgp_afi_safis $'    [neighbors.afi-safis.add-paths.config]\n      send-max = 8')"

start_monitor --listen "127.0.0.1:$MONPORT" --listen "[::1]:$MONPORT" --connect-retry 2 \
  --peer "$P4,$AS,addpath" --peer "$P6,$AS,active,port=$PORT,addpath"
gobgp_start gobgp "$T/gobgpd.toml"
gobgp_load "$ROUTES/add.txt"
gobgp_ neighbor 127.0.0.1 enable >/dev/null
gobgp_ neighbor ::1 enable >/dev/null

NO_EOR=1
wait_established "$P4"
wait_established "$P6"
check_addpath 0 "$P4"
check_addpath 0 "$P6"

stop_bg gobgp
pass
