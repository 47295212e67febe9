#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Stock xl as the sender: xlsend plays xl's side of "xl migrate -s CMD"
# byte for byte on simulated host A, through the real "xl-reloc tunnel",
# into relocd-sim on host B.  Every case is checked from both hosts'
# domain lists and memory, never from relocd's word alone.
set -u
PORT_SALT=11 PEER_TIMEOUT=5 LOCALHOST_OK=0 RELOCD_FLAGS=-v
# shellcheck source=tests/integration/sim-lib.sh
. "$(dirname "$0")/sim-lib.sh"
XLSEND=$B/tests/integration/xlsend
PC=$PT
trap sim_cleanup EXIT

state() { "$SIMCTL" -d "$T/$1/host" list | awk -v n="$2" '$2 == n { print $3 }'; }
# xl migrate -s "xl-reloc ... tunnel --plain --port P" DOMAIN 127.0.0.1
# ($TUNNEL_OPTS: more tunnel options)
xlsend() {	# HOST-OF-RELOCD PORT [xlsend options] DOMAIN
	h=$1 port=$2; shift 2
	RELOCD_SIM_DIR=$T/a/host "$XLSEND" \
		-s "$XLRELOC -c $T/$h/relocd.conf tunnel --plain --port $port ${TUNNEL_OPTS:-}" \
		"$@" 127.0.0.1 > "$T/out" 2>&1
}
# relocd's reason on the tunnel's stderr (which xl leaves on the terminal),
# and the tunnel's exit status 3 (refused) as xl reports it.
told() {	# REASON (a regular expression)
	grep -q "xl-reloc tunnel: 127.0.0.1 refused: $1" "$T/out" &&
	    grep -q "transport process exited with error status 3" "$T/out"
}
# Waits until host H has no job left in the journal's hands and no
# NAME--incoming (the worker may still be cleaning up).
settled() {
	for _ in $(seq 1 50); do
		case "$(names "$1")" in *--incoming*) sleep 0.1 ;; *) return 0 ;; esac
	done
	return 1
}

mkdir -p "$T/a"; "$SIMCTL" -d "$T/a/host" init --mem-mib 1024 >/dev/null
start b "$PB"

# 1. xl's sender moves a guest into relocd: it runs at B under its own
#    name with the memory that left A, and A's copy is gone.
"$SIMCTL" -d "$T/a/host" create calm --mem-mib 16 >/dev/null
before=$(sum a calm)
if xlsend b "$PB" calm && [ "$(names a)" = "" ] && [ "$(names b)" = "calm " ] &&
    [ "$(state b calm)" = running ] && [ "$(sum b calm)" = "$before" ] &&
    grep -q "calm arrived from xl" "$T/b/log" &&
    ! grep -q "transport process exited with error" "$T/out"; then
	ok "xl migrate through the tunnel"
else bad "xl migrate through the tunnel"; fi

# 2. A busy guest (several pre-copy rounds), and -p: it arrives paused.
"$SIMCTL" -d "$T/a/host" create busy --mem-mib 16 --dirty-rate 2000 >/dev/null
if xlsend b "$PB" -p busy && [ "$(names a)" = "" ] &&
    [ "$(state b busy)" = paused ]; then
	ok "xl migrate -p: arrives paused"
else bad "xl migrate -p: arrives paused"; fi

# 3. Name clash: xl sees a clean failure and keeps its domain running,
#    and its user reads relocd's reason.
"$SIMCTL" -d "$T/a/host" create calm --mem-mib 16 >/dev/null
xlsend b "$PB" calm; rc=$?
if [ "$rc" -eq 1 ] && [ "$(state a calm)" = running ] && settled b &&
    [ "$(names b)" = "busy calm " ] && grep -q "refused calm from xl" "$T/b/log" &&
    told "name-clash: a domain called calm runs here already"; then
	ok "name clash: refused with its reason, the sender keeps its domain"
else bad "name clash: refused with its reason, the sender keeps its domain (rc $rc)"; fi

# 3b. The same from a tunnel that does not ask for reasons (an older one):
#     relocd closes without a word, as before, and the sender resumes.
TUNNEL_OPTS=--no-reasons xlsend b "$PB" calm; rc=$?
if [ "$rc" -eq 1 ] && [ "$(state a calm)" = running ] && settled b &&
    [ "$(names b)" = "busy calm " ] && ! grep -q "xl-reloc tunnel:" "$T/out" &&
    [ "$(grep -c "refused calm from xl 127" "$T/b/log")" -eq 2 ]; then
	ok "name clash, older tunnel: closed without a reason, as before"
else bad "name clash, older tunnel: closed without a reason, as before (rc $rc)"; fi
"$SIMCTL" -d "$T/a/host" destroy calm >/dev/null

# 4. Not enough memory at B: refused before any memory byte is accepted.
"$SIMCTL" -d "$T/a/host" create big --mem-mib 32 >/dev/null
"$SIMCTL" -d "$T/b/host" host free_kib 8192 >/dev/null
xlsend b "$PB" big; rc=$?
if [ "$rc" -eq 1 ] && [ "$(state a big)" = running ] && settled b &&
    [ "$(names b)" = "busy calm " ] && grep -q "refused big from xl.*free" "$T/b/log" &&
    told "no-memory: " && grep -q "refused: no-memory: .*KiB free)" "$T/out"; then
	ok "not enough memory: refused with its reason, the sender keeps its domain"
else bad "not enough memory: refused with its reason, the sender keeps its domain (rc $rc)"; fi
"$SIMCTL" -d "$T/b/host" host free_kib $((900 * 1024)) >/dev/null

# 5. The sender disappears in the middle of the stream: B cleans up.
"$SIMCTL" -d "$T/a/host" fault die_after 300000 >/dev/null
xlsend b "$PB" big; rc=$?
"$SIMCTL" -d "$T/a/host" fault die_after off >/dev/null
if [ "$rc" -eq 86 ] && settled b && [ "$(names b)" = "busy calm " ]; then
	ok "sender gone mid-stream: NAME--incoming destroyed"
else bad "sender gone mid-stream: NAME--incoming destroyed (rc $rc, B: $(names b))"; fi
# The source died with its guest suspended; xl would leave it so too.
"$SIMCTL" -d "$T/a/host" destroy big >/dev/null

# 6. No go-ahead after "ready": after peer_timeout B destroys its copy,
#    reports a failure and hands the domain back; the sender resumes.
"$SIMCTL" -d "$T/a/host" create slow --mem-mib 16 >/dev/null
before=$(sum a slow)
xlsend b "$PB" -n slow & sender=$!
# B waits peer_timeout for the go-ahead: meanwhile its job shows who
# sends.  Asked until it does (or the sender has given up), not after a
# guessed delay.
while : > "$T/jobs"; do
	"$XLRELOC" -c "$T/b/relocd.conf" jobs > "$T/jobs" 2>&1
	grep -q "slow.*xl via tunnel from 127.0.0.1" "$T/jobs" && break
	kill -0 "$sender" 2>/dev/null || break
	sleep 0.1
done
wait "$sender"; rc=$?
cat "$T/jobs" >> "$T/out"
if [ "$rc" -eq 1 ] && [ "$(state a slow)" = running ] && settled b &&
    grep -q "slow.*xl via tunnel from 127.0.0.1" "$T/jobs" &&
    [ "$(names b)" = "busy calm " ] && grep -q "no go-ahead" "$T/b/log" &&
    grep -q "gave it back\|no go-ahead sent" "$T/out"; then
	ok "no go-ahead: B destroys its copy, the sender keeps the domain"
else bad "no go-ahead: B destroys its copy, the sender keeps the domain (rc $rc)"; fi

# 7. A host that hosts_allow does not list: refused at the door.
start c "$PC" 'relocation_hosts_allow = "^10\\.9\\.9\\.9$"'
xlsend c "$PC" slow; rc=$?
#    relocd tells such a host nothing; the tunnel names the likely reason.
if [ "$rc" -eq 1 ] && [ "$(state a slow)" = running ] && [ "$(names c)" = "" ] &&
    grep -q "xl-reloc: tunnel to 127.0.0.1: .* closed the connection before greeting us: its relocation_hosts_allow does not admit" "$T/out" &&
    grep -q "transport process exited with error status 3" "$T/out"; then
	ok "host not allowed: refused with the likely reason, nothing moved"
else bad "host not allowed: refused with the likely reason, nothing moved (rc $rc, C: $(names c))"; fi

echo "xl-tunnel-sim: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
