#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Moving a domain with its local disks (xl-reloc migrate --with-storage)
# between two simulated hosts: the target maps each disk (storage_map),
# creates it, receives it after the memory and checks it end to end, and
# the domain arrives with its configuration pointing at the new files.
# Refusals at reservation (a destination that exists, one the receive
# policy does not allow, not enough space) name the disk in one line on
# both hosts and in xl-reloc's output, and nothing is created.  Failures
# after creation (a restore that fails, a target killed in the middle of
# the copy) remove every destination the target created and leave the
# domain running at the source on its own disks, which are never written.
set -u
PORT_SALT=27
# shellcheck source=tests/integration/sim-lib.sh
. "$(dirname "$0")/sim-lib.sh"
# Case 4 needs a file system of a known, small size: a 16 MiB tmpfs,
# which only root can mount.  Never the test's own file system, whose
# free space other processes change under it.
small=
storage_cleanup() {
	[ -n "$small" ] && umount "$small" 2>/dev/null
	sim_cleanup
}
trap storage_cleanup EXIT

mkdir -p "$T/a/disks" "$T/a/other" "$T/a/small" "$T/b/disks" "$T/b/other" \
    "$T/b/small"
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=16m relocd-test "$T/b/small"; then
	small=$T/b/small
fi
mkdir -p "$T/b"
"$SIMCTL" -d "$T/b/host" init --mem-mib 1024 >/dev/null
"$SIMCTL" -d "$T/b/host" host attach_disks 1
start a "$PA"
start b "$PB" "receive_disk_paths = [ \"$T/b/disks\", \"$T/b/small\" ]
storage_map = [ \"$T/a/disks=$T/b/disks\", \"$T/a/other=$T/b/other\",
    \"$T/a/small=$T/b/small\" ]"

# guest NAME MEM-MIB DISK-MIB...: a domain on A with a disk of random
# bytes per size, $T/a/disks/NAME.N.img
guest() {
	_g=$1 _m=$2 _n=0
	shift 2
	"$SIMCTL" -d "$T/a/host" create "$_g" --mem-mib "$_m" >/dev/null
	for _s in "$@"; do
		head -c "$((_s * 1048576))" /dev/urandom > "$T/a/disks/$_g.$_n.img"
		"$SIMCTL" -d "$T/a/host" disk "$_g" "$T/a/disks/$_g.$_n.img"
		_n=$((_n + 1))
	done
}
# state HOST DOMAIN
state() { "$SIMCTL" -d "$T/$1/host" list | awk -v n="$2" '$2 == n { print $3 }'; }
# mig DOMAIN ARGS...: xl-reloc migrate --with-storage to B, JSON in $T/out
mig() {
	_d=$1
	shift
	X a migrate --plain --port "$PB" --non-live --with-storage --json \
		"$@" "$_d" 127.0.0.1 > "$T/out" 2>&1
}

# 1. Two disks move: same bytes at B, the config names B's files, the
#    source's files stay, the disk bytes counted apart from memory.
guest web 8 3 1
sums=$(sha256sum < "$T/a/disks/web.0.img")$(sha256sum < "$T/a/disks/web.1.img")
if mig web && [ "$(state b web)" = running ] && [ -z "$(state a web)" ] &&
    [ "$(sha256sum < "$T/b/disks/web.0.img")$(sha256sum < "$T/b/disks/web.1.img")" = "$sums" ] &&
    [ "$(cat "$T"/b/host/disks.*)" = "$(printf '%s\n%s' "$T/b/disks/web.0.img" "$T/b/disks/web.1.img")" ] &&
    [ "$(sha256sum < "$T/a/disks/web.0.img")$(sha256sum < "$T/a/disks/web.1.img")" = "$sums" ] &&
    [ "$(json "$T/out" bytes_disk)" = $((4 * 1048576)) ] &&
    grep -q "disks\[1\] written to $T/b/disks/web.1.img and checked" "$T/b/log"; then
	ok "two disks moved, checked, the config rewritten; the source's kept"
else bad "two disks moved, checked, the config rewritten"; fi

# 2. A destination that exists is never overwritten: refused at
#    reservation, one line on both hosts and in xl-reloc's output.
guest db 8 1
echo keep > "$T/b/disks/db.0.img"
mig db; rc=$?
line="$T/b/disks/db.0.img exists here already"
if [ "$rc" -eq 3 ] && grep -qF "no-space" "$T/out" && grep -qF "$line" "$T/out" &&
    grep -qF "$line" "$T/a/log" && grep -qF "$line" "$T/b/log" &&
    [ "$(cat "$T/b/disks/db.0.img")" = keep ] && [ "$(state a db)" = running ] &&
    [ -z "$(state b db)" ]; then
	ok "an existing destination: refused before anything moved"
else bad "an existing destination: refused (rc $rc)"; fi
rm -f "$T/b/disks/db.0.img"

# 3. The receive policy judges where a disk would go, not where it was.
guest pol 8
head -c 1048576 /dev/urandom > "$T/a/other/pol.img"
"$SIMCTL" -d "$T/a/host" disk pol "$T/a/other/pol.img"
mig pol; rc=$?
if [ "$rc" -eq 3 ] && grep -qF "disks[0].pdev_path = \"$T/b/other/pol.img\": not under any receive_disk_paths entry" "$T/out" &&
    [ -z "$(ls "$T/b/other")" ] && [ "$(state a pol)" = running ]; then
	ok "the policy judges the destination: refused, nothing created"
else bad "the policy judges the destination (rc $rc)"; fi

# 4. Not enough space where it goes: a 32 MiB disk mapped onto the 16 MiB
#    file system (skipped where it cannot be mounted: not root).
if [ -n "$small" ]; then
	"$SIMCTL" -d "$T/a/host" create huge --mem-mib 8 >/dev/null
	truncate -s 32M "$T/a/small/huge.img"
	"$SIMCTL" -d "$T/a/host" disk huge "$T/a/small/huge.img"
	mig huge; rc=$?
	if [ "$rc" -eq 3 ] && grep -qF "MiB free where it goes, the disks need" "$T/out" &&
	    [ ! -e "$T/b/small/huge.img" ] && [ "$(state a huge)" = running ]; then
		ok "not enough space: refused at reservation"
	else bad "not enough space: refused at reservation (rc $rc)"; fi
	rm -f "$T/a/small/huge.img"
	# 4b. It fits, but would leave less than storage_min_free.
	"$SIMCTL" -d "$T/a/host" create near --mem-mib 8 >/dev/null
	truncate -s 4M "$T/a/small/near.img"
	"$SIMCTL" -d "$T/a/host" disk near "$T/a/small/near.img"
	cp "$T/b/relocd.conf" "$T/b/relocd.conf.orig"
	echo "storage_min_free = \"14M\"" >> "$T/b/relocd.conf"
	hup b
	mig near; rc=$?
	if [ "$rc" -eq 3 ] && grep -qF "no-space" "$T/out" &&
	    grep -qF "which would leave less than storage_min_free (14 MiB)" "$T/out" &&
	    [ ! -e "$T/b/small/near.img" ] && [ "$(state a near)" = running ]; then
		ok "storage_min_free: refused at reservation, nothing created"
	else bad "storage_min_free: refused at reservation (rc $rc)"; fi
	mv "$T/b/relocd.conf.orig" "$T/b/relocd.conf"
	hup b
	"$SIMCTL" -d "$T/a/host" destroy near >/dev/null 2>&1
	rm -f "$T/a/small/near.img"
else
	echo "# skipped: not enough space (needs root to mount a small tmpfs)"
fi

# 5. After the destinations are created the restore fails: they are
#    removed, the domain runs at the source again.
guest app 8 2
"$SIMCTL" -d "$T/b/host" fault restore_nomem 1
mig app; rc=$?
"$SIMCTL" -d "$T/b/host" fault restore_nomem off
if [ "$rc" -ne 0 ] && [ ! -e "$T/b/disks/app.0.img" ] &&
    grep -qF "removed $T/b/disks/app.0.img: the migration did not commit" "$T/b/log" &&
    [ "$(state a app)" = running ] && [ -z "$(state b app)" ]; then
	ok "a failure after creation removes the destination"
else bad "a failure after creation removes the destination (rc $rc)"; fi

# killed_mid_copy DOMAIN WHAT: a new domain with a 24 MiB disk moves to
# B slowly (--bandwidth); once disk bytes move, WHAT of B is killed with
# -9 (relocd: it and its workers; worker: its workers only).  MID: disk
# bytes had moved; RC: xl-reloc's status.
killed_mid_copy() {
	guest "$1" 4 24
	X a migrate --plain --port "$PB" --non-live --with-storage --json \
		--bandwidth 2M "$1" 127.0.0.1 > "$T/out" 2>&1 &
	_xr=$!
	for _ in $(seq 300); do
		grep -q '"bytes_disk":[1-9]' "$T/out" && break
		sleep 0.1
	done
	mid=$(grep -c '"bytes_disk":[1-9]' "$T/out")
	# shellcheck disable=SC2046	# pids: words
	case $2 in
	relocd) kill9 b ;;
	worker) kill -9 $(pgrep -P "$(cat "$T/b/relocd.pid")") 2>/dev/null ;;
	esac
	wait "$_xr"; rc=$?
}
# gone_soon FILE: FILE is removed within 10 s
gone_soon() {
	for _ in $(seq 100); do
		[ -e "$1" ] || return 0
		sleep 0.1
	done
	return 1
}

# 6. The target relocd killed in the middle of the copy: the domain runs
#    at the source, and the target's restart removes its partial disk.
killed_mid_copy big relocd
partial=$([ -e "$T/b/disks/big.0.img" ] && echo yes)
daemon_start b
gone_soon "$T/b/disks/big.0.img"
if [ "$mid" -gt 0 ] && [ "$rc" -ne 0 ] && [ "$partial" = yes ] &&
    [ ! -e "$T/b/disks/big.0.img" ] && [ "$(state a big)" = running ] &&
    [ -z "$(state b big)" ] && [ -z "$(state b big--incoming)" ] &&
    grep -qF "removed $T/b/disks/big.0.img: the migration never committed" "$T/b/log" &&
    [ -f "$T/b/state/storage" ] && [ ! -s "$T/b/state/storage" ]; then
	# (and the restart compacted b's storage journal: every job that
	# created a disk so far is settled for good)
	ok "target killed mid-copy: runs at the source, its disk removed at restart"
else bad "target killed mid-copy (mid $mid, rc $rc, partial ${partial:-no})"; fi

# 6b. Only the target's worker killed in the middle of the copy: its
#     relocd reconciles the job at once and removes the partial disk.
killed_mid_copy big2 worker
if [ "$mid" -gt 0 ] && [ "$rc" -ne 0 ] && gone_soon "$T/b/disks/big2.0.img" &&
    [ "$(state a big2)" = running ] && [ -z "$(state b big2--incoming)" ] &&
    grep -qF "removed $T/b/disks/big2.0.img: the migration never committed" "$T/b/log"; then
	ok "target worker killed mid-copy: its relocd removes the disk at once"
else bad "target worker killed mid-copy (mid $mid, rc $rc)"; fi

# 7. --remove-source-storage: the source's disk goes once B has it.
guest tmp 8 1
s=$(sha256sum < "$T/a/disks/tmp.0.img")
if mig tmp --remove-source-storage && [ "$(state b tmp)" = running ] &&
    [ ! -e "$T/a/disks/tmp.0.img" ] && [ "$(sha256sum < "$T/b/disks/tmp.0.img")" = "$s" ]; then
	ok "--remove-source-storage: removed at the source after the commit"
else bad "--remove-source-storage"; fi

finish
