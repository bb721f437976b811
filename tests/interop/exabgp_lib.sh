# ExaBGP helpers shared by exabgp*.sh (sourced after lib.sh).
need exabgp
EXA_AS=${EXA_AS:-4200000006}

# exabgp_setup ANNOUNCE_FILE: the feed process script and its command fifo.
exabgp_setup() {
  mkfifo "$T/exa.fifo"
  cat >"$T/feed.sh" <<EOS
# what ExaBGP reports to the process (neighbor changes, received NOTIFICATIONs) goes to a file
# (stdin through fd 3: sh gives a background job /dev/null as its stdin)
exec 3<&0
cat <&3 >"$T/exa-api-in.log" &
cat "$1"
# keep the API pipe open and pass on what the test writes to the fifo (opened read-write so
# that it never sees end of file)
exec cat 0<>"$T/exa.fifo"
EOS
}

# exabgp_start NAME CONF
exabgp_start() {
  start_bg "$1" env exabgp_daemon_daemonize=false exabgp_daemon_user=root exabgp_daemon_drop=false \
    exabgp_log_destination=stdout exabgp_log_level=${EXA_LOG_LEVEL:-INFO} exabgp_log_routes=false \
    exabgp_log_packets=false exabgp_tcp_bind= exabgp_api_cli=false exabgp_api_ack=false \
    exabgp_daemon_pid="$T/$1.pid" exabgp "$2"
}

# exa_api FILE|-: writes API lines to the running feed process
exa_api() {
  cat "$@" >"$T/exa.fifo"
}
