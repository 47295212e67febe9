# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154 # sourced after /lab/lib.sh (ELAPSED_MS...)
# xlab: hosts=2 xen=shadow timeout=300 default=no
# xlab-desc: stock xl live migration a -> b over the socket link (slow: ~3.5 MB/s)
# A small guest: the emulated link is slow.  a sends, b receives; b judges the
# guest with a's console log added, so the whole life of the witness is seen.
SRCLOG=$CONSLOG/guest-witness--source.log
case $XLAB_ROLE in
a)
	witness_create witness 96 64 8
	barrier 7001
	barrier 7002	# b's receiver listens
	before=$(last_tick witness)
	if ! timed xl migrate -s '' witness "nc $XLAB_PEER 8002"; then
		echo "XF" | nc "$XLAB_PEER" 7004	# b need not wait for us
		fail "xl migrate to $XLAB_PEER failed"
	fi
	metric migrate_ms "$ELAPSED_MS"
	check_domains
	{ echo "XB $before"; wall witness; } | nc "$XLAB_PEER" 7004 ||
		fail "cannot send the console log to $XLAB_PEER"
	pass "migrated to $XLAB_PEER in ${ELAPSED_MS}ms, nothing left here"
	;;
b)
	printf '#!/bin/sh\nexec xl migrate-receive 2>>/tmp/recv.err\n' > /tmp/xl-recv
	chmod +x /tmp/xl-recv
	barrier 7001
	nc -l -p 8002 -e /tmp/xl-recv &
	# -e: a plain "nc -l" with stdin at EOF stops after the first read
	printf '#!/bin/sh\nexec cat > %s\n' "$SRCLOG" > /tmp/save-log
	chmod +x /tmp/save-log
	nc -l -p 7004 -e /tmp/save-log &
	logpid=$!
	barrier 7002
	wait $logpid
	cat /tmp/recv.err
	! grep -q '^XF' "$SRCLOG" || fail "the sender's xl migrate failed"
	before=$(awk '$1 == "XB" { print $2 }' "$SRCLOG")
	[ -n "$before" ] || fail "no console log from $XLAB_PEER"
	check_domains witness
	check_witness witness "$before"
	pass "received, downtime ${DOWNTIME_MS}ms (hosts' clocks may differ by up to 1 s)"
	;;
*) fail "needs two hosts" ;;
esac
