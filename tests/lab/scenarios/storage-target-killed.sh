# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015,SC2046 # sourced after /lab/lib.sh; pids split
# xlab: hosts=2 xen=shadow timeout=480 default=yes
# xlab-desc: b's relocd killed while a's witness's disk is copied to it: the guest runs on at a and reads back every write it made, b's restart removes the volume it created
# As storage-cold (the same volume groups, made once per boot); a tells
# b when its disk's bytes are on their way (its progress shows disk bytes)
# and b kills its relocd, and the worker, with -9.  b suspends its new
# volume (dmsetup) as soon as it is created, so that the copy cannot
# end before the kill whatever the link's speed (a race before: the
# whole move could finish first); no bandwidth limit either: dom0's
# clock can run several times slow under load, a limit with it.  a's xl-reloc fails and the
# witness runs on at a, on its own volume, and reads the whole of it back
# (every write it completed is there: the failed move wrote none of a's
# blocks, and the pause lost none of its writes); b, restarted,
# reconciles: the container goes, and /dev/vgb/wdisk2, which it had
# created for the move, is removed (STATE_DIR/storage says it never
# committed).
storage_lab

if [ "$me" = a ]; then
	storage_witness wk wdisk2
	barrier 7301 300
	xr migrate --plain --port 8002 --non-live --with-storage \
	    --json wk "$XLAB_PEER" > /tmp/stk.out 2>&1 &
	mig=$!
	wait_for 300 logged /tmp/stk.out '"bytes_disk":[1-9]' ||
		{ kill "$mig"; fail "the disk copy never started"; }
	echo kill | nc "$XLAB_PEER" 7302
	wait "$mig" && fail "xl-reloc migrate succeeded though b's relocd was killed"
	tail -1 /tmp/stk.out
	check_domains wk
	check_advancing wk
	check_disk wk
	barrier 7303 300
	xl destroy wk
	wait_for 30 gone wk
	lvremove -q -f vga/wdisk2
	relocd_logs a
	pass "the guest runs on at a after b's relocd was killed mid-copy, its $DISK_WRITES disk writes all there"
else
	nc -l -p 7302 >/dev/null &
	told=$!
	barrier 7301 300
	# The volume is made at reservation, long before its bytes come:
	# suspended, it holds them (the receiver's fsync waits), so that the
	# move cannot finish before the kill, however fast the link.
	wait_for 120 lvs vgb/wdisk2 || fail "b never created vgb/wdisk2"
	dmsetup suspend vgb-wdisk2 || fail "cannot suspend vgb/wdisk2"
	wait $told
	kill -9 $(cat /run/rb/relocd.pid) $(grep -l "^PPid:.$(cat /run/rb/relocd.pid)$" /proc/[0-9]*/status 2>/dev/null |
	    cut -d/ -f3)
	# the killed worker's writes complete, and it dies
	dmsetup resume vgb-wdisk2 || fail "cannot resume vgb/wdisk2"
	say "killed relocd b and its workers while the disk was copied"
	relocd_run b
	wait_for 60 gone wk--incoming || fail "wk--incoming is still here after the restart"
	lvs vgb/wdisk2 >/dev/null 2>&1 &&
		{ lvs; relocd_logs b; fail "vgb/wdisk2 is still here after the restart"; }
	grep -q "removed /dev/vgb/wdisk2: the migration never committed" /run/rb/log ||
		{ relocd_logs b; fail "b's log does not say it removed vgb/wdisk2"; }
	check_domains
	barrier 7303 300
	relocd_logs b
	pass "b restarted: the container and its partial volume vgb/wdisk2 are gone"
fi
