# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015,SC2046 # sourced after /lab/lib.sh; wlogs splits
# xlab: hosts=2 xen=shadow timeout=480 default=yes
# xlab-desc: a witness writing its LVM disk moves a -> b with it (--with-storage --non-live): b creates the LV, the config names it, the guest reads back every write it completed
# Each host has a volume group on a loop device (vga on a, vgb on b, so
# that b's storage_map sends /dev/vga/... to /dev/vgb/...).  a's witness
# has a 64 MiB logical volume as its disk, filled by dom0 with the
# pattern the witness computes too, and writes numbered, checksummed
# blocks to it, durably, ten a second, keeping in its memory which write
# each block last got.  xl-reloc moves it a -> b with its disk: b's
# relocd creates /dev/vgb/wdisk itself, receives it after the memory,
# reads it back and checks it; the guest runs on b with a configuration
# (as libxl has it) that names /dev/vgb/wdisk, writes on, and on cue
# reads its whole disk back: every write it completed before the pause
# is there, every block it never wrote holds the pattern.  a's volume is
# left as the move found it: nobody writes it after (its digest right
# after the move and once b's guest has written for a while are one).
storage_lab

if [ "$me" = a ]; then
	storage_witness witness wdisk
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
	[ "$disk" = 67108864 ] || peer_fail 7203 "bytes_disk $disk, not 67108864"
	check_domains
	sum=$(sha256sum /dev/vga/wdisk | cut -d' ' -f1)
	send_logs 7203 "$before" $(wlogs witness) ||
		fail "cannot send the console log to $XLAB_PEER"
	barrier 7204 600
	[ "$(sha256sum /dev/vga/wdisk | cut -d' ' -f1)" = "$sum" ] ||
		fail "a's own volume changed after the move"
	lvremove -q -f vga/wdisk
	relocd_logs a
	pass "a -> b with its 64 MiB disk in ${ELAPSED_MS}ms, paused ${paused}ms; a's volume untouched since"
else
	recv_logs_start 7203 "$CONSLOG/guest-witness--source.log"
	barrier 7201 300
	recv_logs_wait
	moved=$(disk_writes witness "$RECV_FILE")
	check_domains witness
	check_witness witness "$PEER_BEFORE"
	metric downtime_ms "$DOWNTIME_MS"
	xl list -l witness | grep -q '"pdev_path": "/dev/vgb/wdisk"' ||
		{ xl list -l witness; relocd_logs b; fail "the configuration does not name /dev/vgb/wdisk"; }
	check_disk witness
	[ "$DISK_WRITES" -gt "$moved" ] ||
		fail "the witness completed no disk write on b ($DISK_WRITES, $moved at a)"
	grep -q ' keep$' /run/rb/state/storage ||
		{ cat /run/rb/state/storage; fail "b's storage journal has no keep"; }
	barrier 7204 600
	xl destroy witness
	wait_for 30 gone witness
	lvremove -q -f vgb/wdisk
	relocd_logs b
	pass "received with its disk; the guest read back its $DISK_WRITES writes ($moved before the move); gap ${DOWNTIME_MS}ms"
fi
