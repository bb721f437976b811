# GoBGP helpers shared by gobgp*.sh (sourced after lib.sh).
need gobgpd gobgp
GOBGP_AS=${GOBGP_AS:-4200000004}
GOBGP_API=$(free_port)

gobgp_() { gobgp -p "$GOBGP_API" "$@"; }

# afi_safis [EXTRA]: the two [[neighbors.afi-safis]] blocks, EXTRA (toml lines, with @AFI@
# standing for ipv4-unicast / ipv6-unicast) inside each.
gobgp_afi_safis() {
  local fam
  for fam in ipv4-unicast ipv6-unicast; do
    printf '  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "%s"\n' "$fam"
    [[ -n ${1:-} ]] && printf '%s\n' "${1//@AFI@/$fam}"
  done
  return 0
}

# gobgp_render OUT KEY=VALUE...
gobgp_render() {
  local out=$1
  shift
  render "$INTEROP_DIR/conf/gobgp.toml.in" "$out" AS="$GOBGP_AS" MONAS="$MON_AS" \
    GLOBAL_EXTRA= NEIGHBOR_EXTRA= AFI_SAFIS="$(gobgp_afi_safis)" "$@"
}

# gobgp_start NAME CONF
gobgp_start() {
  start_bg "$1" gobgpd -f "$2" --api-hosts "127.0.0.1:$GOBGP_API" --pprof-disable
  wait_for "gobgp_ global" 30 "gobgpd API on port $GOBGP_API"
}

# gobgp_load FILE: runs each line of FILE as `gobgp -p API LINE` (two at a time).
gobgp_load() {
  log "loading $(wc -l <"$1") paths into gobgpd"
  xargs -P 2 -L 1 gobgp -p "$GOBGP_API" <"$1" >"$T/gobgp-load.log" 2>&1 ||
    fail "gobgp rib add failed: $(head -n 3 "$T/gobgp-load.log")"
}

# gobgp_rib_count FAMILY: number of prefixes (destinations) in the global RIB
gobgp_rib_count() {
  gobgp_ global rib summary -a "$1" | sed -nE 's/.*Destination: *([0-9]+).*/\1/p'
}
