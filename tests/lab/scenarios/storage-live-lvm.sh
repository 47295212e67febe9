# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015,SC2034 # sourced after /lab/lib.sh, which reads WDISK_MIB
# xlab: hosts=2 xen=shadow timeout=900 default=yes
# xlab-desc: a witness writing its LVM disk throughout moves a -> b live with it (--with-storage): dm-era tracks its writes, delta passes, the last one paused; every write it completed before the pause is on b; the pause against a disk-less twin's
# First the memory-only pause of the same guest: a twin of the witness
# (96 MiB, the same memory workload) without a disk moves a -> b live.
# Then the witness, its disk a 16 MiB volume vga/wlive that it writes 10
# numbered, checksummed blocks a second to from boot on, moves with it:
# a interposes dm-era under the volume, sends it whole and then the
# blocks written since, pass after pass, then the memory, then with the
# guest paused the blocks written since the last pass.  b runs it on
# /dev/vgb/wlive, and the witness reads its whole disk back against what
# its memory says it wrote (check_disk).  a reports both pauses and the
# passes; nothing of dm-era is left on a.
storage_lab
WDISK_MIB=16
if [ "$me" = a ]; then
	witness_create wtwin 96 16 8
	barrier 7231 300
	timed xr migrate --plain --port 8002 --json wtwin "$XLAB_PEER" > /tmp/tw.out 2>&1 ||
		{ cat /tmp/tw.out; peer_fail 7232 "the twin's memory-only move failed"; }
	twin=$(grep '"event":"result"' /tmp/tw.out | sed -n 's/.*"paused_ms":\([0-9]*\).*/\1/p')
	metric memory_only_paused_ms "$twin"
	echo "XB 0" | nc "$XLAB_PEER" 7232
	storage_live_move witness 7233 wlive
	pass "a -> b live with its 16 MiB LVM disk in ${ELAPSED_MS}ms, paused ${PAUSED_MS}ms (memory only ${twin}ms), $DISK_PASSES delta passes, the paused one $DISK_LAST bytes"
else
	recv_logs_start 7232 /tmp/twin.ok
	barrier 7231 300
	recv_logs_wait
	check_domains wtwin
	witness_destroy wtwin
	storage_live_move witness 7233 wlive
	pass "received live with its LVM disk, every write before the pause there; guest gap ${DOWNTIME_MS}ms"
fi
