# SPDX-License-Identifier: GPL-2.0-or-later
#
# Sourced by the integration scripts that run relocd-sim daemons on
# loopback, each on its own simulated Xen host under $T/HOST (tests/sim).
# It sets B, the tools, T (a scratch directory, unless the caller set one),
# the ports PA, PB (plain) and PT (TLS), the counters, and the helpers
# below; the caller installs "trap sim_cleanup EXIT".  Scripts that
# run side by side (make -j) set PORT_SALT to pick different ports.
# Knobs read by start: MEM (MiB per host), PEER_TIMEOUT, LOCALHOST_OK
# (allow_localhost_migration), RELOCD_FLAGS (e.g. -v).
# shellcheck shell=sh disable=SC2034	# the callers use these; POSIX sh
B=${BUILDDIR:-.}
SIMCTL=$B/tests/sim/simctl
RELOCD=$B/tests/sim/relocd-sim
CTLC=$B/tests/integration/ctlc
XLRELOC=$B/xl-plugin/xl-reloc
F_LIVE=0x2 F_LOCALHOST=0x40
# shellcheck source=tests/common/need.sh
. "${srcdir:-.}/tests/common/need.sh"
# pids_of and the scripts' own checks on workers
need_tools pgrep procps
T=${T:-$(mktemp -d "/tmp/${0##*/}.XXXXXX")}
# Below the ephemeral range (32768-).  Two make checks that run side by
# side (tests/run-tests: the sanitizer and the plain build) give each its
# half with PORT_HALF=0 or 1.
if [ -n "${PORT_HALF:-}" ]; then
	PA=$((20000 + PORT_HALF * 6000 + ($$ * 7 + ${PORT_SALT:-0} * 1000) % 5990))
else
	PA=$((20000 + ($$ * 7 + ${PORT_SALT:-0} * 1000) % 12000))
fi
PB=$((PA + 1))
PT=$((PA + 2))
pass=0 fail=0

# Stops every daemon this script started (by their pid files).
sim_cleanup() {
	for h in "$T"/*/; do
		h=${h%/}
		[ -f "$h/relocd.pid" ] && kill "$(cat "$h/relocd.pid")" 2>/dev/null
	done
	sleep 0.3
	rm -rf "$T"
}

ok() { pass=$((pass + 1)); echo "[       OK ] $1"; }
# bad TEXT: a failed case, with the last command's output ($OUT, by
# default $T/out) and every daemon's recent log
bad() {
	fail=$((fail + 1)); echo "[  FAILED  ] $1"
	[ -f "${OUT:-$T/out}" ] && cat "${OUT:-$T/out}"
	for h in "$T"/*/; do
		[ -f "$h/log" ] && { echo "--- relocd $(basename "$h"):"; tail -15 "$h/log"; }
	done
}
finish() {
	echo "[  PASSED  ] $pass test(s)."
	[ "$fail" -eq 0 ] || { echo "[  FAILED  ] $fail test(s), listed above"; exit 1; }
}

# pid_alive PID: PID names a process that has not exited (a zombie has)
pid_alive() {
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	case $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) in
	Z*|X*|"") return 1 ;;
	esac
}

# pids_of HOST: its relocd and that relocd's workers
pids_of() {
	p=$(cat "$T/$1/relocd.pid" 2>/dev/null) || return 0
	echo $(pgrep -P "$p") "$p"
}

# kill9 HOST: its relocd and that relocd's workers die as one, as in a
# crash of the host: all are stopped first, so that none of them sees
# another go and acts on it (a parent that reaps its killed worker and
# reconciles the job before its own SIGKILL lands, on a loaded machine)
kill9() {
	_k=$(pids_of "$1")
	[ -n "$_k" ] || return 0
	# shellcheck disable=SC2086	# pids: words
	kill -STOP $_k 2>/dev/null
	# shellcheck disable=SC2086
	kill -9 $_k 2>/dev/null
}

# stop_unlocked HOST: its relocd and that relocd's workers stopped
# (SIGSTOP) at a moment when none of them holds the simulated host's lock,
# into $stalled.  One stopped inside a simulated hypervisor call would
# hold it, and every later call, simctl's own included, would wait for a
# SIGCONT that only comes after them (an idle spare worker or the monitor
# caught mid-call).  Locks are held for a call's length: a few retries.
stop_unlocked() {
	stalled=$(pids_of "$1")
	_i=0
	while [ $_i -lt 200 ]; do
		# shellcheck disable=SC2086	# pids: words
		kill -STOP $stalled 2>/dev/null
		flock -n -x "$T/$1/host/lock" true && return 0
		# shellcheck disable=SC2086
		kill -CONT $stalled 2>/dev/null
		_i=$((_i + 1))
		sleep 0.01
	done
	echo "stop_unlocked: $1 kept its host's lock through 200 tries" >&2
	return 1
}

# Runs relocd HOST on its existing configuration; the log is appended to,
# so a restart keeps what came before.  Waits for its control socket.
daemon_start() {	# HOST
	h=$1
	# The state directory's pid file stays locked until the last relocd
	# on it has exited, which can be after its monitor has said it
	# stopped or after kill -9 returned: wait for it (20 s at most) rather
	# than lose a race to its lock.
	if [ -f "$T/$h/relocd.pid" ]; then
		_old=$(cat "$T/$h/relocd.pid" 2>/dev/null)
		for _ in $(seq 200); do
			pid_alive "$_old" || break
			sleep 0.1
		done
	fi
	rm -f "$T/$h/relocd.sock"
	# shellcheck disable=SC2086	# RELOCD_FLAGS: words
	RELOCD_SIM_DIR=$T/$h/host "$RELOCD" -f ${RELOCD_FLAGS:-} -c "$T/$h/relocd.conf" >>"$T/$h/log" 2>&1 &
	for _ in $(seq 50); do
		[ -S "$T/$h/relocd.sock" ] && return 0
		sleep 0.1
	done
	echo "relocd $h did not start:"; cat "$T/$h/log"; exit 1
}

# A simulated host HOST (kept if it exists) and its relocd on PORT.
start() {	# HOST PORT [extra config]
	h=$1
	mkdir -p "$T/$h"
	[ -d "$T/$h/host" ] || "$SIMCTL" -d "$T/$h/host" init --mem-mib "${MEM:-1024}" >/dev/null
	cat > "$T/$h/relocd.conf" <<CONF
relocation_server = 1
relocation_port = $2
state_dir = "$T/$h/state"
pid_file = "$T/$h/relocd.pid"
control_socket = "$T/$h/relocd.sock"
allow_localhost_migration = ${LOCALHOST_OK:-1}
peer_timeout = ${PEER_TIMEOUT:-10}
${3:-}
CONF
	daemon_start "$h"
}

# names on host H, sorted, each followed by a space
names() { "$SIMCTL" -d "$T/$1/host" list | awk '{ print $2 }' | sort | tr '\n' ' '; }
sum() { "$SIMCTL" -d "$T/$1/host" checksum "$2"; }
# info HOST DOMAIN KEY: one field of simctl info
info() { "$SIMCTL" -d "$T/$1/host" info "$2" | awk -v k="$3:" '$1 == k { print $2 }'; }
# hup HOST: reload HOST's relocd, and wait until it says how that went
# (a line naming the reload, either way; 20 s at most): what runs next
# must see the configuration it loaded, however slow the machine.
hup() {
	_n=$(grep -c "reload" "$T/$1/log")
	kill -HUP "$(cat "$T/$1/relocd.pid")"
	for _ in $(seq 200); do
		[ "$(grep -c "reload" "$T/$1/log")" -gt "$_n" ] && return 0
		sleep 0.1
	done
	return 1
}
# migrate HOST DOMAIN PORT FLAGS: through the control protocol (ctlc)
migrate() { "$CTLC" "$T/$1/relocd.sock" migrate "$2" 127.0.0.1 "$3" "$4" > "$T/out" 2>&1; }
# held HOST POINT: a process of HOST stands at the simulated host's hold
# point POINT (simctl fault hold POINT; 60 s at most)
held() {
	for _ in $(seq 600); do
		grep -q "^$2 " "$T/$1/host/held" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# X HOST ARGS...: xl-reloc against HOST's daemon
X() { h=$1; shift; "$XLRELOC" -c "$T/$h/relocd.conf" "$@"; }
# json FILE KEY: a numeric field of the result line of xl-reloc --json
json() { grep '"event":"result"' "$1" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"; }
# no_leftovers HOST...: no --incoming or --migratedaway on any of them
no_leftovers() {
	for h in "$@"; do
		"$SIMCTL" -d "$T/$h/host" list | grep -q -- '--' && return 1
	done
	return 0
}

# A throwaway PKI: CAs "ca", "rogue-ca" and "other-ca"; certificates
# a, b (by ca), rogue (by rogue-ca), a2, b2 (by other-ca), each with
# CN host-NAME and SAN localhost, 127.0.0.1.
pki() {
	need_tools openssl openssl
	mkdir -p "$T/pki"
	for ca in ca rogue-ca other-ca; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-subj "/CN=test-$ca" -days 1 -keyout "$T/pki/$ca.key" \
			-out "$T/pki/$ca.pem" 2>/dev/null
	done
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$T/pki/ext"
	for _pn in a:ca b:ca rogue:rogue-ca a2:other-ca b2:other-ca; do
		_pca=${_pn#*:} _pn=${_pn%%:*}
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-subj "/CN=host-$_pn" -keyout "$T/pki/$_pn.key" -out "$T/pki/$_pn.csr" 2>/dev/null
		openssl x509 -req -in "$T/pki/$_pn.csr" -CA "$T/pki/$_pca.pem" \
			-CAkey "$T/pki/$_pca.key" -CAcreateserial -days 1 \
			-extfile "$T/pki/ext" -out "$T/pki/$_pn.pem" 2>/dev/null
	done
}
tls_conf() {	# CERT [CA]
	printf 'tls_cert = "%s"\ntls_key = "%s"\ntls_ca = "%s"\n' \
		"$T/pki/$1.pem" "$T/pki/$1.key" "$T/pki/${2:-ca}.pem"
}
# A TLS port PORT with certificate CERT: what a relocd needs to be asked
# about an in-doubt job (QUERY goes over TLS only).
tls_on() {	# CERT PORT
	tls_conf "$1"
	printf 'relocation_ssl_server = 1\nrelocation_ssl_port = %s\n' "$2"
}
