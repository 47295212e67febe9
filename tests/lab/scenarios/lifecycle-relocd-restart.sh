# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154 # sourced after /lab/lib.sh
# xlab: hosts=1 xen=shadow timeout=600 default=yes
# xlab-desc: relocd killed (SIGKILL) and started again on the target still restarts a guest that reboots, even one that rebooted while it was down
# Two relocd in one dom0; the witness moves A -> B.  relocd B is killed
# with SIGKILL and started again: the guest then reboots and B restarts
# it.  B is killed again, the guest reboots while B is down (nobody acts:
# it stays shut down), and B, started again, restarts it.
relocd_pair
xb() { /usr/local/sbin/xl-reloc -c /run/rb/relocd.conf "$@"; }
stops() { [ "$(grep -c 'monitor: stopping' /run/rb/log)" -ge "$1" ]; }
shut_down() { xl list "$1" | awk 'NR == 2 { exit $5 ~ /s/ ? 0 : 1 }'; }
listed_domid() { [ "$(xb list | awk -v n="$1" '$1 == n { print $2 }')" = "$(xl domid "$1")" ]; }
# kill_b N: SIGKILL relocd B; its monitor stops (the Nth time it logs so)
kill_b() {
	kill -9 "$(cat /run/rb/relocd.pid)"
	wait_for 30 stops "$1" ||
		{ relocd_logs b; fail "relocd B's monitor did not stop with it"; }
}
# reboot_and_check: cue a reboot now, and B restarts it
reboot_and_check() {
	mark witness
	cue witness R
	check_restarted witness
	check_domains witness
	wait_for 30 logged /run/rb/log "witness (domain $M_ID): reboot, action restart" ||
		{ relocd_logs b; fail "relocd B's log does not say why it restarted witness"; }
}

witness_create witness 96 16 8
timed xr migrate --plain --port 8012 --localhost witness 127.0.0.1 ||
	{ relocd_logs a b; fail "xl-reloc migrate A -> B failed"; }
wait_for 30 owned_is b witness watching || { xb list; fail "relocd B does not look after witness"; }
wait_tick witness 40 60 || fail "witness stopped ticking after the move"

kill_b 1
relocd_run b
wait_for 30 logged /run/rb/log "looking after 1 domain" ||
	{ relocd_logs b; fail "the new relocd B did not take witness on"; }
reboot_and_check
first=$(xl domid witness)

wait_tick witness "$(last_tick witness)" 30 || fail "witness not ticking"
kill_b 2
mark witness
cue witness R
wait_for 60 shut_down witness ||
	{ xl list; fail "witness did not shut down for its reboot"; }
say "witness rebooted while relocd B is down: $(xl list witness | awk 'NR == 2 { print "state " $5 }')"
relocd_run b
check_restarted witness
check_domains witness
wait_for 30 logged /run/rb/log "witness (domain $M_ID): reboot, action restart" ||
	{ relocd_logs b; fail "relocd B's log does not say why it restarted witness"; }
wait_for 30 listed_domid witness ||
	{ xb list; fail "relocd B's list does not follow witness's new domid"; }
relocd_logs b
pass "restarted after a relocd restart (domain $first), and after a reboot while relocd was down (domain $(xl domid witness))"
