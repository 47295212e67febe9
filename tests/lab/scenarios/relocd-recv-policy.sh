# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015 # sourced after /lab/lib.sh (ELAPSED_MS...)
# xlab: hosts=1 xen=shadow timeout=240 default=yes
# xlab-desc: receive policy: a guest with a dom0 disk is refused at reservation, then moves once allowed
# A witness with a disk on a block device of dom0 (phy:/dev/ram0, a RAM disk).
# relocd B's default policy refuses the migration at RESERVE. The refusal
# names the key and value on both hosts and in xl-reloc's output (exit 3),
# and the guest keeps running at A. Next, B allows the path but not the
# disk's hotplug script, which is refused too. Once B allows both, the same
# migration goes through with the disk attached at B.
relocd_pair

block_lab
[ -b /dev/ram0 ] || fail "no /dev/ram0 in dom0 (brd not loaded)"

witness_cfg wdisk 128 256
echo 'disk = [ "phy:/dev/ram0,xvda,r,script=block-lab" ]' >> /tmp/wdisk.cfg
timed xl create -q /tmp/wdisk.cfg || fail "xl create of a witness with a disk failed"
wait_tick wdisk 5 60 || fail "witness wdisk did not start ticking within 60s"
xl block-list wdisk | grep -q '^51712 ' || { xl block-list wdisk; fail "wdisk has no xvda"; }

# refused MATCH WHAT: a migration A -> B that B must refuse with MATCH
refused() {
	before=$(last_tick wdisk)
	xr migrate --plain --port 8012 --localhost wdisk 127.0.0.1 > /tmp/pol.out 2>&1
	rc=$?
	cat /tmp/pol.out
	[ "$rc" -eq 3 ] || { relocd_logs a b; fail "$2: exit $rc, not 3 (refused)"; }
	grep -qF "$1" /tmp/pol.out || { relocd_logs a b; fail "$2: xl-reloc does not say: $1"; }
	grep -qF "$1" /run/rb/log || { relocd_logs a b; fail "$2: B's log does not say: $1"; }
	grep -qF "$1" /run/ra/log || { relocd_logs a b; fail "$2: A's log does not say: $1"; }
	grep -q "RESERVED\|STREAMING" /run/rb/state/journal 2>/dev/null &&
		{ relocd_logs a b; fail "$2: B journaled a reservation"; }
	check_domains wdisk
	check_advancing wdisk
	[ "$(last_tick wdisk)" -gt "$before" ] || fail "$2: wdisk stopped"
}

refused 'disks[0].pdev_path = "/dev/ram0": not under any receive_disk_paths entry' \
	"the default policy"
metric refused_disk 1

# The path allowed, the hotplug script not yet.
echo 'receive_disk_paths = [ "/var/lib/xen/images", "/dev/ram0" ]' > /tmp/rb.extra
relocd_start b 8012 /tmp/rb.extra
refused 'disks[0].script = "block-lab": not a hotplug script' "a custom hotplug script"
metric refused_script 1

# Both allowed: the migration that was refused goes through.
echo 'receive_hotplug_scripts = [ "block", "vif-bridge", "block-lab" ]' >> /tmp/rb.extra
relocd_start b 8012 /tmp/rb.extra
before=$(last_tick wdisk)
timed xr migrate --plain --port 8012 --localhost wdisk 127.0.0.1 ||
	{ relocd_logs a b; fail "the allowed migration failed"; }
metric migrate_ms "$ELAPSED_MS"
check_domains wdisk
check_witness wdisk "$before"
xl block-list wdisk | grep -q '^51712 ' || { xl block-list wdisk; fail "wdisk arrived without xvda"; }
grep -q ACTIVATED /run/rb/state/journal || { relocd_logs a b; fail "B's journal has no ACTIVATED"; }
relocd_logs a b
pass "refused twice at reservation (disk path, then hotplug script), then moved with its disk in ${ELAPSED_MS}ms (guest gap ${DOWNTIME_MS}ms)"
