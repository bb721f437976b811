# Graceful restart checks shared by *_gr.sh (sourced after lib.sh; FAMS lists the families).

# gr_expect_stale MARK PEER...: every PEER's session drops and each family goes stale.
gr_expect_stale() {
  local m=$1 p f
  shift
  for p in "$@"; do
    wait_down "$m" "$p"
    for f in $FAMS; do
      check "$p: GR stale $f"
      wait_for "since_has $m '$(line_re GR "$p" "[0-9]+\|stale\|$f\$")'" "$WAIT" "GR|stale|$f from $p"
    done
    local n
    n=$(since_count "$m" NOTIFICATION "$p")
    [[ $n == 0 ]] || fail "$p: a NOTIFICATION after the kill: not a graceful restart case"
    n=$(since_count "$m" W "$p")
    [[ $n == 0 ]] || fail "$p: $n withdrawals while the peer restarts"
  done
  log "ok: stale on all families, no withdrawals"
}

# gr_expect_recovered MARK PEER...: every PEER re-establishes and each family recovers
# (End-of-RIB received), without expiring.
gr_expect_recovered() {
  local m=$1 p f
  shift
  for p in "$@"; do
    wait_for "since_has $m '$(line_re ESTABLISHED "$p" "")'" "$WAIT" "ESTABLISHED again from $p"
    log "OPEN after restart: $(since "$m" OPEN "$p" | tail -n1)"
    for f in $FAMS; do
      check "$p: GR recovered $f"
      wait_for "since_has $m '$(line_re GR "$p" "[0-9]+\|(recovered|expired)\|$f\$")'" "$WAIT" \
        "GR|recovered|$f from $p${GR_HINT:+ ($GR_HINT)}"
      if since_has "$m" "$(line_re GR "$p" "[0-9]+\|expired\|$f\$")"; then
        fail "$p: GR expired for $f instead of recovering: $(since "$m" GR "$p" | tr '\n' ' ')"
      fi
    done
  done
  log "ok: recovered on all families"
}
