# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015 # sourced after /lab/lib.sh (ELAPSED_MS...)
# xlab: hosts=1 xen=shadow timeout=480 default=yes
# xlab-desc: xl-reloc live migration between two relocd daemons in one dom0, there and back
# The project's own programs, on real Xen: relocd A (port 8002) and relocd B
# (port 8012) share the hypervisor, so each move is a localhost migration
# through the whole of relocd: reservation, the direct byte path, journal,
# commit.
relocd_pair
witness_create witness 128 256

before=$(last_tick witness)
timed xr migrate --plain --port 8012 \
	--localhost witness 127.0.0.1 || { relocd_logs a b; fail "xl-reloc migrate A -> B failed"; }
metric migrate_ms "$ELAPSED_MS"
check_domains witness
check_witness witness "$before"
# Two default relocd on plain TCP: libxl's stream straight into the socket
# at both ends (relocd/byte_path.c), never through the relay.
grep -q "witness: byte path: direct (plain TCP)" /run/ra/log &&
    grep -q "witness: byte path: direct (plain TCP)" /run/rb/log ||
	{ relocd_logs a b; fail "the migration did not take the direct byte path"; }
there=$DOWNTIME_MS
there_ms=$ELAPSED_MS

before=$(last_tick witness)
timed /usr/local/sbin/xl-reloc -c /run/rb/relocd.conf migrate --plain --port 8002 \
	--localhost witness 127.0.0.1 || { relocd_logs a b; fail "xl-reloc migrate B -> A failed"; }
metric migrate_back_ms "$ELAPSED_MS"
check_domains witness
check_witness witness "$before"
grep -q ACTIVATED /run/rb/state/journal && grep -q COMMIT_SENT /run/ra/state/journal ||
	{ relocd_logs a b; fail "the journals do not show the commit"; }
relocd_logs a b
pass "there ${there_ms}ms (guest gap ${there}ms), back ${ELAPSED_MS}ms (guest gap ${DOWNTIME_MS}ms)"
