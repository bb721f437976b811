#!/usr/bin/env bash
# Interop: ADD-PATH from FRR bgpd (`addpath-tx-all-paths`). bgpd needs two paths per prefix:
# it learns them from an upstream BIRD (AS 4200000002, 127.0.0.2, `add paths tx`, two static
# protocols with different paths for every 10th prefix) and passes all of them on to the monitor
# (peers with `addpath`). Sessions to the monitor as in frr.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$INTEROP_DIR/frr_lib.sh"
need bird birdc

AS=$FRR_AS
BIRD_AS=4200000002
P4=127.0.0.3
P6=::1
MONPORT=$(free_port)
PORT=$(free_port)
ROUTES=$T/routes

# the routes are BIRD's; the monitor sees them through bgpd: path "FRR BIRD ...", bgpd's next
# hops, and no MED (bgpd does not pass an eBGP-learned MED on to another AS)
gen_routes bird "$ROUTES" --as "$BIRD_AS" --peer-as "$AS" --prepend "$AS $BIRD_AS" --strip-med \
  --nh4 192.0.2.3 --nh6 fd00:1ab::3 --peer "$P4" --peer "$P6" \
  --v4 "${N4:-400}" --v6 "${N6:-200}" --dual-mod 10
source "$ROUTES/counts"
render "$INTEROP_DIR/conf/bird.conf.in" "$T/bird.conf" RUN="$T" ROUTES="$ROUTES/routes.conf" \
  AS="$BIRD_AS" MONAS="$AS" NEIGHBOR4=127.0.0.3 MONPORT="$PORT" PORT4="$(free_port)" \
  PORT6="$(free_port)" GR= BGP_EXTRA= PASSWORD= CH_EXTRA="add paths tx;"
frr_render "$T/bgpd.conf" MONPORT="$MONPORT" \
  NEIGHBOR_EXTRA=" neighbor 127.0.0.2 remote-as $BIRD_AS
 neighbor 127.0.0.2 passive
 neighbor 127.0.0.2 disable-connected-check" \
  AF_EXTRA="  neighbor 127.0.0.2 activate
  neighbor 127.0.0.1 addpath-tx-all-paths
  neighbor ::1 addpath-tx-all-paths"

start_monitor --listen "127.0.0.1:$MONPORT" --listen "[::1]:$MONPORT" --connect-retry 2 \
  --peer "$P4,$AS,addpath" --peer "$P6,$AS,active,port=$PORT,addpath"
frr_start frr "$T/bgpd.conf" "$PORT"
start_bg bird bird -f -c "$T/bird.conf" -s "$T/bird.ctl" -P "$T/bird.pid"

NO_EOR=1
wait_established "$P4"
wait_established "$P6"
check_addpath 0 "$P4"
check_addpath 0 "$P6"

stop_bg bird
stop_bg frr
pass
