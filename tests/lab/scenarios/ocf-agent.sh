# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154 # sourced after /lab/lib.sh (ELAPSED_MS...)
# xlab: hosts=2 xen=shadow timeout=480 default=yes
# xlab-desc: OCF agent ocf:xen-relocd:xen-domain: ocf-tester, then migrate_to b / migrate_from, monitor on both during the migration
# Pacemaker is not in dom0: the agent runs as Pacemaker's executor would
# run it, with the same environment.  First ocf-tester (resource-agents)
# on each host with a domain of its own; then host a starts the witness,
# migrate_to moves it to b over the socket link while both hosts run
# monitor every few seconds, b confirms with migrate_from, a stops (nothing
# left), b stops.  A small, calm guest: the link is slow.
AGENT=/usr/lib/ocf/resource.d/xen-relocd/xen-domain
OCF_ROOT=/usr/lib/ocf
export OCF_ROOT
[ -x /usr/local/sbin/relocd ] || fail "no relocd in dom0 (lab run --bindir DIR)"
if [ ! -x "$AGENT" ] || ! command -v ocf-tester >/dev/null; then
	fail "no agent or no ocf-tester in dom0 (lab build)"
fi
SRCLOG=$CONSLOG/guest-witness--source.log

printf '%s\n' 'relocation_hosts_allow = [ "10\\.0\\.0\\.[12]" ]' > /tmp/r.extra
relocd_start r 8002 /tmp/r.extra

# ra ACTION [VAR=VALUE...]: the agent with the witness's parameters; $rc,
# its output in /tmp/ra.out (and on the console).
ra() {
	_a=$1
	shift
	env OCF_RA_VERSION_MAJOR=1 OCF_RA_VERSION_MINOR=1 \
	    OCF_RESOURCE_INSTANCE=witness OCF_RESKEY_name=witness \
	    OCF_RESKEY_xl_config=/tmp/witness.cfg \
	    OCF_RESKEY_relocd_conf=/run/rr/relocd.conf OCF_RESKEY_tls=false \
	    OCF_RESKEY_port=8002 OCF_RESKEY_shutdown_timeout=3 \
	    OCF_RESKEY_CRM_meta_timeout=120000 OCF_RESKEY_CRM_meta_interval=10000 \
	    "$@" "$AGENT" "$_a" > "${RA_OUT:-/tmp/ra.out}" 2>&1
	rc=$?
	sed "s/^/  $_a: /" "${RA_OUT:-/tmp/ra.out}"
}

# monitor_loop FILE: monitor every 3 s until /tmp/stop-loop appears; one
# line per call: "rc <rc> <what xl lists of the witness>".
monitor_loop() {
	RA_OUT=/tmp/ra-mon.out
	while [ ! -f /tmp/stop-loop ]; do
		ra monitor >/dev/null
		echo "rc $rc $(xl list | awk '$1 ~ /^witness/ { printf "%s:%s ", $1, $5 }')" \
		    "$(tr '\n' ' ' < "$RA_OUT")" >> "$1"
		sleep 3
	done
}

# 1. ocf-tester, each host with its own domain (ocf-test-a, ocf-test-b).
witness_cfg "ocf-test-$XLAB_ROLE" 96 16 4
timed ocf-tester -n "ocf-test-$XLAB_ROLE" -o "name=ocf-test-$XLAB_ROLE" \
    -o "xl_config=/tmp/ocf-test-$XLAB_ROLE.cfg" -o relocd_conf=/run/rr/relocd.conf \
    -o tls=false -o shutdown_timeout=3 "$AGENT" > /tmp/tester.out 2>&1
trc=$?
sed 's/^/  ocf-tester: /' /tmp/tester.out
metric ocf_tester_ms "$ELAPSED_MS"
[ $trc -eq 0 ] || fail "ocf-tester failed (exit $trc)"
check_domains
barrier 7101 240

case $XLAB_ROLE in
a)
	witness_cfg witness 96 64 8
	ra start
	[ $rc -eq 0 ] || fail "start: exit $rc"
	wait_tick witness 5 60 || fail "witness does not tick after start"
	ra monitor
	[ $rc -eq 0 ] || fail "monitor of the started domain: exit $rc"
	barrier 7102
	before=$(last_tick witness)
	monitor_loop /tmp/mon.log &
	mpid=$!
	# At 8 MiB/s the 96 MiB guest is on the wire for 12 s at least,
	# however fast the machine: b's monitor, every 3 s, must see it as
	# witness--incoming (at full speed the window could fall between two).
	timed ra migrate_to OCF_RESKEY_CRM_meta_migrate_target="$XLAB_PEER" \
	    OCF_RESKEY_CRM_meta_timeout=300000 OCF_RESKEY_bandwidth=8M
	mrc=$rc
	touch /tmp/stop-loop
	wait $mpid
	metric migrate_to_ms "$ELAPSED_MS"
	say "monitor on a during the migration:"
	sed 's/^/  /' /tmp/mon.log
	if [ $mrc -ne 0 ]; then
		echo "XF" | nc "$XLAB_PEER" 7104
		relocd_logs r
		fail "migrate_to $XLAB_PEER: exit $mrc"
	fi
	{ echo "XB $before"; wall witness; } | nc "$XLAB_PEER" 7104 ||
		fail "cannot send the console log to $XLAB_PEER"
	barrier 7105 120	# b ran migrate_from
	ra stop
	[ $rc -eq 0 ] || fail "stop at the source after the migration: exit $rc"
	ra monitor OCF_RESKEY_CRM_meta_interval=0
	[ $rc -eq 7 ] || fail "probe at the source after the migration: exit $rc, want 7"
	check_domains
	grep -q '^rc 1 ' /tmp/mon.log && fail "monitor at the source failed during the migration"
	grep -q '^rc 0 witness:' /tmp/mon.log ||
		fail "no monitor at the source reported it running during the migration"
	pass "migrate_to ${ELAPSED_MS}ms; source: running until the commit, then not running"
	;;
b)
	witness_cfg witness 96 64 8	# start would need it; migrate_from does not
	printf '#!/bin/sh\nexec cat > %s\n' "$SRCLOG" > /tmp/save-log
	chmod +x /tmp/save-log
	nc -l -p 7104 -e /tmp/save-log &
	logpid=$!
	barrier 7102
	monitor_loop /tmp/mon.log &
	mpid=$!
	wait $logpid
	touch /tmp/stop-loop
	wait $mpid
	say "monitor on b during the migration:"
	sed 's/^/  /' /tmp/mon.log
	! grep -q '^XF' "$SRCLOG" || fail "migrate_to failed at the source"
	ra migrate_from OCF_RESKEY_CRM_meta_migrate_source=a
	[ $rc -eq 0 ] || { relocd_logs r; fail "migrate_from: exit $rc"; }
	barrier 7105 120
	before=$(awk '$1 == "XB" { print $2 }' "$SRCLOG")
	[ -n "$before" ] || fail "no console log from $XLAB_PEER"
	check_domains witness
	check_witness witness "$before"
	ra monitor
	[ $rc -eq 0 ] || fail "monitor at the target after migrate_from: exit $rc"
	grep -q '^rc 1 ' /tmp/mon.log && fail "monitor at the target failed during the migration"
	grep -q '^rc 7 witness--incoming:.*migrating in' /tmp/mon.log ||
		fail "no monitor at the target saw witness--incoming as migrating in, not running"
	grep -q '^rc 0 witness--incoming' /tmp/mon.log &&
		fail "monitor at the target said running while only witness--incoming was there"
	ra stop
	[ $rc -eq 0 ] || fail "stop at the target: exit $rc"
	check_domains
	relocd_logs r
	pass "migrate_from ok, downtime ${DOWNTIME_MS}ms; target: not running while incoming, running after"
	;;
*) fail "needs two hosts" ;;
esac
