#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The byte path (relocd/byte_path.c; doc/protocol.md, DIRECT): between
# two relocd on plain TCP, libxl's stream goes to the socket itself and
# each end logs "byte path: direct (plain TCP)", then the framed protocol
# goes on after the stream's END record; with TLS in user space (no kernel
# TLS here) the source's relay passes the stream raw through TLS and the
# target's libxl reads the sandbox's socketpair ("direct (TLS in user
# space, relayed raw)", "direct (TLS kept in the sandbox)"); compression,
# a bandwidth limit and either end's direct_stream = 0 keep the relay,
# and the log says why; a source that sets DIRECT without the grant is
# refused; a cancel, or a target that dies, mid-stream, leaves the guest
# running here, on both kinds of direct stream.  The assertions are on domain lists, memory and log
# lines, never on time.
set -u
PORT_SALT=27
. "${srcdir:-.}/tests/integration/sim-lib.sh"
RAWPEER=$B/tests/integration/rawpeer
trap sim_cleanup EXIT

pki
start a "$PA" "$(tls_conf a)"
start b "$PB" "$(tls_on b "$PT")"

mig() {		# NAME [FLAGS...]: A -> B on the plain port
	n=$1; shift
	X a migrate --plain --port "$PB" --localhost "$@" "$n" 127.0.0.1 > "$T/out" 2>&1
}
migt() {	# NAME [FLAGS...]: A -> B on the TLS port
	n=$1; shift
	X a migrate --tls --port "$PT" --localhost "$@" "$n" 127.0.0.1 > "$T/out" 2>&1
}
TLS_A="direct (TLS in user space, relayed raw)"
TLS_B="direct (TLS kept in the sandbox)"
# arrived NAME SUM: at B, running, the same memory, gone from A
arrived() {
	[ "$(sum b "$1")" = "$2" ] && [ "$(info b "$1" state)" = running ] &&
	    ! "$SIMCTL" -d "$T/a/host" list | grep -q " $1 "
}
# path HOST NAME: the byte path line of NAME's job on HOST, after the name
path() { grep -h "$2: byte path: " "$T/$1/log" | tail -1 | sed 's/.*byte path: //'; }
await() {	# SECONDS COMMAND...: until COMMAND succeeds
	_t=$(($1 * 5)); shift
	while [ "$_t" -gt 0 ]; do "$@" && return 0; _t=$((_t - 1)); sleep 0.2; done
	return 1
}
# until COMMAND prints something (30 s at most), which it prints
await_out() {
	for _ in $(seq 150); do
		_o=$("$@") && [ -n "$_o" ] && { echo "$_o"; return 0; }
		sleep 0.2
	done
	return 1
}
worker_pid() {	# HOST KIND: the pid of that relocd's worker of that kind
	ps -eo pid=,args= | awk -v k="-W $2 " -v c="$T/$1/" \
	    '$2 !~ /awk$/ && index($0, k) && index($0, c) { print $1; exit }'
}
running_a() { "$SIMCTL" -d "$T/a/host" info "$1" 2>/dev/null | grep -q running; }
none_at_b() { ! "$SIMCTL" -d "$T/b/host" list | grep -q " $1"; }
job_of() {	# NAME: its job number at A once it is in pre-copy
	X a jobs | awk -v n="$1" '$3 == n && / pre-copy / { print $1 }'
}

# 1. Two default relocd, plain TCP: direct both ends, live, a dirtying
#    guest (several rounds, then the rest after the suspend), and the
#    framed protocol after it (RECEIVED, COMMIT, ACTIVATED) still works.
"$SIMCTL" -d "$T/a/host" create d1 --mem-mib 32 --dirty-rate 2000 >/dev/null
if mig d1 && [ "$(info b d1 state)" = running ] &&
    [ "$(path a d1)" = "direct (plain TCP)" ] &&
    [ "$(path b d1)" = "direct (plain TCP)" ]; then
	ok "plain TCP: direct at both ends, live"
else bad "plain TCP direct: [$(path a d1)] [$(path b d1)] $(tail -1 "$T/out")"; fi

# 2. The memory that arrives is the memory that left (stop-and-copy), and
#    the byte counters come from the kernel: the whole stream.
"$SIMCTL" -d "$T/a/host" create d2 --mem-mib 32 >/dev/null
before=$(sum a d2)
mig d2 --non-live --json; rc=$?
ds=$(json "$T/out" bytes_stream)
if [ "$rc" -eq 0 ] && arrived d2 "$before" && [ "${ds:-0}" -gt 33554432 ] &&
    [ "$(path a d2)" = "direct (plain TCP)" ]; then
	ok "direct: identical memory, $ds stream bytes counted"
else bad "direct, memory: rc $rc stream $ds [$(path a d2)] $(tail -1 "$T/out")"; fi

# 2b. The max-downtime policy on the direct path: its estimate needs only
#     the rate, which the kernel's counters give.  A guest whose every
#     page is dirty every round never gets under 1 ms: aborted, runs here.
"$SIMCTL" -d "$T/a/host" create nc --mem-mib 64 --dirty-rate 1000 >/dev/null
"$SIMCTL" -d "$T/a/host" fault never_converge 1 >/dev/null
mig nc --max-downtime 1 --downtime-abort; rc=$?
"$SIMCTL" -d "$T/a/host" fault never_converge off >/dev/null
if [ "$rc" -eq 4 ] && grep -q "does not converge: expected downtime [0-9]* ms, allowed 1 ms" "$T/out" &&
    running_a nc && [ "$(path a nc)" = "direct (plain TCP)" ]; then
	ok "max-downtime abort on the direct path"
else bad "max-downtime on the direct path: rc $rc [$(path a nc)] $(tail -1 "$T/out")"; fi
"$SIMCTL" -d "$T/a/host" destroy nc >/dev/null

# 3. What keeps the relay, each named in the source's log line; TLS in
#    user space no longer does (3b).
"$SIMCTL" -d "$T/a/host" create r1 --mem-mib 16 >/dev/null
"$SIMCTL" -d "$T/a/host" create r2 --mem-mib 16 >/dev/null
"$SIMCTL" -d "$T/a/host" create r3 --mem-mib 16 >/dev/null
mig r1 --non-live --compress; rc1=$?
mig r2 --non-live --bandwidth 1G; rc2=$?
migt r3 --non-live --compress; rc3=$?
if [ "$rc1$rc2$rc3" = 000 ] && [ "$(path a r1)" = "relay (compression asked)" ] &&
    [ "$(path a r2)" = "relay (bandwidth limit)" ] &&
    [ "$(path a r3)" = "relay (compression asked)" ] &&
    [ "$(path b r3)" = "relay (the source did not ask for DIRECT)" ] &&
    [ "$(path b r2)" = "relay (the source did not ask for DIRECT)" ] &&
    [ "$(path b r1)" = "relay (the source did not ask for DIRECT)" ] &&
    [ "$(names b)" = "d1 d2 r1 r2 r3 " ]; then
	ok "compression, bandwidth limit (plain and TLS): the relay, and why"
else bad "relay reasons: $rc1$rc2$rc3 [$(path a r1)] [$(path a r2)] [$(path a r3)] [$(path b r3)] [$(path b r1)] [$(names b)]"; fi

# 3b. TLS in user space: the stream raw through TLS from the source's
#     relay, read by the target's libxl from the sandbox's socketpair;
#     the memory that arrives is the memory that left, live and not.
"$SIMCTL" -d "$T/a/host" create t1 --mem-mib 32 >/dev/null
"$SIMCTL" -d "$T/a/host" create t2 --mem-mib 32 --dirty-rate 2000 >/dev/null
before=$(sum a t1)
migt t1 --non-live --json; rc1=$?
ds=$(json "$T/out" bytes_stream)
migt t2; rc2=$?
if [ "$rc1$rc2" = 00 ] && arrived t1 "$before" && [ "${ds:-0}" -gt 33554432 ] &&
    [ "$(info b t2 state)" = running ] &&
    [ "$(path a t1)" = "$TLS_A" ] && [ "$(path b t1)" = "$TLS_B" ] &&
    [ "$(path a t2)" = "$TLS_A" ] && [ "$(path b t2)" = "$TLS_B" ]; then
	ok "TLS in user space: direct at both ends, identical memory, $ds stream bytes"
else bad "TLS direct: $rc1$rc2 stream $ds [$(path a t1)] [$(path b t1)] [$(path a t2)] $(tail -1 "$T/out")"; fi

# 4. direct_stream = 0 at the target: not granted, the relay, both say so.
echo "direct_stream = 0" >> "$T/b/relocd.conf"
hup b
ungranted() {	# MIG NAME WHAT: the framed relay, both ends saying why
	"$SIMCTL" -d "$T/a/host" create "$2" --mem-mib 16 >/dev/null
	before=$(sum a "$2")
	if "$1" "$2" --non-live && arrived "$2" "$before" &&
	    [ "$(path a "$2")" = "relay (the target did not grant DIRECT)" ] &&
	    [ "$(path b "$2")" = "relay (direct_stream = 0)" ]; then
		ok "direct_stream = 0 at the target, $3: relay"
	else bad "direct_stream = 0, $3: [$(path a "$2")] [$(path b "$2")] $(tail -1 "$T/out")"; fi
}
ungranted mig r4 "plain TCP"
ungranted migt r5 TLS
sed -i '/^direct_stream = 0$/d' "$T/b/relocd.conf"
hup b

# 5. A source that sets STREAM_START flag DIRECT without asking for it:
#    ERROR(protocol), nothing built, the reservation given back.
out=$("$RAWPEER" "$PB" raw1 -x direct 2>&1); rc=$?
if [ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -q "^error protocol: .*DIRECT without the grant" &&
    await 10 none_at_b raw1; then
	ok "DIRECT without the grant refused"
else bad "DIRECT without the grant: rc $rc $out"; fi

# 6. Cancel mid-stream (the source's writer stalls after 1 MiB): the
#    socket is shut, libxl fails, the guest runs here, B has nothing.
# 7. The target's worker killed mid-stream (the writer stalled, so only
#    the connection can tell): the source sees the peer gone, the guest
#    runs here, and B's relocd clears its half-built container.  Through
#    TLS in user space, the sandbox, left alone, ends the TLS session, and
#    the source's raw relay, waiting for libxl, sees it.
# Each both ways: MIG (mig, plain TCP; migt, TLS), a guest NAME, and the
# byte path lines expected at A and B.
"$SIMCTL" -d "$T/a/host" fault stall_after 1048576 >/dev/null
cancel_case() {		# MIG NAME PATH_A PATH_B
	"$SIMCTL" -d "$T/a/host" create "$2" --mem-mib 16 --dirty-rate 500 >/dev/null
	"$1" "$2" & mpid=$!
	job=$(await_out job_of "$2")
	X a cancel "${job:-0}" >/dev/null 2>&1
	wait "$mpid"; rc=$?
	if [ -n "$job" ] && [ "$rc" -eq 5 ] && running_a "$2" && await 10 none_at_b "$2" &&
	    [ "$(path a "$2")" = "$3" ] && [ "$(path b "$2")" = "$4" ]; then
		ok "cancel during a $3 stream: runs here, nothing there"
	else bad "cancel during a $3 stream: job '$job' rc $rc [$(path a "$2")] [$(names b)] $(tail -1 "$T/out")"; fi
}
killed_case() {		# MIG NAME PATH_A PATH_B
	"$SIMCTL" -d "$T/a/host" create "$2" --mem-mib 16 --dirty-rate 500 >/dev/null
	"$1" "$2" & mpid=$!
	await_out job_of "$2" >/dev/null
	wpid=$(await_out worker_pid b in)
	[ -n "$wpid" ] && kill -9 "$wpid"
	wait "$mpid"; rc=$?
	if [ -n "$wpid" ] && [ "$rc" -ne 0 ] && running_a "$2" && await 20 none_at_b "$2" &&
	    grep -q "closed the connection during the stream" "$T/out" &&
	    [ "$(path a "$2")" = "$3" ] && [ "$(path b "$2")" = "$4" ]; then
		ok "target killed during a $3 stream: runs here"
	else bad "target killed during a $3 stream: pid '$wpid' rc $rc [$(path a "$2")] [$(names b)] $(tail -1 "$T/out")"; fi
}
cancel_case mig c1 "direct (plain TCP)" "direct (plain TCP)"
cancel_case migt c2 "$TLS_A" "$TLS_B"
killed_case mig k1 "direct (plain TCP)" "direct (plain TCP)"
killed_case migt k2 "$TLS_A" "$TLS_B"

# 8. A source that sends nothing through the sandbox (its writer stalled,
#    nobody cancels): the target's worker, counting the TCP socket the
#    sandbox reads, stops the stream after peer_timeout and names the
#    source; its ERROR ends the source's raw relay, the guest runs here.
"$SIMCTL" -d "$T/a/host" create s1 --mem-mib 16 --dirty-rate 500 >/dev/null
migt s1; rc=$?
if [ "$rc" -ne 0 ] && running_a s1 && await 20 none_at_b s1 &&
    grep -q "no stream byte from 127.0.0.1:[0-9]* for [0-9]* s" "$T/b/log" &&
    [ "$(path b s1)" = "$TLS_B" ]; then
	ok "a source stalled in a direct TLS stream: the target stops it"
else bad "stalled source, TLS: rc $rc [$(path b s1)] [$(names b)] $(tail -1 "$T/out")"; fi
"$SIMCTL" -d "$T/a/host" fault stall_after off >/dev/null

no_leftovers a b
finish
