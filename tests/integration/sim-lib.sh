# SPDX-License-Identifier: GPL-2.0-or-later
#
# Sourced by the integration scripts: relocd-sim daemons on loopback, each
# on its own simulated Xen host under $T/HOST (tests/sim), and the ways to
# look at them.  The caller sets T (a scratch directory) first.
# shellcheck shell=bash disable=SC2034	# the callers use these
B=${BUILDDIR:-.}
SIMCTL=$B/tests/sim/simctl
RELOCD=$B/tests/sim/relocd-sim
CTLC=$B/tests/integration/ctlc
XLRELOC=$B/xl-plugin/xl-reloc
F_LIVE=0x2 F_LOCALHOST=0x40

# Stops every daemon this script started (by their pid files).
sim_cleanup() {
	for h in "$T"/*/; do
		h=${h%/}
		[ -f "$h/relocd.pid" ] && kill "$(cat "$h/relocd.pid")" 2>/dev/null
	done
	sleep 0.3
	rm -rf "$T"
}

# Runs relocd HOST on its existing configuration; the log is appended to,
# so a restart keeps what came before.  Waits for its control socket.
daemon_start() {	# HOST
	h=$1
	rm -f "$T/$h/relocd.sock"
	RELOCD_SIM_DIR=$T/$h/host "$RELOCD" -f -c "$T/$h/relocd.conf" >>"$T/$h/log" 2>&1 &
	for _ in $(seq 50); do
		[ -S "$T/$h/relocd.sock" ] && return 0
		sleep 0.1
	done
	echo "relocd $h did not start:"; cat "$T/$h/log"; exit 1
}

# A new simulated host HOST and its relocd on PORT.
start() {	# HOST PORT [extra config]
	h=$1
	mkdir -p "$T/$h"
	"$SIMCTL" -d "$T/$h/host" init --mem-mib "${MEM:-1024}" >/dev/null
	cat > "$T/$h/relocd.conf" <<CONF
relocation_port = $2
state_dir = "$T/$h/state"
pid_file = "$T/$h/relocd.pid"
control_socket = "$T/$h/relocd.sock"
allow_localhost_migration = 1
peer_timeout = ${PEER_TIMEOUT:-10}
${3:-}
CONF
	daemon_start "$h"
}

# names on host H, one per line
names() { "$SIMCTL" -d "$T/$1/host" list | awk '{ print $2 }' | sort | tr '\n' ' '; }
sum() { "$SIMCTL" -d "$T/$1/host" checksum "$2"; }
migrate() { "$CTLC" "$T/$1/relocd.sock" migrate "$2" 127.0.0.1 "$3" "$4" > "$T/out" 2>&1; }
