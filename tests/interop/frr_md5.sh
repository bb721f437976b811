#!/usr/bin/env bash
# Interop: TCP MD5 (RFC 2385) with FRR bgpd (`neighbor X password`), on the IPv4 session
# (bgpd connects) and the IPv6 session (the monitor connects). Right key: up; wrong or none:
# nothing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$INTEROP_DIR/frr_lib.sh"
source "$INTEROP_DIR/md5_steps.sh"

AS=$FRR_AS
P4=127.0.0.3
P6=::1
MONPORT=$(free_port)
PORT=$(free_port)
MON_PEER6_EXTRA="active,port=$PORT"
ROUTES=$T/routes
SECRET=interop-frr-md5

gen_routes frr "$ROUTES" --as "$AS" --nh4 192.0.2.3 --nh6 fd00:1ab::3 --peer "$P4" --peer "$P6" \
  --v4 "${N4:-100}" --v6 "${N6:-50}"
source "$ROUTES/counts"
frr_render "$T/bgpd.conf" MONPORT="$MONPORT" \
  NEIGHBOR_EXTRA=" neighbor 127.0.0.1 password $SECRET
 neighbor ::1 password $SECRET"
frr_start frr "$T/bgpd.conf" "$PORT"

md5_steps "$SECRET" $((N4 + N6))

stop_bg frr
pass
