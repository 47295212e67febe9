#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Moving a domain with its raw image disk while it runs (xl-reloc migrate
# --with-storage, live) between two simulated hosts, a writer process
# standing in for the guest's writes to its disk.  The disk goes whole
# (pass 0) and then as delta passes with the guest running, the memory
# goes live, and with the guest suspended the last delta: the target's
# file then holds what the source's held at the pause.  A cancel and a
# target killed in the middle of a delta pass leave the domain running
# at the source and the target's file gone; a target that does not
# receive disks live refuses before anything moves, in one line.
set -u
PORT_SALT=29
# shellcheck source=tests/integration/sim-lib.sh
. "$(dirname "$0")/sim-lib.sh"
writer=
live_cleanup() {
	[ -n "$writer" ] && kill "$writer" 2>/dev/null
	"$SIMCTL" -d "$T/a/host" fault hold off 2>/dev/null
	sim_cleanup
}
trap live_cleanup EXIT

mkdir -p "$T/a/disks" "$T/b/disks" "$T/b"
"$SIMCTL" -d "$T/b/host" init --mem-mib 1024 >/dev/null
"$SIMCTL" -d "$T/b/host" host attach_disks 1
start a "$PA"
start b "$PB" "receive_disk_paths = [ \"$T/b/disks\" ]
storage_map = [ \"$T/a/disks=$T/b/disks\" ]"

# guest NAME DISK-MIB: a domain on A with a disk of random bytes
guest() {
	"$SIMCTL" -d "$T/a/host" create "$1" --mem-mib 8 >/dev/null
	head -c "$(($2 * 1048576))" /dev/urandom > "$T/a/disks/$1.img"
	"$SIMCTL" -d "$T/a/host" disk "$1" "$T/a/disks/$1.img"
}
# write_blocks FILE: rewrites one random 64 KiB block of FILE after
# another, in place, until writer_stop (the guest's writes; a few dozen a
# second, not to starve the daemons of a loaded machine)
write_blocks() {
	_n=$(($(stat -c %s "$1") / 65536))
	while [ ! -e "$T/writer.stop" ]; do
		dd if=/dev/urandom of="$1" bs=65536 count=1 seek=$((RANDOM % _n)) \
			conv=notrunc status=none
		sleep 0.02
	done
}
# rewrite_all FILE: rewrites the whole of FILE again and again: at 1 MiB/s
# every delta pass then holds all of it, and lasts seconds
rewrite_all() {
	while [ ! -e "$T/writer.stop" ]; do
		head -c "$(stat -c %s "$1")" /dev/urandom |
			dd of="$1" bs=1M conv=notrunc iflag=fullblock status=none
		sleep 0.2
	done
}
# writer_stop: the writer finishes the write it is in and stops; once it
# returns nothing writes any more (a kill would leave its dd running on,
# writing after the caller took the file's digest, on a loaded machine)
writer_stop() {
	: > "$T/writer.stop"
	wait "$writer" 2>/dev/null
	rm -f "$T/writer.stop"
	writer=
}
state() { "$SIMCTL" -d "$T/$1/host" list | awk -v n="$2" '$2 == n { print $3 }'; }
# seen TEXT: the migration's progress (in $T/out) shows TEXT (60 s)
seen() {
	for _ in $(seq 600); do
		grep -qF "$1" "$T/out" && return 0
		sleep 0.1
	done
	return 1
}

# 1. The writer keeps writing through pass 0 and the delta passes.  At
#    the start of the memory's save one more block is written (so that
#    the last pass has something to carry, whatever the timing), and at
#    the suspend the writer stops: the source's file as it is then is
#    what the target must hold.
guest web 4
write_blocks "$T/a/disks/web.img" & writer=$!
"$SIMCTL" -d "$T/a/host" fault hold save
X a migrate --plain --port "$PB" --with-storage --json --bandwidth 4M \
	web 127.0.0.1 > "$T/out" 2>&1 & xr=$!
held a save && printf 'after the last delta pass' |
	dd of="$T/a/disks/web.img" bs=65536 seek=3 conv=notrunc status=none
"$SIMCTL" -d "$T/a/host" fault hold suspended
held a suspended && writer_stop
at_pause=$(sha256sum < "$T/a/disks/web.img")
"$SIMCTL" -d "$T/a/host" fault hold off
wait "$xr"; rc=$?
if [ "$rc" -eq 0 ] && [ "$(state b web)" = running ] && [ -z "$(state a web)" ] &&
    [ "$(sha256sum < "$T/b/disks/web.img")" = "$at_pause" ] &&
    [ "$(sha256sum < "$T/a/disks/web.img")" = "$at_pause" ] &&
    [ "$(json "$T/out" disk_passes)" -ge 1 ] &&
    [ "$(json "$T/out" disk_last_bytes)" -ge 65536 ] &&
    [ "$(json "$T/out" bytes_disk)" -gt $((4 * 1048576)) ] &&
    grep -q "disks\[0\] complete at $T/b/disks/web.img after pass" "$T/b/log"; then
	ok "moved live while written: the target's file is the source's at the pause"
else bad "moved live while written (rc $rc)"; fi

# mid_pass NAME: NAME (a new domain with a 4 MiB disk that a writer
# rewrites whole, again and again) moves to B at 1 MiB/s; returns once
# its progress shows delta pass 1 (the move's xl-reloc is $xr, its JSON
# in $T/out)
mid_pass() {
	guest "$1" 4
	rewrite_all "$T/a/disks/$1.img" & writer=$!
	X a migrate --plain --port "$PB" --with-storage --json --bandwidth 1M \
		"$1" 127.0.0.1 > "$T/out" 2>&1 & xr=$!
	seen "disks[0] pass 1"
}

# 2. Cancelled in the middle of a delta pass: the domain runs at the
#    source, the target's file is gone, the source's is the writer's.
mid_pass can && X a cancel "$(sed -n 's/.*"event":"accepted","job":\([0-9]*\).*/\1/p' "$T/out")" >/dev/null 2>&1
wait "$xr"; rc=$?
writer_stop
if [ "$rc" -ne 0 ] && grep -q '"code":"cancelled"' "$T/out" &&
    [ "$(state a can)" = running ] && [ -z "$(state b can--incoming)" ] &&
    [ ! -e "$T/b/disks/can.img" ] &&
    grep -qF "removed $T/b/disks/can.img: the migration did not commit" "$T/b/log"; then
	ok "cancelled in a delta pass: runs at the source, the target's file removed"
else bad "cancelled in a delta pass (rc $rc)"; fi

# 3. The target relocd killed in the middle of a delta pass: the source
#    says so and its guest runs on; the target's restart removes the
#    partial file.
mid=0
mid_pass kil && mid=1 && kill9 b
wait "$xr"; rc=$?
writer_stop
daemon_start b
for _ in $(seq 100); do [ -e "$T/b/disks/kil.img" ] || break; sleep 0.1; done
if [ "$mid" -eq 1 ] && [ "$rc" -ne 0 ] && [ "$(state a kil)" = running ] &&
    [ ! -e "$T/b/disks/kil.img" ] && [ -z "$(state b kil--incoming)" ] &&
    grep -qF "removed $T/b/disks/kil.img: the migration never committed" "$T/b/log"; then
	ok "target killed in a delta pass: runs at the source, its file removed at restart"
else bad "target killed in a delta pass (mid $mid, rc $rc)"; fi

# 4. A target that does not receive disks live (an older relocd, here
#    storage_live = 0): refused at the source before it reserves, in one
#    line that says what to do; --non-live still moves it.
echo "storage_live = 0" >> "$T/b/relocd.conf"
hup b
guest old 1
X a migrate --plain --port "$PB" --with-storage old 127.0.0.1 > "$T/out" 2>&1; rc=$?
if [ "$rc" -ne 0 ] && grep -qF "does not receive disks while the guest runs" "$T/out" &&
    grep -qF "use --non-live" "$T/out" && [ "$(state a old)" = running ] &&
    [ ! -e "$T/b/disks/old.img" ] && ! grep -q "reserved .* for old" "$T/b/log" &&
    X a migrate --plain --port "$PB" --with-storage --non-live old 127.0.0.1 > "$T/out" 2>&1 &&
    [ "$(state b old)" = running ] && cmp -s "$T/a/disks/old.img" "$T/b/disks/old.img"; then
	ok "a target without live disks: refused before anything moved; --non-live moves it"
else bad "a target without live disks (rc $rc)"; fi

finish
