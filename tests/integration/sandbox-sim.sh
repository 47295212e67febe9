#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The pre-authentication sandbox (doc/security.md): a peer's TLS
# handshake, certificate checks, preamble and HELLO run in a process that
# has given up its user, its root directory, its way back to privileges
# and most system calls.  A stalled handshake is looked at from outside
# (/proc): its ids are the sandbox user's, its root is the empty
# directory, no_new_privs and a seccomp filter are on, it has no
# capability, and with its ids the simulated host's privileged files (a
# root-only stand-in for /dev/xen/privcmd, the host table) and the key
# cannot be opened.  Then a TLS migration and a plaintext one go through
# it, each logging how the connection was handed to the worker, and no
# sandbox is left behind.  Run as another user than root, the sandbox
# cannot change user or root: those checks are skipped, the rest run.
set -u
PORT_SALT=27 LOCALHOST_OK=1
# shellcheck source=tests/integration/sim-lib.sh
. "$(dirname "$0")/sim-lib.sh"
CROWD=$B/tests/integration/crowd
crowd_pid=""
trap 'kill $crowd_pid 2>/dev/null; sim_cleanup' EXIT

# sandboxes HOST: the pre-authentication processes of HOST's relocd, by
# their configuration (a relay outlives its worker for a few seconds)
sandboxes() { pgrep -f -- "-W preauth .*-c $T/$1/" || true; }
# field PID KEY: a line of its /proc status, the values space-separated
field() { awk -v k="$2:" '$1 == k { $1 = ""; print substr($0, 2) }' "/proc/$1/status" | sed 's/ *$//'; }

pki
chmod 600 "$T"/pki/*.key
start a "$PA" "$(tls_conf a)"
start b "$PB" "$(tls_on b "$PT")
preauth_timeout = 300"
"$SIMCTL" -d "$T/a/host" create web --mem-mib 16 >/dev/null
"$SIMCTL" -d "$T/a/host" create plain --mem-mib 16 >/dev/null
install -m 600 /dev/null "$T/b/host/privcmd"

# 1. A handshake that stalls after its ClientHello, in the sandbox.
"$CROWD" 127.0.0.4 "$PT" 1 hello > "$T/crowd" 2>&1 &
crowd_pid=$!
sb=""
for _ in $(seq 300); do
	sb=$(sandboxes b | head -1)
	[ -n "$sb" ] && grep -q "^Seccomp:.*2" "/proc/$sb/status" 2>/dev/null && break
	sleep 0.1
done
if [ -n "$sb" ] && [ "$(field "$sb" NoNewPrivs)" = 1 ] &&
    [ "$(field "$sb" Seccomp)" = 2 ] &&
    [ "$(field "$sb" CapEff)" = 0000000000000000 ] &&
    [ "$(field "$sb" CapPrm)" = 0000000000000000 ]; then
	ok "the handshake runs with no_new_privs, a seccomp filter, no capability"
else bad "sandbox ${sb:-not found}: $(cat "/proc/$sb/status" 2>/dev/null | grep -E 'NoNew|Seccomp|Cap(Eff|Prm)' | tr '\n' ' ')"; fi

if [ "$(id -u)" != 0 ]; then
	echo "# not root: the sandbox keeps uid $(id -u) and the root directory; those checks skipped"
else
	uid=$(id -u _relocd 2>/dev/null || id -u nobody) gid=$(id -g _relocd 2>/dev/null || id -g nobody)
	if [ "$(field "$sb" Uid)" = "$uid $uid $uid $uid" ] &&
	    [ "$(field "$sb" Gid)" = "$gid $gid $gid $gid" ] &&
	    [ "$(field "$sb" Groups)" = "$gid" ]; then
		ok "the sandbox runs as uid $uid gid $gid, no other group"
	else bad "sandbox ids: $(grep -E '^(Uid|Gid|Groups)' "/proc/$sb/status" | tr '\n' ' ')"; fi
	if [ "$(readlink "/proc/$sb/root")" = "$T/b/state/empty" ] &&
	    [ -z "$(ls -A "/proc/$sb/root/")" ] &&
	    [ "$(stat -c %u:%a "$T/b/state/empty")" = 0:555 ]; then
		ok "its root is the empty directory $T/b/state/empty"
	else bad "sandbox root: $(readlink "/proc/$sb/root") $(ls -A "/proc/$sb/root/" | head -3)"; fi
	as_sandbox() { setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@" 2>/dev/null; }
	if ! as_sandbox cat "$T/b/host/privcmd" && ! as_sandbox sh -c ": >> '$T/b/host/host'" &&
	    ! as_sandbox cat "$T/pki/b.key" && ! as_sandbox ls "$T/b/state/" >/dev/null &&
	    [ ! -e "/proc/$sb/root$T/b/host/privcmd" ]; then
		ok "with its ids, the host's privileged files and the key cannot be opened"
	else bad "the sandbox's ids open a privileged file"; fi
fi
kill "$crowd_pid" 2>/dev/null; crowd_pid=""

# A sandbox user that does not exist would fail every connection: relocd
# refuses to start with it, and says why.
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$T/u"
	sed 's/^relocation_port = .*/relocation_port = '"$((PT + 1))"'/; s|'"$T"'/b/|'"$T"'/u/|' \
		"$T/b/relocd.conf" > "$T/u/relocd.conf"
	echo 'sandbox_user = [ "no-such-user-relocd" ]' >> "$T/u/relocd.conf"
	RELOCD_SIM_DIR=$T/b/host timeout 20 "$RELOCD" -f -c "$T/u/relocd.conf" > "$T/u/log" 2>&1; rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] &&
	    grep -q "sandbox_user: none of its 1 names is a user here" "$T/u/log"; then
		ok "a sandbox_user that is no user here: relocd refuses to start"
	else bad "sandbox_user no-such-user-relocd: rc $rc, $(head -3 "$T/u/log")"; fi
fi

# 2. Migrations through the sandbox: TLS relayed by it (this kernel's
#    tls module or not: the log says which), plaintext handed over.
if X a migrate --localhost --tls --port "$PT" web 127.0.0.1 > "$T/out" 2>&1 &&
    [ "$(info b web state)" = running ] &&
    grep -q "authenticated in the sandbox (uid [0-9]*): \(TLS kept in the sandbox\|kernel TLS socket handed over\)" "$T/b/log" &&
    grep -q "presented certificate.*host-a" "$T/b/log"; then
	ok "a TLS migration through the sandbox: $(grep -o "authenticated in the sandbox.*" "$T/b/log" | tail -1)"
else bad "a TLS migration through the sandbox"; fi
if X a migrate --localhost --plain --port "$PB" plain 127.0.0.1 > "$T/out" 2>&1 &&
    [ "$(info b plain state)" = running ] &&
    grep -q "authenticated in the sandbox (uid [0-9]*): plain socket handed over" "$T/b/log"; then
	ok "a plaintext migration: the socket handed over"
else bad "a plaintext migration through the sandbox"; fi
left=""
for _ in $(seq 300); do	# a relay lingers 10 s at most for its peer
	left=$(sandboxes b)
	[ -z "$left" ] && break
	sleep 0.1
done
if [ -z "$left" ] && no_leftovers a b; then
	ok "no sandbox left once the connections ended"
else bad "left: sandboxes '$left', $(names b)"; fi

finish
