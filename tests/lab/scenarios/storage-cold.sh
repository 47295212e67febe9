# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015,SC2046 # sourced after /lab/lib.sh; wlogs splits
# xlab: hosts=2 xen=shadow timeout=720 default=yes
# xlab-desc: a witness writing its two disks (an LVM volume, a raw image file) moves a -> b with them (--with-storage --non-live): b creates both, the config names them, the guest reads back every write it completed
# Each host has a volume group on a loop device (vga on a, vgb on b, so
# that b's storage_map sends /dev/vga/... to /dev/vgb/...), and an image
# directory (/run/imga, /run/imgb, mapped the same way).  a's witness has
# two 64 MiB disks, a logical volume (phy:, xvda) and a raw image file
# (file:, xvdb: a loop device of its own in dom0, as Xen's block script
# gives a file; there is no qemu here for a qdisk backend), filled by
# dom0 with the pattern the witness computes too, and writes numbered,
# checksummed blocks across them, durably, ten a second, keeping in its
# memory which write each block last got.  xl-reloc moves it a -> b with
# its disks: b's relocd creates /dev/vgb/wdisk and /run/imgb/wdisk.img
# itself, receives them after the memory, reads them back and checks
# them; the guest runs on b with a configuration (as libxl has it) that
# names them, writes on, and on cue reads its whole disks back: every
# write it completed before the pause is there, every block it never
# wrote holds the pattern.  a's disks are left as the move found them:
# nobody writes them after (their digests right after the move and once
# b's guest has written for a while are the same).
storage_lab

if [ "$me" = a ]; then
	storage_witness witness wdisk /run/imga/wdisk.img
	barrier 7201 300
	before=$(last_tick witness)
	say "witness at tick $before, $(disk_writes witness) disk writes: xl-reloc migrate --non-live --with-storage"
	if ! timed xr migrate --plain --port 8002 --non-live --with-storage --json \
	    witness "$XLAB_PEER" > /tmp/st.out 2>&1; then
		cat /tmp/st.out
		relocd_logs a
		peer_fail 7203 "xl-reloc migrate --with-storage a -> b failed"
	fi
	tail -1 /tmp/st.out
	disk=$(grep '"event":"result"' /tmp/st.out | sed -n 's/.*"bytes_disk":\([0-9]*\).*/\1/p')
	paused=$(grep '"event":"result"' /tmp/st.out | sed -n 's/.*"paused_ms":\([0-9]*\).*/\1/p')
	metric migrate_ms "$ELAPSED_MS"
	metric paused_ms "$paused"
	metric disk_bytes "$disk"
	[ "$disk" = 134217728 ] || peer_fail 7203 "bytes_disk $disk, not 134217728 (two 64 MiB disks)"
	check_domains
	sum=$(cat /dev/vga/wdisk /run/imga/wdisk.img | sha256sum)
	send_logs 7203 "$before" $(wlogs witness) ||
		fail "cannot send the console log to $XLAB_PEER"
	barrier 7204 600
	[ "$(cat /dev/vga/wdisk /run/imga/wdisk.img | sha256sum)" = "$sum" ] ||
		fail "a's own volume or image changed after the move"
	# the image's loop device went with the domain (block-lab remove)
	! losetup -a | grep -q /run/imga/wdisk.img ||
		fail "a still has a loop device on /run/imga/wdisk.img"
	lvremove -q -f vga/wdisk
	rm -f /run/imga/wdisk.img
	relocd_logs a
	pass "a -> b with its two 64 MiB disks in ${ELAPSED_MS}ms, paused ${paused}ms; a's untouched since"
else
	recv_logs_start 7203 "$CONSLOG/guest-witness--source.log"
	barrier 7201 300
	recv_logs_wait
	moved=$(disk_writes witness "$RECV_FILE")
	check_domains witness
	check_witness witness "$PEER_BEFORE"
	metric downtime_ms "$DOWNTIME_MS"
	for p in /dev/vgb/wdisk /run/imgb/wdisk.img; do
		xl list -l witness | grep -q "\"pdev_path\": \"$p\"" ||
			{ xl list -l witness; relocd_logs b; fail "the configuration does not name $p"; }
	done
	[ -f /run/imgb/wdisk.img ] || fail "/run/imgb/wdisk.img is not a file"
	check_disk witness
	[ "$DISK_WRITES" -gt "$moved" ] ||
		fail "the witness completed no disk write on b ($DISK_WRITES, $moved at a)"
	grep -q ' keep$' /run/rb/state/storage ||
		{ cat /run/rb/state/storage; fail "b's storage journal has no keep"; }
	barrier 7204 600
	xl destroy witness
	wait_for 30 gone witness
	lvremove -q -f vgb/wdisk
	rm -f /run/imgb/wdisk.img
	relocd_logs b
	pass "received with its two disks; the guest read back its $DISK_WRITES writes ($moved before the move); gap ${DOWNTIME_MS}ms"
fi
