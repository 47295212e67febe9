#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2015,SC2011
#
# A save whose file system fails under it, as an NFS mount does when its
# server goes away (doc/architecture.md, "Images on NFS"), through relocd
# on the simulated host, with relocd-sim's image_fail knob
# (tests/sim/sim_imgio.c):
#   1. a write failing with ESTALE once 2 MiB are written, an fsync with
#      ETIMEDOUT (a soft mount's timeout, softerr), a close with EIO (NFS
#      reports write-back errors at close): each save fails with one line
#      that names the image, its file system and the error; the guest
#      runs again, its memory as it was; the older image of that name is
#      untouched, and no temporary file is left.
#   2. the knob off, the same save goes through and the image restores.
set -u
PORT_SALT=25
# shellcheck source=tests/integration/sim-lib.sh
. "${srcdir:-.}/tests/integration/sim-lib.sh"
trap sim_cleanup EXIT

fault() { "$SIMCTL" -d "$T/a/host" fault "$@"; }

start a "$PA"
"$SIMCTL" -d "$T/a/host" create guest --mem-mib 16 >/dev/null
mkdir -p "$T/img"
echo "an older image" > "$T/img/guest.xl"
before=$(sum a guest)

fails() {	# WHAT OP:ERRNO REASON
	what=$1 why=""
	fault image_fail "$2" >/dev/null
	if X a save guest "$T/img/guest.xl" > "$T/out" 2>&1; then
		why="the save went through"
	elif [ "$(grep -c '^xl-reloc: ' "$T/out")" -ne 1 ]; then
		why="not one error line"
	elif ! grep -q "^xl-reloc: .*image $T/img/guest.xl: $what failed.* on [a-z].*: $3.*the domain runs where it was" "$T/out"; then
		why="the error does not name the image, the file system and '$3'"
	elif [ "$(info a guest state)" != running ]; then
		why="guest is $(info a guest state), not running"
	elif [ "$(sum a guest)" != "$before" ]; then
		why="the guest's memory changed"
	elif [ "$(ls -A "$T/img")" != guest.xl ] ||
	    [ "$(cat "$T/img/guest.xl")" != "an older image" ]; then
		why="the image directory holds [$(ls -A "$T/img" | xargs)]"
	fi
	[ -z "$why" ] && ok "$what fails ($2): $(grep '^xl-reloc: ' "$T/out")" ||
		bad "$what ($2): $why"
}

fault image_fail_after 2097152 >/dev/null
fails write write:ESTALE "Stale file handle (the file or its directory was removed"
fault image_fail_after off >/dev/null
fails fsync fsync:ETIMEDOUT "Connection timed out"
fails close close:EIO "Input/output error"

fault image_fail off >/dev/null
if X a save guest "$T/img/guest.xl" > "$T/out" 2>&1 &&
    [ "$(ls -A "$T/img")" = guest.xl ] && X a verify "$T/img/guest.xl" > "$T/out" 2>&1 &&
    X a restore "$T/img/guest.xl" > "$T/out" 2>&1 && [ "$(sum a guest)" = "$before" ]; then
	ok "the knob off, the save goes through and restores"
else
	bad "the knob off, the save goes through and restores"
fi
finish
