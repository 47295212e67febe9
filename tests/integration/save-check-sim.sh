#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2015
#
# A save whose image cannot fit is refused before the guest is paused
# (common/save_check.c): here the largest file is this process's
# RLIMIT_FSIZE (ulimit -f), which save_check reads as it reads FAT's
# 4 GiB.  The user is told the file system, the sizes and the way out,
# exit status 4; the guest was never suspended (no "saving" step, still
# running), nothing is written.  Through relocd and with --direct.  A
# compressed save is not refused (its size is unknown) and, being small,
# goes through.
set -u
PORT_SALT=19
# shellcheck source=tests/integration/sim-lib.sh
. "${srcdir:-.}/tests/integration/sim-lib.sh"
trap sim_cleanup EXIT
XLRELOC_SIM=$B/tests/sim/xl-reloc-sim

refused() {	# NAME COMMAND...
	what=$1 why=""
	shift
	"$SIMCTL" -d "$T/a/host" create big --mem-mib 16 >/dev/null
	mkdir -p "$T/img"
	if (ulimit -f 4096; "$@" > "$T/out" 2>&1); then rc=0; else rc=$?; fi
	if [ "$rc" -ne 4 ]; then why="exit $rc, want 4"
	elif ! grep -q "$T/img on [a-z].*: the image needs up to 18 MiB, more than this process's file size limit (RLIMIT_FSIZE, ulimit -f), 4 MiB: split it (--split 3M), raise the limit" "$T/out"; then
		why="the refusal does not name the file system, the sizes and the fix"
	elif grep -q "saving\|suspended" "$T/out"; then why="the save started"
	elif [ "$(info a big state)" != running ]; then why="big is not running"
	elif [ -n "$(ls -A "$T/img")" ]; then why="written: $(ls -A "$T/img")"
	fi
	[ -z "$why" ] && ok "$what: refused before the guest pauses" || bad "$what: $why"
	"$SIMCTL" -d "$T/a/host" destroy big >/dev/null
}

start a "$PA"
refused "save --direct" env RELOCD_SIM_DIR="$T/a/host" "$XLRELOC_SIM" \
    -c "$T/a/relocd.conf" save --direct big "$T/img/big.xl"
(ulimit -f 4096; kill "$(cat "$T/a/relocd.pid")"
	for _ in $(seq 50); do [ -f "$T/a/relocd.pid" ] || break; sleep 0.1; done
	daemon_start a)
refused "save through relocd" X a save big "$T/img/big.xl"

"$SIMCTL" -d "$T/a/host" create small --mem-mib 16 >/dev/null
if (ulimit -f 4096; X a save --compress small "$T/img/small.xl" > "$T/out" 2>&1) &&
    [ -s "$T/img/small.xl" ] && ! "$SIMCTL" -d "$T/a/host" list | grep -q small; then
	ok "a compressed save is not refused on size"
else
	bad "a compressed save is not refused on size"
fi
finish
