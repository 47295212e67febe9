# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015,SC2046 # sourced after /lab/lib.sh; wlogs splits
# xlab: hosts=2 xen=shadow timeout=480 default=yes
# xlab-desc: relocd on two hosts over TLS: a host-allow refusal, then a -> b and back, live
# The main job on two real Xen hosts joined by QEMU's socket link (~3.5 MB/s):
# relocd on each, TLS with client certificates, a host-allow list.  b runs a
# second, strict relocd (TLS port 8023) whose host-allow list admits neither
# a's address nor its name: a's attempt there is refused (exit 3, with why)
# and changes nothing.  Then xl-reloc moves the witness a -> b and b -> a,
# live; each arrival is judged by the receiving host, with the sender's
# console log added, so the guest's whole life is seen.  Its downtime spans
# two hosts' clocks (QEMU's RTCs, set from this machine's clock: up to 1 s).
P=/etc/relocd-lab
[ -x /usr/local/sbin/relocd ] && [ -r "$P/ca.pem" ] ||
	fail "no relocd or no $P certificates in dom0 (lab build --bindir DIR --overlay DIR)"
case $XLAB_ROLE in
a) me=a peer=b ;;
b) me=b peer=a ;;
*) fail "needs two hosts" ;;
esac
# conf ME TLS_PORT ALLOW...: TLS only, client certificates named xlab-PEER
# (a subjectAltName of the peer's certificate).
conf() {
	echo "tls_cert = \"$P/$1.pem\""
	echo "tls_key = \"$P/$1.key\""
	echo "tls_ca = \"$P/ca.pem\""
	echo "relocation_server = 0"
	echo "relocation_ssl_server = 1"
	echo "relocation_ssl_port = $2"
	echo "tls_peers_allow = [ \"xlab-$peer\" ]"
	shift 2
	printf 'relocation_hosts_allow = [ "%s", "%s" ]\n' "$@"
}
ip_re=$(echo "$XLAB_PEER" | sed 's/\./\\\\./g')	# 10\\.0\\.0\\.2 in the file
conf "$me" 8003 "$ip_re" "xlab-$peer" > /tmp/r.extra
relocd_start "$me" 8002 /tmp/r.extra
# xl-reloc ARGS...: from this host's relocd, over TLS
xr() { /usr/local/sbin/xl-reloc -c "/run/r$me/relocd.conf" "$@"; }
# migrated NAME HOW: metrics of this host's last outgoing job, from relocd
migrated() {
	relocd_result "$me"
	metric "${1}_ms" "$R_TOTAL_MS"
	metric "${1}_paused_ms" "$R_PAUSED_MS"
	metric "${1}_wire_bytes" "$R_WIRE_BYTES"
	metric "${1}_rounds" "$R_ROUNDS"
}

if [ "$me" = a ]; then
	# b waits here while a creates the witness: 60 s of xl create alone
	# were seen on a loaded machine
	witness_create witness 96 16 8
	barrier 7101 300
	# 1. Refused by b's strict relocd: nothing moves, exit 3 and why.
	say "xl-reloc migrate witness to b's strict relocd (its host-allow list admits neither 10.0.0.1 nor xlab-a)"
	xr migrate --tls --port 8023 witness "$XLAB_PEER" > /tmp/refused.out 2>&1
	rc=$?
	sed 's/^/  | /' /tmp/refused.out
	[ "$rc" -eq 3 ] || peer_fail 7104 "refused migration: exit $rc, not 3"
	grep -q "relocation_hosts_allow" /tmp/refused.out ||
		peer_fail 7104 "refused migration: the reason does not name the host-allow list"
	check_domains witness
	check_advancing witness
	say "refused as it should be (exit 3), witness still running here at tick $(last_tick witness)"
	barrier 7102
	# 2. a -> b, live, over TLS.
	before=$(last_tick witness)
	say "witness at tick $before on xlab-a: xl-reloc migrate --tls witness $XLAB_PEER"
	if ! timed xr migrate --tls --port 8003 witness "$XLAB_PEER"; then
		relocd_logs a
		peer_fail 7104 "xl-reloc migrate a -> b failed"
	fi
	migrated there
	check_domains
	send_logs 7104 "$before" $(wlogs witness) ||
		fail "cannot send the console log to $XLAB_PEER"
	# 3. b -> a: b judges the first leg, then sends it back; we judge.
	recv_logs_start 7106 "$CONSLOG/guest-witness--peer.log"
	barrier 7105 300
	recv_logs_wait
	check_domains witness
	check_witness witness "$PEER_BEFORE"
	metric back_downtime_ms "$DOWNTIME_MS"
	metric back_counter "$PEER_BEFORE->$(last_tick witness)"
	say "witness back on xlab-a, counter went on: tick $PEER_BEFORE on xlab-b before, now tick $(last_tick witness)"
	relocd_logs a
	pass "a -> b ${R_TOTAL_MS:-?}ms; back b -> a: guest gap ${DOWNTIME_MS}ms"
else
	conf b 8023 '10\\.0\\.0\\.9' xlab-c > /tmp/s.extra
	relocd_start s 8022 /tmp/s.extra
	recv_logs_start 7104 "$CONSLOG/guest-witness--source.log"
	barrier 7101 300
	barrier 7102
	grep -q 'refused: no host-allow pattern matches' /run/rs/log ||
		{ relocd_logs s; fail "the strict relocd did not log the refusal"; }
	say "strict relocd: $(grep -o 'refused connection from.*' /run/rs/log | head -1)"
	# 2. the first leg arrives: judge it.
	recv_logs_wait
	check_domains witness
	check_witness witness "$PEER_BEFORE"
	metric there_downtime_ms "$DOWNTIME_MS"
	metric there_counter "$PEER_BEFORE->$(last_tick witness)"
	there=$DOWNTIME_MS
	say "witness arrived on xlab-b, counter went on: tick $PEER_BEFORE on xlab-a before, now tick $(last_tick witness)"
	# 3. and back to a
	barrier 7105
	before=$(last_tick witness)
	say "witness at tick $before on xlab-b: xl-reloc migrate --tls witness $XLAB_PEER"
	if ! timed xr migrate --tls --port 8003 witness "$XLAB_PEER"; then
		relocd_logs b
		peer_fail 7106 "xl-reloc migrate b -> a failed"
	fi
	migrated back
	check_domains
	# only this host's own log: a has the rest
	send_logs 7106 "$before" "$CONSLOG/guest-witness--incoming.log" ||
		fail "cannot send the console log to $XLAB_PEER"
	relocd_logs b s
	pass "received from a: guest gap ${there}ms; back to a ${R_TOTAL_MS:-?}ms"
fi
