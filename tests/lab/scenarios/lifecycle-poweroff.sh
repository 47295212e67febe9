# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154 # sourced after /lab/lib.sh
# xlab: hosts=1 xen=shadow timeout=420 default=yes
# xlab-desc: a guest restored by relocd powers off: gone from xl list, no zombie, relocd says why
# xl-reloc save and restore through relocd A: the restored witness is A's
# to look after (no xl process watches it).  It powers off on cue; with
# xl's default on_poweroff="destroy" it must leave nothing in xl list.
relocd_start a 8002
witness_create witness 96 16 8
# bounded, so that a stuck job shows relocd's log rather than a deadline
xrt() { timeout 300 /usr/local/sbin/xl-reloc -c /run/ra/relocd.conf "$@"; }
timed xrt save witness /tmp/w.img || { relocd_logs a; fail "xl-reloc save failed"; }
timed xrt restore /tmp/w.img || { xl list; relocd_logs a; fail "xl-reloc restore failed"; }
rm -f /tmp/w.img
metric restore_ms "$ELAPSED_MS"
check_domains witness
wait_for 30 owned_is a witness watching || { xr list; fail "relocd A does not look after witness"; }
check_advancing witness
id=$(xl domid witness)
say "witness (domain $id) at tick $(last_tick witness): power off on cue"
cue witness P
wait_for 60 gone witness || { xl list; fail "witness is still in xl list after its poweroff"; }
wait_for 30 logged /run/ra/log "witness (domain $id): poweroff, action destroy" ||
	{ relocd_logs a; fail "relocd A's log does not say why witness went"; }
wall witness | grep -q '^XQ poweroff' || fail "the witness never said it powered off"
wait_for 30 not_owned a witness || fail "relocd A keeps an entry for witness"
check_domains
relocd_logs a
pass "powered off, destroyed by relocd"
