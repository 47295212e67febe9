# SPDX-License-Identifier: GPL-2.0-or-later
#
# Sourced by the test scripts.  A test that cannot run because a tool is
# missing is skipped (exit 77, automake's SKIP) with one line saying what is
# missing and which Debian package brings it, so that a build in a minimal
# chroot (sbuild, pbuilder) is not failed by what it did not install.
# Under RELOCD_TESTS_STRICT=1 (tests/run-tests sets it) a skip is a
# failure instead: CI never silently stops running a test.
# shellcheck shell=sh

# skip_test REASON
skip_test() {
	if [ "${RELOCD_TESTS_STRICT:-0}" = 1 ]; then
		echo "${0##*/}: FAIL: would skip under RELOCD_TESTS_STRICT=1: $1" >&2
		exit 1
	fi
	echo "${0##*/}: SKIP: $1" >&2
	exit 77
}

# need_tools "TOOL..." "PACKAGE...": skips the test unless every TOOL is on
# PATH (PACKAGE...: what apt-get installs to bring them)
need_tools() {
	_nt_missing=
	for _nt in $1; do
		command -v "$_nt" >/dev/null 2>&1 || _nt_missing="$_nt_missing $_nt"
	done
	[ -z "$_nt_missing" ] || skip_test "missing$_nt_missing (apt-get install $2)"
}
