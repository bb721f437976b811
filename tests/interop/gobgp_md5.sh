#!/usr/bin/env bash
# Interop: TCP MD5 (RFC 2385) with GoBGP (`auth-password`), on the IPv4 session (gobgpd
# connects) and the IPv6 session (the monitor connects). Right key: up; wrong or none: nothing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$INTEROP_DIR/gobgp_lib.sh"
source "$INTEROP_DIR/md5_steps.sh"

AS=$GOBGP_AS
P4=127.0.0.4
P6=::1
MONPORT=$(free_port)
PORT=$(free_port)
MON_PEER6_EXTRA="active,port=$PORT"
ROUTES=$T/routes
SECRET=interop-gobgp-md5

gen_routes gobgp "$ROUTES" --as "$AS" --nh4 192.0.2.4 --nh6 fd00:1ab::4 --peer "$P4" --peer "$P6" \
  --v4 "${N4:-100}" --v6 "${N6:-50}"
source "$ROUTES/counts"
gobgp_render "$T/gobgpd.toml" PORT="$PORT" MONPORT="$MONPORT" \
  NEIGHBOR_EXTRA="    auth-password = \"$SECRET\""
gobgp_start gobgp "$T/gobgpd.toml"
gobgp_load "$ROUTES/add.txt"
gobgp_ neighbor 127.0.0.1 enable >/dev/null
gobgp_ neighbor ::1 enable >/dev/null

md5_steps "$SECRET" $((N4 + N6))

stop_bg gobgp
pass
