#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2015
#
# Split images (xl-reloc save --split) between two simulated hosts: a
# saves, b, which never saw the domain, verifies and restores.
#   1. a save through relocd in parts of 4 MiB: NAME.000 to NAME.004, no
#      NAME and no temporary file; verify reads them as one image.
#   2. a set with a part missing, reordered, truncated or extra, or with
#      a part of another save, is refused by verify and by restore with
#      one line naming the part; nothing is built on b.
#   3. the set restores on b; the guest's memory is what it was on a.
#   4. --direct under a 4 MiB file size limit (ulimit -f, as FAT's 4 GiB
#      is read): unsplit refused before the pause, naming --split; split
#      into 3 MiB parts it goes through, and restores from NAME.000.
#   5. the reservation ledger holds a restore as it holds a migration:
#      with b's memory promised to an incoming migration, the restore is
#      refused by the ledger (exit 3, its sizes named) before anything is
#      built; once the migration is done and gone, it runs.
#   6. a split save whose worker is killed with temporary parts written:
#      relocd removes every one of them, the guest runs again.
set -u
PORT_SALT=23
# shellcheck source=tests/integration/sim-lib.sh
. "${srcdir:-.}/tests/integration/sim-lib.sh"
trap sim_cleanup EXIT
XLRELOC_SIM=$B/tests/sim/xl-reloc-sim

# direct HOST ARGS...: xl-reloc --direct in this process on HOST
direct() {
	h=$1
	shift
	RELOCD_SIM_DIR=$T/$h/host "$XLRELOC_SIM" -c "$T/$h/relocd.conf" "$@"
}
# refused WHAT WANT COMMAND...: non-zero, one line of error with WANT
# (progress goes to stdout), nothing built on b
refused() {
	what=$1 want=$2 why=""
	shift 2
	if "$@" > "$T/out" 2> "$T/err"; then why="accepted"
	elif ! grep -qF -- "$want" "$T/err"; then why="no \"$want\""
	elif [ "$(grep -c . "$T/err")" -ne 1 ]; then why="not one line"
	elif grep -q "restoring" "$T/out"; then why="a domain was built first"
	elif [ -n "$(names b)" ]; then why="built on b: $(names b)"
	fi
	[ -z "$why" ] && ok "$what" || OUT=$T/err bad "$what: $why"
}

start a "$PA"
MEM=48 start b "$PB"
I=$T/img
mkdir -p "$I"

# 1.
"$SIMCTL" -d "$T/a/host" create web --mem-mib 16 >/dev/null
before=$(sum a web)
if X a save --split 4M web "$I/web.xl" > "$T/out" 2>&1 &&
    [ "$(ls -A "$I" | tr '\n' ' ')" = "web.xl.000 web.xl.001 web.xl.002 web.xl.003 web.xl.004 " ] &&
    [ "$(stat -c %s "$I/web.xl.001")" -eq $((4 * 1048576 + 48)) ] &&
    [ -z "$(names a)" ]; then
	ok "save --split 4M: five parts, nothing else, the guest gone from a"
else bad "save --split 4M: [$(ls -A "$I")] a: $(names a)"; fi
if X a verify "$I/web.xl" > "$T/out" 2>&1 && grep -q "OK: domain web, .* in 5 parts" "$T/out"; then
	ok "verify takes the parts as one image"
else bad "verify takes the parts as one image"; fi

# 2. Each on a copy of the set.
damaged() {	# WHAT WANT SHELL-COMMAND (run in the copy)
	rm -rf "$T/bad"
	cp -a "$I" "$T/bad"
	(cd "$T/bad" && eval "$3")
	refused "verify, $1" "$2" X a verify "$T/bad/web.xl"
	refused "restore, $1" "$2" X b restore "$T/bad/web.xl"
}
damaged "part missing" "part $T/bad/web.xl.002 is missing (" "rm web.xl.002"
damaged "last part missing" "web.xl.004 is missing" "rm web.xl.004"
damaged "parts reordered" "web.xl.001 holds part 3, not 1: parts renamed or out of order" \
    "mv web.xl.001 x; mv web.xl.003 web.xl.001; mv x web.xl.003"
damaged "part truncated" "web.xl.003 is truncated: 4194351 bytes" \
    "truncate -s -1 web.xl.003"
damaged "part extra" "web.xl.004 is the last, but $T/bad/web.xl.005 follows it" \
    "cp web.xl.004 web.xl.005"
"$SIMCTL" -d "$T/a/host" create web --mem-mib 16 >/dev/null
X a save --split 4M web "$T/other.xl" > "$T/out" 2>&1 || bad "a second save"
damaged "a part of another save" "web.xl.002 belongs to another save" \
    "cp '$T/other.xl.002' web.xl.002"
refused "restore from a middle part" "is a part of a split image, not its first" \
    X b restore "$I/web.xl.003"

# 3.
if X b restore "$I/web.xl" > "$T/out" 2>&1 && [ "$(info b web state)" = running ] &&
    [ "$(sum b web)" = "$before" ]; then
	ok "restore on b from the parts: running, memory as it was on a"
else bad "restore on b from the parts: $(info b web state) $(sum b web) want $before"; fi
"$SIMCTL" -d "$T/b/host" destroy web >/dev/null

# 4.
"$SIMCTL" -d "$T/a/host" create db --mem-mib 8 >/dev/null
before=$(sum a db)
if (ulimit -f 4096; direct a save --direct db "$I/db.xl") > "$T/out" 2>&1; then rc=0; else rc=$?; fi
if [ "$rc" -eq 4 ] && grep -q "4 MiB: split it (--split 3M), raise the limit" "$T/out" &&
    [ "$(info a db state)" = running ] && [ ! -e "$I/db.xl" ]; then
	ok "--direct, unsplit, over the file size limit: refused, naming --split"
else bad "--direct, unsplit, over the file size limit: rc $rc"; fi
if (ulimit -f 4096; direct a save --direct --split 3M db "$I/db.xl") > "$T/out" 2>&1 &&
    [ -f "$I/db.xl.002" ] && [ ! -e "$I/db.xl.003" ] &&
    direct b restore --direct "$I/db.xl.000" > "$T/out" 2>&1 &&
    [ "$(sum b db)" = "$before" ]; then
	ok "--direct --split 3M under the limit: saved in three parts, restored"
else bad "--direct --split 3M under the limit"; fi
"$SIMCTL" -d "$T/b/host" destroy db >/dev/null

# 5. b has 48 MiB: a 40 MiB migration held after b reserved for it.
"$SIMCTL" -d "$T/a/host" create web --mem-mib 16 >/dev/null
X a save --split 4M web "$I/web.xl" > "$T/out" 2>&1 || bad "save web again"
"$SIMCTL" -d "$T/a/host" create big --mem-mib 40 >/dev/null
"$SIMCTL" -d "$T/a/host" fault hold save >/dev/null
X a migrate --plain --port "$PB" --localhost big 127.0.0.1 > "$T/mig" 2>&1 &
mig=$!
if held a save; then
	X b restore "$I/web.xl" > "$T/out" 2>&1; rc=$?
	if [ "$rc" -eq 3 ] && grep -q "cannot restore web here: .*KiB needed" "$T/out" &&
	    ! names b | grep -q "^web"; then
		ok "restore while b's memory is promised: the ledger refuses it"
	else bad "restore while b's memory is promised: rc $rc, b: $(names b)"; fi
else bad "the migration never reached its save"; fi
"$SIMCTL" -d "$T/a/host" fault hold off >/dev/null
wait "$mig" || bad "the migration of big: $(cat "$T/mig")"
"$SIMCTL" -d "$T/b/host" destroy big >/dev/null
if X b restore "$I/web.xl" > "$T/out" 2>&1 && [ "$(info b web state)" = running ]; then
	ok "with the memory free again, the restore runs"
else bad "with the memory free again, the restore runs"; fi

# 6. The simulated save stalls after 3 MiB of stream: once the writer
#    has it all (header, config and 3 MiB: four parts of 1 MiB), the
#    worker is killed.
temps() { for f in "$I/.s3.xl."*; do [ -e "$f" ] && echo "${f##*/}"; done; }
"$SIMCTL" -d "$T/a/host" create s3 --mem-mib 8 >/dev/null
"$SIMCTL" -d "$T/a/host" fault stall_after 3145728 >/dev/null
X a save --split 1M s3 "$I/s3.xl" > "$T/out" 2>&1 &
mpid=$!
for _ in $(seq 200); do
	[ "$(temps | wc -l)" -eq 4 ] && break
	sleep 0.1
done
during=$(temps | wc -l)
# its worker, not the monitor (relocd -W monitor)
for p in $(pgrep -P "$(cat "$T/a/relocd.pid")"); do
	tr "\\0" " " < "/proc/$p/cmdline" | grep -q " monitor" || kill -9 "$p"
done
wait "$mpid"
"$SIMCTL" -d "$T/a/host" fault stall_after off >/dev/null
for _ in $(seq 100); do
	[ "$(info a s3 state)" = running ] && [ -z "$(temps)" ] && break
	sleep 0.2
done
n=$(grep -c "removed $I/.s3.xl.[A-Za-z0-9]*.00[0-9], the temporary file" "$T/a/log")
if [ "$during" -eq 4 ] && [ "$n" -eq 4 ] && [ -z "$(temps)" ] &&
    [ "$(info a s3 state)" = running ] && ! ls "$I"/s3.xl* >/dev/null 2>&1; then
	ok "split save, worker killed: its 4 temporary parts removed, guest runs"
else bad "split save, worker killed: $during parts, $n removed, left [$(temps)], s3 $(info a s3 state)"; fi
finish
