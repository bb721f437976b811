#!/usr/bin/env bash
# The example programs end to end over loopback:
#   a. injector -> monitor (eBGP): the monitor's A lines are exactly what the routes file says,
#      End-of-RIB per family, then a W line per route after --withdraw-after and a Cease;
#      and over iBGP with --repeat: LOCAL_PREF arrives, routes come back after the withdrawal.
#   b. injector -> relay -> monitor: the same routes with MED set, a community added and the
#      relay's AS prepended; updates queued while the monitor was down arrive; withdrawals,
#      End-of-RIB, and the withdrawal of everything when the injector goes away; a queue
#      overflow recovered with ROUTE-REFRESH.
#   c. bad routes files: exit status 2 and "FILE:LINE: message".
#
# Usage: examples_test.sh INJECT RELAY MONITOR (binaries; also BGPSCRIBE_INJECT, _RELAY,
# _MONITOR). Every wait is bounded by WAIT seconds (20); every process started here is stopped
# by its PID at exit. KEEP=1 keeps the work folder.
set -euo pipefail

INJECT=${1:-${BGPSCRIBE_INJECT:-}}
RELAY=${2:-${BGPSCRIBE_RELAY:-}}
MONITOR=${3:-${BGPSCRIBE_MONITOR:-}}
for b in "$INJECT" "$RELAY" "$MONITOR"; do
  [[ -x $b ]] || { echo "usage: $0 INJECT RELAY MONITOR (not executable: '$b')" >&2; exit 2; }
done

TEST_NAME=examples
# shellcheck source=../support/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/lib.sh"

# at_least N PATTERN FILE: at least N lines of FILE match the extended regex PATTERN.
at_least() { (($(grep -cE "$2" "$3" || true) >= $1)); }

# free_port ADDRESS: a port free on loopback now, ADDRESS included (scripts/free-port checks the
# wildcard address, which any loopback address in use blocks).
free_port_script=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../scripts" && pwd)/free-port
free_port() {
  "$free_port_script"
}

# Monitor A/W/EOR lines without the time field, sorted: "A|peer|peer_as|prefix|...".
lines_of() { grep -E "^$1\|[^|]*\|$2\|" "$3" | cut -d'|' -f1,3- | sort; }

same() {  # same WHAT EXPECTED_FILE ACTUAL_FILE
  diff -u "$2" "$3" >"$T/diff" || { cat "$T/diff" >&2; fail "$1 differ (expected vs monitor)"; }
  log "ok: $1 ($(wc -l <"$2") lines)"
}

MON=127.0.0.21      # monitor
INJ=127.0.0.22      # injector, eBGP to the monitor
INJ_I=127.0.0.24    # injector, iBGP to the monitor
RLY=127.0.0.23      # relay
INJ_R=127.0.0.25    # injector feeding the relay
MON2=127.0.0.26     # monitor behind the relay
MON_AS=65000
INJ_AS=4200000001
RLY_AS=65002

# ---- the routes file and what the monitor must print for it ---------------------------------
# 50 IPv4 and 50 IPv6 routes. Attributes vary with i (4-octet ASNs, origins, MED, communities,
# large communities, LOCAL_PREF); routes 40..49 of each family share one attribute set, so the
# injector packs them into one UpdateBuilder. Expected lines keep the monitor's field order:
# prefix|path_id|as_path|origin|next_hop|local_pref|med|communities|large|ext|atomic|aggregator.
ORIGINS=(igp egp incomplete)
ORIGINS_OUT=(IGP EGP INCOMPLETE)
: >"$T/routes.txt"
: >"$T/attrs.txt"
for fam in 4 6; do
  for ((i = 0; i < 50; i++)); do
    k=$((i < 40 ? i : 40))
    if [[ $fam == 4 ]]; then
      case $i in
        0) prefix=0.0.0.0/0 ;;
        1) prefix=198.51.100.7/32 ;;
        *) prefix=10.$((i / 8)).$(((i % 8) * 32)).0/$((19 + i % 4)) ;;
      esac
      nh=192.0.2.$((1 + k % 3))
    else
      case $i in
        0) prefix=::/0 ;;
        1) prefix=2001:db8:ffff::1/128 ;;
        *) prefix=$(printf '2001:db8:%x::/48' "$i") ;;
      esac
      nh=2001:db8::$((1 + k % 3))
    fi
    path=$INJ_AS
    for ((j = 0; j < k % 4; j++)); do
      path+=,$(((j % 2) ? 64512 + k : 4200000000 + 7 * k + j))
    done
    words="nh=$nh path=$path origin=${ORIGINS[k % 3]}"
    med='' comm='' lcomm=''
    ((k % 2 == 0)) && med=$((k * 10)) && words+=" med=$med"
    ((k % 5 == 0)) && words+=" lp=$((100 + k))"
    case $((k % 3)) in
      1) comm=65000:$k ;;
      2) comm=65000:$k,65535:65281 ;;
    esac
    [[ -n $comm ]] && words+=" comm=$comm"
    case $((k % 4)) in
      0) lcomm=$INJ_AS:$k:$((2 * k)) ;;
      1) lcomm=$INJ_AS:$k:0,4294967295:1:4294967295 ;;
    esac
    [[ -n $lcomm ]] && words+=" lcomm=$lcomm"
    ((i % 7 == 3)) && words+=" id=0"
    printf '%s %s%s\n' "$prefix" "$words" "$( ((i % 9 == 4)) && echo '   # a comment')" \
      >>"$T/routes.txt"
    ((i == 25)) && printf '\n# a comment line\n' >>"$T/routes.txt"
    # as_path|origin|next_hop|local_pref|med|communities|large (local_pref filled per test)
    printf '%s|%s|%s|@LP%s@|%s|%s|%s\t%s\n' "${path//,/ }" "${ORIGINS_OUT[k % 3]}" "$nh" \
      "$( ((k % 5 == 0)) && echo $((100 + k)))" "$med" "${comm//,/ }" "${lcomm//,/ }" \
      "$prefix" >>"$T/attrs.txt"
  done
done
NGROUPS=$(cut -f1 "$T/attrs.txt" | sort -u | wc -l)

# expect_a PEER PEER_AS keep|drop [PREPEND_AS MED COMMUNITIES]: the A lines the routes file
# must give (LOCAL_PREF kept or dropped), rewritten as the relay does when the rest is given.
expect_a() {
  local peer=$1 peer_as=$2 lp=$3 prepend=${4:-} med=${5:-} comm=${6:-}
  local attrs prefix as_path origin nh lpv m c lc
  while IFS=$'\t' read -r attrs prefix; do
    IFS='|' read -r as_path origin nh lpv m c lc <<<"$attrs"
    lpv=${lpv#@LP}
    lpv=${lpv%@}
    [[ $lp == drop ]] && lpv=
    [[ -n $prepend ]] && as_path="$prepend $as_path"
    [[ -n $med ]] && m=$med
    [[ -n $comm ]] && c=${c:+$c }$comm
    printf 'A|%s|%s|%s|0|%s|%s|%s|%s|%s|%s|%s|||\n' "$peer" "$peer_as" "$prefix" "$as_path" \
      "$origin" "$nh" "$lpv" "$m" "$c" "$lc"
  done <"$T/attrs.txt" | sort
}
expect_w() { cut -f2 "$T/attrs.txt" | sed "s/^/W|$1|$2|/; s/\$/|0/" | sort; }
expect_eor() { printf 'EOR|%s|%s|ipv4/unicast\nEOR|%s|%s|ipv6/unicast\n' "$1" "$2" "$1" "$2"; }

# ---- a. injector -> monitor -----------------------------------------------------------------
P_MON=$(free_port $MON)
log "a. injector -> monitor on $MON:$P_MON"
start mon "$MONITOR" --local-as $MON_AS --router-id $MON --listen $MON:"$P_MON" \
  --peer $INJ,$INJ_AS --peer $INJ_I,$MON_AS
start inj "$INJECT" --local-as $INJ_AS --router-id $INJ --routes "$T/routes.txt" \
  --peer $MON,$MON_AS,active,port="$P_MON",local=$INJ --connect-retry 1 \
  --withdraw-after 2 --exit-after-withdraw
# iBGP: LOCAL_PREF is sent; --repeat announces again one period after the withdrawal.
printf '192.0.2.128/25 nh=192.0.2.9 lp=300 med=1\n2001:db8:aa::/48 nh=2001:db8::9 lp=50 path=\n' \
  >"$T/ibgp.txt"
start inj_i "$INJECT" --local-as $MON_AS --router-id $INJ_I --routes "$T/ibgp.txt" \
  --peer $MON,$MON_AS,active,port="$P_MON",local=$INJ_I --connect-retry 1 \
  --withdraw-after 1 --repeat

wait_for "100 W lines from the injector" at_least 100 "^W\|[^|]*\|$INJ\|" "$T/mon.out"
finish inj
[[ $RC == 0 ]] || fail "injector exit status $RC after --exit-after-withdraw"
cease="^NOTIFICATION\|[^|]*\|$INJ\|$INJ_AS\|received\|6\|2\|bgpscribe-inject: routes withdrawn$"
grep -qE "$cease" "$T/mon.out" || fail "no Cease 6/2 with the shutdown communication at the monitor"

expect_a $INJ $INJ_AS drop >"$T/exp.a"
lines_of A "$INJ" "$T/mon.out" >"$T/got.a"
same "eBGP A lines (LOCAL_PREF not sent to an external peer)" "$T/exp.a" "$T/got.a"
expect_w $INJ $INJ_AS >"$T/exp.w"
lines_of W "$INJ" "$T/mon.out" >"$T/got.w"
same "W lines after --withdraw-after" "$T/exp.w" "$T/got.w"
expect_eor $INJ $INJ_AS >"$T/exp.eor"
lines_of EOR "$INJ" "$T/mon.out" >"$T/got.eor"
same "End-of-RIB lines" "$T/exp.eor" "$T/got.eor"
# Order: every A line, then the two EOR, then every W.
order=$(grep -E "^(A|EOR|W)\|[^|]*\|$INJ\|" "$T/mon.out" | cut -d'|' -f1 | uniq | tr '\n' ' ')
[[ $order == "A EOR W " ]] || fail "line order from the injector is '$order', not 'A EOR W'"
log "ok: A, then EOR, then W"
packed="announced 100 routes in $NGROUPS UPDATE messages, End-of-RIB for ipv4/unicast ipv6/unicast"
grep -q "$packed" "$T/inj.err" ||
  fail "injector did not pack 100 routes into $NGROUPS messages: $(cat "$T/inj.err")"
grep -q "withdrew 100 routes in 2 UPDATE messages" "$T/inj.err" ||
  fail "injector did not log the withdrawal"
log "ok: $NGROUPS attribute sets -> $NGROUPS UPDATE messages, withdrawal in 2"

wait_for "two rounds of iBGP announcements" at_least 4 "^A\|[^|]*\|$INJ_I\|" "$T/mon.out"
stop inj_i
cat >"$T/exp.ibgp" <<EOF
A|$INJ_I|$MON_AS|192.0.2.128/25|0||IGP|192.0.2.9|300|1|||||
A|$INJ_I|$MON_AS|2001:db8:aa::/48|0||IGP|2001:db8::9|50||||||
EOF
lines_of A "$INJ_I" "$T/mon.out" | uniq >"$T/got.ibgp"
same "iBGP A lines (LOCAL_PREF sent, empty AS path)" "$T/exp.ibgp" "$T/got.ibgp"
order=$(grep -E "^(A|EOR|W)\|[^|]*\|$INJ_I\|" "$T/mon.out" | cut -d'|' -f1 | uniq | tr '\n' ' ')
[[ $order == "A EOR W A "* ]] || fail "iBGP --repeat order is '$order', not 'A EOR W A ...'"
log "ok: --repeat announces again after the withdrawal"
stop mon

# ---- b. injector -> relay -> monitor --------------------------------------------------------
P_RLY=$(free_port $RLY)
P_MON2=$(free_port $MON2)
log "b. injector -> relay ($RLY:$P_RLY) -> monitor ($MON2:$P_MON2, started late)"
start relay "$RELAY" --local-as $RLY_AS --router-id $RLY --listen $RLY:"$P_RLY" \
  --from $INJ_R,$INJ_AS --to $MON2,$MON_AS,active,port="$P_MON2",local=$RLY \
  --set-med 77 --add-community 65002:99 --add-community 65000:4 --prepend --connect-retry 1
start inj_r "$INJECT" --local-as $INJ_AS --router-id $INJ_R --routes "$T/routes.txt" \
  --peer $RLY,$RLY_AS,active,port="$P_RLY",local=$INJ_R --connect-retry 1 \
  --withdraw-after 4 --repeat
wait_for "the injector's announcement to the relay" grep -q "announced 100 routes" "$T/inj_r.err"
# The relay has nowhere to send them yet: they wait in its queue.
start mon2 "$MONITOR" --local-as $MON_AS --router-id $MON2 --listen $MON2:"$P_MON2" \
  --peer $RLY,$RLY_AS
wait_for "100 W lines through the relay" at_least 100 "^W\|[^|]*\|$RLY\|" "$T/mon2.out"
grep -qE "sent [1-9][0-9]* queued updates" "$T/relay.err" ||
  fail "the relay did not send queued updates: $(cat "$T/relay.err")"
log "ok: updates queued before the monitor was up were sent"

# Route k=4 has comm=65000:4 already: the relay does not add it twice.
expect_a $RLY $RLY_AS drop $RLY_AS 77 "65002:99 65000:4" |
  sed 's/|65000:4 65002:99 65000:4|/|65000:4 65002:99|/' >"$T/exp.ra"
lines_of A "$RLY" "$T/mon2.out" >"$T/got.ra"
same "relayed A lines (AS prepended, MED 77, communities added)" "$T/exp.ra" "$T/got.ra"
expect_w $RLY $RLY_AS >"$T/exp.rw"
lines_of W "$RLY" "$T/mon2.out" >"$T/got.rw"
same "relayed W lines" "$T/exp.rw" "$T/got.rw"
expect_eor $RLY $RLY_AS >"$T/exp.reor"
lines_of EOR "$RLY" "$T/mon2.out" >"$T/got.reor"
same "relayed End-of-RIB lines" "$T/exp.reor" "$T/got.reor"

# --repeat announces again; when the injector goes away the relay withdraws what it held.
wait_for "the second round through the relay" at_least 200 "^A\|[^|]*\|$RLY\|" "$T/mon2.out"
stop inj_r
wait_for "the relay's withdrawal of the injector's routes" \
  at_least 200 "^W\|[^|]*\|$RLY\|" "$T/mon2.out"
lines_of W "$RLY" "$T/mon2.out" | uniq >"$T/got.rw2"
same "W lines after the injector left" "$T/exp.rw" "$T/got.rw2"
order=$(grep -E "^(A|EOR|W)\|[^|]*\|$RLY\|" "$T/mon2.out" | cut -d'|' -f1 | uniq | tr '\n' ' ')
[[ $order == "A EOR W A W " ]] || fail "relayed line order is '$order', not 'A EOR W A W'"
log "ok: A, EOR, W, A again, W when the injector left"
stop relay
stop mon2

# A queue that overflows is dropped; the relay asks for the routes again with ROUTE-REFRESH
# once the monitor is up, and the injector answers it.
P_RLY=$(free_port $RLY)
P_MON2=$(free_port $MON2)
log "b. relay queue overflow (--queue-limit 10): ROUTE-REFRESH when the monitor is up"
start relay "$RELAY" --local-as $RLY_AS --router-id $RLY --listen $RLY:"$P_RLY" \
  --from $INJ_R,$INJ_AS --to $MON2,$MON_AS,active,port="$P_MON2",local=$RLY \
  --set-med 77 --add-community 65002:99 --add-community 65000:4 --prepend --connect-retry 1 \
  --queue-limit 10
start inj_r "$INJECT" --local-as $INJ_AS --router-id $INJ_R --routes "$T/routes.txt" \
  --peer $RLY,$RLY_AS,active,port="$P_RLY",local=$INJ_R --connect-retry 1
wait_for "the injector's announcement to the relay" grep -q "announced 100 routes" "$T/inj_r.err"
start mon2 "$MONITOR" --local-as $MON_AS --router-id $MON2 --listen $MON2:"$P_MON2" \
  --peer $RLY,$RLY_AS
wait_for "100 A lines after the ROUTE-REFRESH" at_least 100 "^A\|[^|]*\|$RLY\|" "$T/mon2.out"
grep -q "queue full (10 updates)" "$T/relay.err" || fail "no queue overflow at the relay"
grep -q "ROUTE-REFRESH sent" "$T/relay.err" || fail "the relay sent no ROUTE-REFRESH"
for f in ipv4/unicast ipv6/unicast; do
  grep -q "(ROUTE-REFRESH for $f)" "$T/inj_r.err" || fail "the injector did not answer for $f"
done
lines_of A "$RLY" "$T/mon2.out" >"$T/got.ra2"
same "A lines after the overflow and ROUTE-REFRESH" "$T/exp.ra" "$T/got.ra2"
stop inj_r
stop relay
stop mon2

# ---- c. bad routes files --------------------------------------------------------------------
log "c. bad routes files"
bad() {  # bad LINE_2 EXPECTED_MESSAGE: a file whose second route line is LINE_2
  local f=$T/bad.txt rc=0
  printf '10.0.0.0/8 nh=192.0.2.1\n# comment\n\n%s\n10.9.0.0/16 nh=192.0.2.1\n' "$1" >"$f"
  timeout "$WAIT" "$INJECT" --local-as 65001 --router-id 127.0.0.27 --routes "$f" \
    --peer 127.0.0.28,65000,active,port=1 >"$T/bad.out" 2>"$T/bad.err" || rc=$?
  [[ $rc == 2 ]] || fail "exit status $rc, not 2, for '$1'"
  [[ $(head -n1 "$T/bad.err") == "$f:4: $2" ]] ||
    fail "for '$1': expected '$f:4: $2', got '$(cat "$T/bad.err")'"
}
bad '10.1.0.0/16 nh=192.0.2.1 med=abc' 'med=abc: expected a number from 0 to 4294967295'
bad '10.1.0.1/16 nh=192.0.2.1' 'host bits set in 10.1.0.1/16 (did you mean 10.1.0.0/16?)'
bad '10.1.0.0/33 nh=192.0.2.1' "not a prefix: '10.1.0.0/33'"
bad '10.1.0.0/16 nh=192.0.2.1 colour=red' \
  "unknown key 'colour' (known: nh path origin med lp comm lcomm id)"
bad '10.1.0.0/16 nh=192.0.2.1 comm=65536:1' \
  "comm=65536:1: '65536:1' is not A:B with A and B from 0 to 65535"
bad '10.1.0.0/16 nh=192.0.2.1 lcomm=1:2' \
  "lcomm=1:2: '1:2' is not A:B:C with each from 0 to 4294967295"
bad '10.1.0.0/16 nh=192.0.2.1 path=65001,0' \
  "path=65001,0: '0' is not an AS number from 1 to 4294967295"
bad '10.1.0.0/16 nh=192.0.2.1 origin=bgp' 'origin=bgp: expected igp, egp or incomplete'
bad '10.1.0.0/16 nh=2001:db8::1' 'nh=2001:db8::1: an IPv4 prefix needs an IPv4 next hop'
bad '10.1.0.0/16 med=1' 'missing nh= for 10.1.0.0/16'
bad '10.1.0.0/16 nh=192.0.2.1 med=1 med=2' "duplicate key 'med'"
bad '10.1.0.0/16 nh=192.0.2.1 med' "expected key=value, got 'med'"
bad '10.0.0.0/8 nh=192.0.2.2' 'duplicate route 10.0.0.0/8 id 0 (first on line 1)'
rc=0
"$INJECT" --local-as 65001 --router-id 127.0.0.27 --routes "$T/missing.txt" \
  --peer 127.0.0.28,65000 2>"$T/bad.err" || rc=$?
[[ $rc == 2 && $(cat "$T/bad.err") == "$T/missing.txt: cannot open the routes file" ]] ||
  fail "missing routes file: status $rc, '$(cat "$T/bad.err")'"
log "ok: 14 bad files refused with status 2 and FILE:LINE"

log "PASS"
