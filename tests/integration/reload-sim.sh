#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# SIGHUP between two relocd-sim daemons: a new host-allow list and new
# TLS material apply to the next connection, a migration running across
# the reload is not dropped, and a bad configuration is refused with a
# log line while the one before keeps serving (its jobs included, though
# the file on disk is now the bad one), as is one whose port cannot be
# bound.  A CRL (tls_crl) is read again at each reload.
set -u
PORT_SALT=7
. "${srcdir:-.}/tests/integration/sim-lib.sh"
trap sim_cleanup EXIT

pki
start a "$PA" "$(tls_conf a)"
start b "$PB" "$(tls_conf b)
relocation_ssl_server = 1
relocation_ssl_port = $PT
relocation_hosts_allow = [ \"127.0.0.1\" ]"

# setconf HOST KEY VALUE: the one line for KEY in HOST's relocd.conf
setconf() {
	sed -i "/^$2 = /d" "$T/$1/relocd.conf"
	printf '%s = %s\n' "$2" "$3" >> "$T/$1/relocd.conf"
}
# mig NAME OUT ARGS...: A -> B, plaintext unless ARGS say --tls
mig() {
	n=$1 o=$2; shift 2
	X a migrate --localhost "$@" "$n" 127.0.0.1 > "$o" 2>&1
}
plain() { mig "$1" "$T/out" --plain --port "$PB"; }
tls() { mig "$1" "$T/out" --tls --port "$PT"; }
# on HOST NAME: NAME runs on HOST and nowhere else
on() {
	other=a; [ "$1" = a ] && other=b
	[ "$(info "$1" "$2" state)" = running ] &&
	    ! "$SIMCTL" -d "$T/$other/host" list | grep -q " $2 "
}
# slow NAME ARGS...: a migration long enough to reload during (~4 s),
# started in the background; returns once B has reserved for it, so the
# connection (and its TLS handshake) is made before the reload.  A fixed
# sleep lost that race on a loaded machine.
slow() {
	sn=$1; shift
	"$SIMCTL" -d "$T/a/host" create "$sn" --mem-mib 32 >/dev/null
	mig "$sn" "$T/slow" "$@" --bandwidth 8M &
	spid=$!
	for _ in $(seq 300); do
		grep -q "reserved .* for $sn:" "$T/b/log" && return 0
		sleep 0.1
	done
}

for n in g1 g2 g3 g4 g5 g6 g7 g8; do
	"$SIMCTL" -d "$T/a/host" create "$n" --mem-mib 8 >/dev/null
done

# 1. host-allow narrowed while a migration runs: that one finishes, the
#    next connection from 127.0.0.1 is refused and nothing moves.
slow s1 --plain --port "$PB"
setconf b relocation_hosts_allow '[ "10.9.9.9" ]'
hup b
plain g1; rc=$?
wait "$spid"; src=$?
if [ "$src" -eq 0 ] && on b s1 && [ "$rc" -ne 0 ] && on a g1 &&
    grep -q "configuration reloaded" "$T/b/log" &&
    grep -q "refused connection from 127.0.0.1" "$T/b/log"; then
	ok "host-allow reloaded: running job kept, next connection refused"
else bad "host-allow reload: running $src, next $rc $(tail -1 "$T/slow") / $(tail -1 "$T/out")"; fi

# 2. ... and widened again: admitted.
setconf b relocation_hosts_allow '[ "127.0.0.1" ]'
hup b
if plain g1 && on b g1; then ok "host-allow reloaded back: admitted"
else bad "host-allow reloaded back: $(tail -1 "$T/out")"; fi

# 3. A bad configuration (an unknown key) is refused with a log line;
#    the old one keeps serving, jobs included.
cp "$T/b/relocd.conf" "$T/b/good.conf"
echo "relocation_hosts_alow = [ \"10.9.9.9\" ]" >> "$T/b/relocd.conf"
hup b
if grep -q "reload: .*relocation_hosts_alow.*keeping the running configuration" "$T/b/log" &&
    plain g2 && on b g2 && kill -0 "$(cat "$T/b/relocd.pid")"; then
	ok "bad configuration refused, the old one serves"
else bad "bad configuration refused: $(grep reload "$T/b/log" | tail -1) / $(tail -1 "$T/out")"; fi
cp "$T/b/good.conf" "$T/b/relocd.conf"

# 4. Over TLS, then B moves to another CA (new certificate, new CA) by a
#    reload while a TLS migration runs: it finishes; A, still on the old
#    CA, is refused next; A reloaded onto the new CA gets through.
if tls g3 && on b g3; then ok "TLS before the change"
else bad "TLS before the change: $(tail -1 "$T/out")"; fi
slow s2 --tls --port "$PT"
setconf b tls_cert "\"$T/pki/b2.pem\""
setconf b tls_key "\"$T/pki/b2.key\""
setconf b tls_ca "\"$T/pki/other-ca.pem\""
hup b
tls g4; rc=$?
wait "$spid"; src=$?
if [ "$src" -eq 0 ] && on b s2 && [ "$rc" -ne 0 ] && on a g4; then
	ok "TLS material reloaded: running job kept, old CA refused"
else bad "TLS reload: running $src, next $rc $(tail -1 "$T/slow") / $(tail -1 "$T/out")"; fi
setconf a tls_cert "\"$T/pki/a2.pem\""
setconf a tls_key "\"$T/pki/a2.key\""
setconf a tls_ca "\"$T/pki/other-ca.pem\""
hup a
if tls g4 && on b g4; then ok "both on the new CA: admitted"
else bad "both on the new CA: $(tail -1 "$T/out")"; fi

# 5. Bad TLS material (a key that is not the certificate's; a missing
#    CA) is refused at the reload; the old material keeps serving.
setconf b tls_key "\"$T/pki/a2.key\""
hup b
setconf b tls_key "\"$T/pki/b2.key\""
setconf b tls_ca "\"$T/pki/missing-ca.pem\""
hup b
if [ "$(grep -c "reload: .*keeping the running configuration" "$T/b/log")" -eq 3 ] &&
    tls g5 && on b g5; then
	ok "bad TLS material refused, the old one serves"
else bad "bad TLS material: $(grep reload "$T/b/log" | tail -2) / $(tail -1 "$T/out")"; fi

# 6. A reload whose port cannot be bound (A's relocd holds it): refused
#    like any bad configuration, and B keeps listening where it did.
setconf b tls_ca "\"$T/pki/other-ca.pem\""
cp "$T/b/relocd.conf" "$T/b/good.conf"
setconf b relocation_port "$PA"
hup b
if grep -q "reload: .*port $PA.*keeping the running configuration" "$T/b/log" &&
    plain g6 && on b g6; then
	ok "a port that cannot be bound: refused, the old listeners serve"
else bad "unbindable port: $(grep reload "$T/b/log" | tail -1) / $(tail -1 "$T/out")"; fi
cp "$T/b/good.conf" "$T/b/relocd.conf"

# 7. tls_crl, read again at each reload: B takes the CA's CRL, which
#    revokes nobody, then one that revokes A's certificate (a2, of
#    other-ca, which both use since 4): A is refused from then on.
printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s\ncrlnumber = %s\ndefault_md = sha256\ndefault_crl_days = 1\n' \
    "$T/pki/index.txt" "$T/pki/crlnumber" > "$T/pki/ca.cnf"
: > "$T/pki/index.txt"
echo 01 > "$T/pki/crlnumber"
ca() { openssl ca -config "$T/pki/ca.cnf" -keyfile "$T/pki/other-ca.key" \
    -cert "$T/pki/other-ca.pem" "$@" >/dev/null 2>&1; }
ca -gencrl -out "$T/pki/crl1.pem"
setconf b tls_crl "\"$T/pki/crl1.pem\""
hup b
if tls g7 && on b g7; then ok "a CRL that revokes nobody: admitted"
else bad "CRL revoking nobody: $(grep reload "$T/b/log" | tail -1) / $(tail -1 "$T/out")"; fi
ca -revoke "$T/pki/a2.pem" && ca -gencrl -out "$T/pki/crl2.pem"
setconf b tls_crl "\"$T/pki/crl2.pem\""
hup b
tls g8; rc=$?
if [ "$rc" -ne 0 ] && on a g8 && grep -q "certificate revoked (peer 127.0.0.1" "$T/b/log"; then
	ok "reloaded CRL revokes A's certificate: refused"
else bad "revoked: rc $rc $(tail -1 "$T/out") / $(grep -c revoked "$T/b/log")"; fi

if no_leftovers a b; then ok "no --incoming or --migratedaway left"
else bad "leftovers: $(names a) / $(names b)"; fi

finish
