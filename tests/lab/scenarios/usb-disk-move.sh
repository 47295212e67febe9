# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015,SC2046,SC2012 # sourced after /lab/lib.sh; wlogs splits; plain names
# xlab: hosts=2 xen=shadow timeout=600 default=yes
# xlab-desc: a FAT32 disk carried from a to b: xl-reloc save --split on a, restore on b; a save that cannot fit refused before the pause
# The "USB stick" is a 180 MiB disk both QEMU hosts see as /dev/vda (the
# lab's pair disk), used by one host at a time.  a formats it FAT32
# (busybox mkdosfs), mounts it, saves the running witness to it through
# relocd in parts of 40 MiB (xl-reloc save --split), and unmounts it.  b
# mounts it, verifies the parts as one image and restores it through its
# relocd (a host that never saw the domain: ledger and receive policy);
# the witness's own checks, with a's console log, pass on b.  Then b saves
# the witness to the stick again, where the image cannot fit (about 80
# MiB free, up to 97 MiB needed): refused before the guest is paused (exit
# 4, naming vfat and the sizes), nothing written, the guest never
# suspended (no such event, still running, its ticks going on).
[ -x /usr/local/sbin/relocd ] || fail "no relocd in dom0 (lab build --bindir DIR)"
case $XLAB_ROLE in
a) me=a ;;
b) me=b ;;
*) fail "needs two hosts" ;;
esac
[ -b /dev/vda ] || fail "no shared disk /dev/vda (tests/lab/lab gives two-host boots one)"
U=/mnt/usb
mkdir -p "$U"
relocd_start "$me" 8002
xr() { /usr/local/sbin/xl-reloc -c "/run/r$me/relocd.conf" "$@"; }
# what the stick holds, "NAME NAME ..."
stick() { ls -A "$U" | tr '\n' ' ' | sed 's/ $//'; }
PARTS="witness.xl.000 witness.xl.001 witness.xl.002"

if [ "$me" = a ]; then
	witness_create witness 96 16 8
	mkdosfs -n XLABUSB /dev/vda >/dev/null || peer_fail 7204 "mkdosfs /dev/vda failed"
	mount -t vfat /dev/vda "$U" || peer_fail 7204 "cannot mount the FAT32 disk"
	say "stick: $(df -k "$U" | tail -1)"
	before=$(last_tick witness)
	say "witness at tick $before: xl-reloc save --split 40M witness $U/witness.xl"
	if ! timed xr save --split 40M witness "$U/witness.xl"; then
		relocd_logs a
		peer_fail 7204 "xl-reloc save --split to the FAT32 disk failed"
	fi
	metric save_ms "$ELAPSED_MS"
	say "on the stick: $(ls -l "$U" | awk 'NR > 1 { print $NF, $5 }' | xargs)"
	[ "$(stick)" = "$PARTS" ] ||
		peer_fail 7204 "the stick holds [$(stick)], not three parts"
	check_domains
	umount "$U" || peer_fail 7204 "cannot unmount the stick"
	send_logs 7204 "$before" $(wlogs witness) ||
		fail "cannot send the console log to $XLAB_PEER"
	relocd_logs a
	pass "saved in 3 parts to FAT32 in ${ELAPSED_MS}ms, stick unmounted"
else
	recv_logs_start 7204 "$CONSLOG/guest-witness--source.log"
	# a's save is done and the stick unmounted when its log arrives
	recv_logs_wait
	# This kernel read the disk at boot, before a formatted it: what it
	# cached of it then is stale.
	sync
	blockdev --flushbufs /dev/vda
	echo 3 > /proc/sys/vm/drop_caches
	mount -t vfat /dev/vda "$U" || fail "cannot mount the stick a wrote"
	xr verify "$U/witness.xl" > /tmp/verify.out 2>&1 ||
		{ cat /tmp/verify.out; fail "verify of the parts on the stick failed"; }
	say "$(cat /tmp/verify.out)"
	grep -q "in 3 parts" /tmp/verify.out || fail "verify did not read three parts"
	if ! timed xr restore "$U/witness.xl"; then
		relocd_logs b
		fail "xl-reloc restore from the stick failed"
	fi
	metric restore_ms "$ELAPSED_MS"
	restore_ms=$ELAPSED_MS
	check_domains witness
	check_witness witness "$PEER_BEFORE"
	moved=$DOWNTIME_MS
	say "witness restored on xlab-b: tick $PEER_BEFORE on xlab-a before, now $(last_tick witness)"
	# The image cannot fit a second time.
	say "stick: $(df -k "$U" | tail -1)"
	before=$(last_tick witness)
	xr save witness "$U/again.xl" > /tmp/again.out 2>&1
	rc=$?
	sed 's/^/  | /' /tmp/again.out
	[ "$rc" -eq 4 ] || fail "a save that cannot fit: exit $rc, not 4"
	grep -q "$U on vfat (FAT): [0-9]* MiB free, the image needs up to [0-9]* MiB" /tmp/again.out ||
		fail "the refusal does not name the file system and the sizes"
	grep -q "suspended\|saving" /tmp/again.out && fail "the refused save suspended the guest"
	[ "$(stick)" = "$PARTS" ] ||
		fail "the refused save left [$(stick)] on the stick"
	check_domains witness
	check_witness witness "$before"
	metric refused_gap_ms "$DOWNTIME_MS"
	umount "$U"
	relocd_logs b
	pass "restored from FAT32 in ${restore_ms}ms (guest gap ${moved}ms); the save that cannot fit refused, guest gap then ${DOWNTIME_MS}ms"
fi
