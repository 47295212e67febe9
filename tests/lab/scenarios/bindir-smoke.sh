# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# xlab: hosts=1 xen=shadow timeout=60 default=no
# xlab-desc: the programs given with --bindir are in /usr/local/sbin and load in dom0
progs=$(ls /usr/local/sbin 2>/dev/null)
[ -n "$progs" ] || fail "no programs in /usr/local/sbin (lab build --bindir DIR)"
for p in $progs; do
	# the dynamic loader lists what it cannot find without running main()
	out=$(LD_TRACE_LOADED_OBJECTS=1 "/usr/local/sbin/$p" 2>&1) ||
		fail "$p: loader failed: $out"
	case $out in
	*"not found"*) fail "$p: $(echo "$out" | grep 'not found' | xargs)" ;;
	esac
	say "$p loads"
done
pass "$(echo "$progs" | xargs) load in dom0"
