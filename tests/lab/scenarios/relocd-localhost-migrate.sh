# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015 # sourced after /lab/lib.sh (ELAPSED_MS...)
# xlab: hosts=1 xen=shadow timeout=240 default=yes
# xlab-desc: xl-reloc live migration between two relocd daemons in one dom0, there and back
# The project's own programs, on real Xen: relocd A (port 8002) and relocd B
# (port 8012) share the hypervisor, so each move is a localhost migration
# through the whole of relocd: reservation, relay, journal, commit.
[ -x /usr/local/sbin/relocd ] && [ -x /usr/local/sbin/xl-reloc ] ||
	fail "no relocd/xl-reloc in dom0 (lab build --bindir DIR)"

relocd_start() {	# NAME PORT
	mkdir -p "/run/r$1"
	{
		echo "relocation_port = $2"
		echo "state_dir = \"/run/r$1/state\""
		echo "pid_file = \"/run/r$1/relocd.pid\""
		echo "control_socket = \"/run/r$1/relocd.sock\""
		echo "allow_localhost_migration = 1"
	} > "/run/r$1/relocd.conf"
	/usr/local/sbin/relocd -n -c "/run/r$1/relocd.conf" ||
		fail "relocd $1: configuration refused"
	/usr/local/sbin/relocd -f -v -c "/run/r$1/relocd.conf" > "/run/r$1/log" 2>&1 &
	_n=0
	while [ ! -S "/run/r$1/relocd.sock" ]; do
		_n=$((_n + 1))
		[ $_n -gt 100 ] && { cat "/run/r$1/log"; fail "relocd $1 did not start"; }
		usleep 100000
	done
}
logs() { for r in a b; do say "--- relocd $r"; sed 's/^/  /' "/run/r$r/log"; done; }

relocd_start a 8002
relocd_start b 8012
witness_create witness 128 256

before=$(last_tick witness)
timed /usr/local/sbin/xl-reloc -c /run/ra/relocd.conf migrate --plain --port 8012 \
	--localhost witness 127.0.0.1 || { logs; fail "xl-reloc migrate A -> B failed"; }
metric migrate_ms "$ELAPSED_MS"
check_domains witness
check_witness witness "$before"
there=$DOWNTIME_MS
there_ms=$ELAPSED_MS

before=$(last_tick witness)
timed /usr/local/sbin/xl-reloc -c /run/rb/relocd.conf migrate --plain --port 8002 \
	--localhost witness 127.0.0.1 || { logs; fail "xl-reloc migrate B -> A failed"; }
metric migrate_back_ms "$ELAPSED_MS"
check_domains witness
check_witness witness "$before"
grep -q ACTIVATED /run/rb/state/journal && grep -q COMMIT_SENT /run/ra/state/journal ||
	{ logs; fail "the journals do not show the commit"; }
logs
pass "there ${there_ms}ms (guest gap ${there}ms), back ${ELAPSED_MS}ms (guest gap ${DOWNTIME_MS}ms)"
