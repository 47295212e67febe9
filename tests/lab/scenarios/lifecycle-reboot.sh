# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154 # sourced after /lab/lib.sh
# xlab: hosts=2 xen=shadow timeout=600 default=yes
# xlab-desc: the witness moves a -> b with relocd, then reboots itself: b restarts it, one copy, same name and uuid
# Two hosts, relocd on each (plain port, host-allow the peer).  a creates
# the witness (xl watches it there) and moves it to b; a's xl ends with the
# domain.  On b the guest reboots on cue: b's relocd, its only monitor,
# restarts it, and the guest's own counter starts again.
case $XLAB_ROLE in
a) me=a ;;
b) me=b ;;
*) fail "needs two hosts" ;;
esac
[ -x /usr/local/sbin/relocd ] || fail "no relocd in dom0 (lab build --bindir DIR)"
ip_re=$(echo "$XLAB_PEER" | sed 's/\./\\\\./g')
printf 'relocation_hosts_allow = [ "%s" ]\n' "$ip_re" > /tmp/r.extra
relocd_start "$me" 8002 /tmp/r.extra
xr() { /usr/local/sbin/xl-reloc -c "/run/r$me/relocd.conf" "$@"; }

if [ "$me" = a ]; then
	witness_create witness 96 16 8
	barrier 7201 120
	timed xr migrate --plain witness "$XLAB_PEER" ||
		{ relocd_logs a; peer_fail 7202 "xl-reloc migrate a -> b failed"; }
	metric migrate_ms "$ELAPSED_MS"
	echo "XB 0" | nc "$XLAB_PEER" 7202
	check_domains
	[ -z "$(owned a witness)" ] || fail "relocd a still looks after witness"
	barrier 7203 300
	relocd_logs a
	pass "moved to b in ${ELAPSED_MS}ms; nothing left here"
else
	recv_logs_start 7202 /tmp/go
	barrier 7201 120
	recv_logs_wait
	wait_for 30 owned_is b witness watching ||
		{ xr list; fail "relocd b does not look after witness"; }
	check_domains witness
	wait_tick witness 40 60 || fail "witness stopped ticking after the move"
	mark witness
	say "witness (domain $M_ID) at tick $M_N: reboot on cue"
	cue witness R
	check_restarted witness
	check_domains witness
	wait_for 30 logged /run/rb/log "witness (domain $M_ID): reboot, action restart" ||
		{ relocd_logs b; fail "relocd b's log does not say why it restarted witness"; }
	wait_for 30 owned_is b witness watching || fail "relocd b no longer looks after witness"
	barrier 7203 300
	relocd_logs b
	pass "rebooted on b: domain $M_ID -> $(xl domid witness), one copy"
fi
