# TCP MD5 checks shared by *_md5.sh (sourced after lib.sh). Needs P4, P6, AS, MONPORT, and
# MON_PEER6_EXTRA (how the monitor reaches the IPv6 peer, e.g. "active,port=N").

# md5_run SECRET WHAT: (re)starts the monitor with md5=SECRET on both peers.
md5_monitor() {
  running monitor && stop_monitor
  start_monitor --listen "127.0.0.1:$MONPORT" --listen "[::1]:$MONPORT" --connect-retry 2 \
    --peer "$P4,$AS,md5=$1" --peer "$P6,$AS,$MON_PEER6_EXTRA,md5=$1"
}

# md5_steps SECRET N: right key: both sessions come up and carry N routes; wrong key: no OPEN
# and no ESTABLISHED for 10 s (every side retries within 2 s: several attempts).
md5_steps() {
  local secret=$1 n=$2 m
  log "== the monitor with the right MD5 key"
  m=$(mark)
  md5_monitor "$secret"
  check "both sessions ESTABLISHED with TCP MD5, $n routes each"
  wait_established "$P4" "$WAIT" 1
  wait_established "$P6" "$WAIT" 1
  wait_routes "$m" "$P4" "$n"
  wait_routes "$m" "$P6" "$n"
  log "== the monitor with a wrong MD5 key"
  m=$(mark)
  md5_monitor "wrong-$secret"
  check "no OPEN and no ESTABLISHED for 10 s with a wrong key"
  never_for "since_has $m '^(OPEN|ESTABLISHED)\|'" 10 "a session came up with a wrong MD5 key"
  log "ok: nothing came up"
  log "== the monitor without MD5"
  m=$(mark)
  running monitor && stop_monitor
  start_monitor --listen "127.0.0.1:$MONPORT" --listen "[::1]:$MONPORT" --connect-retry 2 \
    --peer "$P4,$AS" --peer "$P6,$AS,$MON_PEER6_EXTRA"
  check "no OPEN and no ESTABLISHED for 8 s without a key"
  never_for "since_has $m '^(OPEN|ESTABLISHED)\|'" 8 "a session came up without MD5"
  log "ok: nothing came up"
  log "== the right key again"
  m=$(mark)
  md5_monitor "$secret"
  wait_for "since_has $m '$(line_re ESTABLISHED "$P4" "")'" "$WAIT" "ESTABLISHED from $P4"
  wait_for "since_has $m '$(line_re ESTABLISHED "$P6" "")'" "$WAIT" "ESTABLISHED from $P6"
  log "ok: both sessions up again"
}
