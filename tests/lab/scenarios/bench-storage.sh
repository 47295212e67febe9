# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015,SC2046 # sourced after /lab/lib.sh; wlogs splits
# xlab: hosts=2 xen=shadow timeout=7200 default=no
# xlab-desc: benchmark (bench/lab-storage): a witness moved a -> b with its disk, against disk size, and against dd | nc + xl migrate
# A writing witness (storage_witness: 96 MiB, its disk an LVM volume of
# SIZE MiB filled with its pattern, ten durable writes a second) moves
# from a to b, once per contender and disk size, ROUNDS times over (the
# contenders' order alternating by round), each move on a new guest:
#   non-live  xl-reloc migrate --plain --non-live --with-storage
#   live      xl-reloc migrate --plain --with-storage (the live disk copy)
#   ddxl      by hand, as people do it today: xl save (the guest stops),
#             dd of the volume through nc into a volume made on b, the
#             image through nc, and xl restore on b with the configuration
#             naming b's volume (xl migrate cannot: it needs the guest
#             running to suspend it, and the disk must not change after
#             its copy)
# Every arrival is checked on b as in storage-cold: the guest runs, its
# ticks went on from where they were, and it reads its whole disk back
# (check_disk), so that no figure is of a copy that lost a write.  Per
# move, ROW = CONTENDER_SIZE (non-live -> nonlive): ROW_ms (wall time of
# the whole move at a; by hand, a's part, and ROW_restore_ms b's
# restore), ROW_down_ms (the guest's own largest gap, on b),
# ROW_bytes (bytes a sent on its link, TCP/IP headers included), and for
# xl-reloc ROW_paused_ms and ROW_wire_bytes (its own account).
# bench/lab-storage puts the parameters in the overlay.
ROUNDS=$(cat /etc/xlab/storage-rounds 2>/dev/null || echo 1)
SIZES=$(cat /etc/xlab/storage-sizes 2>/dev/null || echo "64 256 512")
MODES=$(cat /etc/xlab/storage-modes 2>/dev/null || echo "non-live ddxl")
max=0
for s in $SIZES; do [ "$s" -gt "$max" ] && max=$s; done
# room for one disk of the largest size (moves never overlap); dom0
# holds the volume group's file in its memory (bench/lab-storage boots
# dom0 with more)
vgs "vg$XLAB_ROLE" >/dev/null 2>&1 || lvm_lab "vg$XLAB_ROLE" $((max + 32))
storage_lab

link_tx() { cat /sys/class/net/eth0/statistics/tx_bytes; }
port=7500
step() { barrier $port 3600; port=$((port + 1)); }
LOGPORT=7499
# the hand-made move's receiving ends on b: the volume, the saved image,
# the configuration naming b's volume
for f in /dev/vgb/bwd /run/bw.save /tmp/bw-b.cfg; do
	printf '#!/bin/sh\nexec cat > %s\n' "$f" > "/tmp/recv-${f##*/}"
	chmod +x "/tmp/recv-${f##*/}"
done
by_hand() {
	xl save bw /run/bw.save >/dev/null &&
	    dd if=/dev/vga/bwd bs=1M 2>/dev/null | nc "$XLAB_PEER" 7401 &&
	    nc "$XLAB_PEER" 7402 < /run/bw.save && rm -f /run/bw.save
}
json() { grep '"event":"result"' /tmp/bs.out | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

# move CONTENDER SIZE: one move of a new witness with a SIZE MiB disk.
move() {
	row=$(echo "$1" | tr -d -)_$2
	say "--- $row"
	if [ "$me" = a ]; then
		WDISK_MIB=$2 storage_witness bw bwd
	else
		recv_logs_start $LOGPORT "$CONSLOG/guest-bw--source.log"
		if [ "$1" = ddxl ]; then
			lvcreate -q -n bwd -L "$2M" vgb || fail "lvcreate vgb/bwd failed"
			nc -l -p 7401 -e /tmp/recv-bwd &
			dpid=$!
			nc -l -p 7402 -e /tmp/recv-bw.save &
			ipid=$!
			nc -l -p 7403 -e /tmp/recv-bw-b.cfg &
			cpid=$!
		fi
	fi
	step
	if [ "$me" = a ] && [ "$1" = ddxl ]; then
		sed 's|/dev/vga/|/dev/vgb/|' /tmp/bw.cfg | nc "$XLAB_PEER" 7403 ||
			peer_fail $LOGPORT "cannot send b the configuration"
	fi
	if [ "$me" = a ]; then
		before=$(last_tick bw)
		tx=$(link_tx)
		case $1 in
		ddxl) timed by_hand ;;
		non-live) timed xr migrate --plain --port 8002 --non-live \
		    --with-storage --json bw "$XLAB_PEER" > /tmp/bs.out 2>&1 ;;
		live) timed xr migrate --plain --port 8002 --with-storage \
		    --json bw "$XLAB_PEER" > /tmp/bs.out 2>&1 ;;
		esac || { cat /tmp/bs.out 2>/dev/null; relocd_logs a; peer_fail $LOGPORT "$row: the move failed"; }
		metric "${row}_ms" "$ELAPSED_MS"
		metric "${row}_bytes" $(($(link_tx) - tx))
		if [ "$1" != ddxl ]; then
			metric "${row}_paused_ms" "$(json paused_ms)"
			metric "${row}_wire_bytes" "$(json bytes_wire)"
		fi
		check_domains
		send_logs $LOGPORT "$before" $(wlogs bw) ||
			fail "cannot send the console log to $XLAB_PEER"
		rm -f "$CONSLOG"/guest-bw*.log
		lvremove -q -f vga/bwd
	else
		if [ "$1" = ddxl ]; then
			wait "$cpid" "$dpid" "$ipid"
			timed xl restore /tmp/bw-b.cfg /run/bw.save >/dev/null ||
				fail "$row: xl restore on b failed"
			metric "${row}_restore_ms" "$ELAPSED_MS"
			rm -f /run/bw.save
		fi
		recv_logs_wait
		check_domains bw
		check_witness bw "$PEER_BEFORE"
		metric "${row}_down_ms" "$DOWNTIME_MS"
		check_disk bw
		witness_destroy bw
		lvremove -q -f vgb/bwd
	fi
	step
}

r=1
while [ $r -le "$ROUNDS" ]; do
	order=$MODES
	[ $((r % 2)) -eq 0 ] && order=$(echo "$MODES" | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }')
	for s in $SIZES; do
		for c in $order; do
			move "$c" "$s"
		done
	done
	r=$((r + 1))
done
relocd_logs "$me"
pass "$ROUNDS round(s) of [$MODES] over disks of [$SIZES] MiB"
