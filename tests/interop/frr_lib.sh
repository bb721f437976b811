# FRR helpers shared by frr*.sh (sourced after lib.sh).
need /usr/lib/frr/bgpd vtysh
FRR_AS=${FRR_AS:-4200000003}

# frr_render OUT KEY=VALUE...: renders conf/frr.conf.in with the generated routes in $ROUTES
# (empty defaults for the *_EXTRA placeholders).
frr_render() {
  local out=$1
  shift
  render "$INTEROP_DIR/conf/frr.conf.in" "$out" RUN="$T" AS="$FRR_AS" MONAS="$MON_AS" \
    GLOBAL_EXTRA= BGP_EXTRA= NEIGHBOR_EXTRA= AF_EXTRA= \
    ROUTEMAPS="$(cat "$ROUTES/routemaps.conf" 2>/dev/null)" \
    NETWORKS4="$(cat "$ROUTES/networks4.conf" 2>/dev/null)" \
    NETWORKS6="$(cat "$ROUTES/networks6.conf" 2>/dev/null)" "$@"
}

# frr_start NAME CONF PORT [extra bgpd args]: bgpd listening on 127.0.0.3 and ::1 at PORT.
frr_start() {
  local name=$1 conf=$2 port=$3
  shift 3
  mkdir -p "$T/$name.vty"
  start_bg "$name" /usr/lib/frr/bgpd -S -Z -n -l 127.0.0.3 -l ::1 -p "$port" -f "$conf" \
    -i "$T/$name.pid" --vty_socket "$T/$name.vty" -P 0 "$@"
  wait_for "[[ -S $T/$name.vty/bgpd.vty ]]" 30 "bgpd vty socket"
}

# vty NAME CMD...: each argument one vtysh command line.
vty() {
  local name=$1 a=()
  shift
  for c in "$@"; do a+=(-c "$c"); done
  vtysh --vty_socket "$T/$name.vty" "${a[@]}"
}
