#!/usr/bin/env bash
# Interop: TCP MD5 (RFC 2385) with BIRD 2 (`password`), on the IPv4 session (BIRD connects)
# and the IPv6 session (the monitor connects). Right key: up; wrong key or none: nothing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$INTEROP_DIR/md5_steps.sh"
need bird birdc

AS=4200000002
P4=127.0.0.2
P6=::1
MONPORT=$(free_port)
PORT4=$(free_port)
PORT6=$(free_port)
MON_PEER6_EXTRA="active,port=$PORT6"
ROUTES=$T/routes
SECRET=interop-bird-md5

gen_routes bird "$ROUTES" --as "$AS" --nh4 192.0.2.2 --nh6 fd00:1ab::2 --peer "$P4" --peer "$P6" \
  --v4 "${N4:-100}" --v6 "${N6:-50}"
source "$ROUTES/counts"
render "$INTEROP_DIR/conf/bird.conf.in" "$T/bird.conf" RUN="$T" ROUTES="$ROUTES/routes.conf" AS="$AS" \
  MONAS="$MON_AS" NEIGHBOR4=127.0.0.1 MONPORT="$MONPORT" PORT4="$PORT4" PORT6="$PORT6" GR= \
  BGP_EXTRA= PASSWORD="password \"$SECRET\";" CH_EXTRA=
bird -p -c "$T/bird.conf" || fail "bird config does not parse"
start_bg bird bird -f -c "$T/bird.conf" -s "$T/bird.ctl" -P "$T/bird.pid"

md5_steps "$SECRET" $((N4 + N6))

stop_bg bird
pass
