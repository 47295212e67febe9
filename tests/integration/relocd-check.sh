#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# relocd as an administrator meets it: "relocd -n" on good and bad
# configurations, and start-up where there is no hypervisor (this machine
# has no Xen): one clear line naming /dev/xen/privcmd, exit 1, no crash.
# Prints cmocka-style closing lines so tests/summary.sh counts the cases.
set -u
RELOCD=${RELOCD:-./relocd/relocd}
SRC=${srcdir:-.}
# shellcheck source=tests/common/need.sh
. "$SRC/tests/common/need.sh"
need_tools openssl openssl
T=$(mktemp -d /tmp/relocd-check.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0

check() {	# NAME WANT_RC WANT_SUBSTRING CONFIG-TEXT
	name=$1 want_rc=$2 want=$3
	printf '%s\n' "$4" > "$T/relocd.conf"
	out=$("$RELOCD" -n -c "$T/relocd.conf" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want_rc" ] && printf '%s' "$out" | grep -qF -- "$want"; then
		pass=$((pass + 1)); echo "[       OK ] $name"
	else
		fail=$((fail + 1)); echo "[  FAILED  ] $name: rc $rc, output: $out"
	fi
}

check shipped-example 0 "configuration OK" "$(cat "$SRC/conf/relocd.conf")"
check bad-port 1 "relocation_port: \`70000' is not a number from 1 to 65535" \
	"relocation_port = 70000"
check bad-regex 1 "relocation_hosts_allow: bad allow pattern" \
	'relocation_hosts_allow = [ "10\\.0\\.(" ]'
check bad-peers-regex 1 "tls_peers_allow: bad allow pattern" \
	'tls_peers_allow = [ "node[" ]'
check unknown-key 1 "unknown key \`relocation_hosts_alow'" \
	'relocation_hosts_alow = [ "x" ]'
check xend-alias 0 "is xend's name; use \`relocation_port'" \
	"xend-relocation-port = 8102"
check tls-incomplete 1 "relocation_ssl_server needs tls_cert, tls_key and tls_ca" \
	"relocation_ssl_server = 1"

# TLS material: a key others may read, a CRL that is not there, and a CA
# file that is a bundle of public CAs with nothing narrowing it (a warning).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj /CN=check -days 1 -keyout "$T/k.pem" -out "$T/c.pem" 2>/dev/null
for _ in $(seq 17); do cat "$T/c.pem"; done > "$T/bundle.pem"
tls="relocation_ssl_server = 1
tls_cert = \"$T/c.pem\"
tls_key = \"$T/k.pem\""
check tls-public-ca 0 "tls_peers_allow is unset and $T/bundle.pem holds 17 CA certificates" \
	"$tls
tls_ca = \"$T/bundle.pem\""
check tls-crl-missing 1 "cannot load CRL file $T/none.crl" "$tls
tls_ca = \"$T/c.pem\"
tls_crl = \"$T/none.crl\""
chmod 644 "$T/k.pem"
check tls-key-mode 1 "key file $T/k.pem is readable by others (mode 0644)" "$tls
tls_ca = \"$T/c.pem\""

# No Xen here: relocd must say so on the terminal and exit 1.
cat > "$T/relocd.conf" <<CONF
state_dir = "$T/state"
pid_file = "$T/relocd.pid"
control_socket = "$T/relocd.sock"
relocation_port = 18002
CONF
out=$("$RELOCD" -f -c "$T/relocd.conf" 2>&1)
rc=$?
if [ -e /dev/xen/privcmd ]; then
	echo "[  SKIPPED ] no-hypervisor: this machine has Xen"
elif [ "$rc" -eq 1 ] && printf '%s' "$out" | grep -qF "/dev/xen/privcmd" &&
    ! [ -e "$T/relocd.sock" ] && ! [ -e "$T/relocd.pid" ]; then
	pass=$((pass + 1)); echo "[       OK ] no-hypervisor"
else
	fail=$((fail + 1)); echo "[  FAILED  ] no-hypervisor: rc $rc, output: $out"
fi

echo "[  PASSED  ] $pass test(s)."
[ "$fail" -eq 0 ] || { echo "[  FAILED  ] $fail test(s), listed above"; exit 1; }
