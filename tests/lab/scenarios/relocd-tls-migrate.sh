# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015 # sourced after /lab/lib.sh
# xlab: hosts=1 xen=shadow timeout=600 default=yes
# xlab-desc: xl-reloc live migration over kernel TLS with client certificates between two relocd
# The certificates come with the lab's overlay (tests/run-tests makes a
# throwaway CA and one certificate per relocd, for 127.0.0.1).  relocd B
# listens on its TLS port only, so nothing can fall back to plaintext, and
# admits only peers whose certificate names xlab-a (a subjectAltName: the
# CN, relocd-a, does not name a certificate that has SANs).
P=/etc/relocd-lab
[ -x /usr/local/sbin/relocd ] && [ -r "$P/ca.pem" ] ||
	fail "no relocd or no $P certificates in dom0 (lab build --bindir DIR --overlay DIR)"
tls() {
	echo "tls_cert = \"$P/$1.pem\""
	echo "tls_key = \"$P/$1.key\""
	echo "tls_ca = \"$P/ca.pem\""
}
# Kernel TLS at both ends (dom0 loads tls.ko and AES-NI): the stream goes
# straight from libxl into the TLS socket and out of it into libxl.
grep -qw tls /proc/sys/net/ipv4/tcp_available_ulp ||
	fail "no kernel TLS in dom0 (tls.ko not loaded: tests/lab/lab DOM0_MODS)"
{ tls a; echo "tls_ktls = 1"; } > /tmp/ra.extra
{
	tls b
	echo "tls_ktls = 1"
	echo "relocation_server = 0"
	echo "relocation_ssl_server = 1"
	echo "relocation_ssl_port = 8013"
	echo "tls_peers_allow = [ \"xlab-a\" ]"
} > /tmp/rb.extra
relocd_start a 8002 /tmp/ra.extra
relocd_start b 8012 /tmp/rb.extra
witness_create witness 128 256

before=$(last_tick witness)
timed /usr/local/sbin/xl-reloc -c /run/ra/relocd.conf migrate --tls --port 8013 \
	--localhost witness 127.0.0.1 ||
	{ relocd_logs a b; fail "xl-reloc migrate over TLS failed"; }
metric migrate_ms "$ELAPSED_MS"
check_domains witness
check_witness witness "$before"
grep -q "ACTIVATED" /run/rb/state/journal || { relocd_logs a b; fail "B's journal shows no activation"; }
grep -q "witness: byte path: direct (kernel TLS)" /run/ra/log &&
    grep -q "witness: byte path: direct (kernel TLS)" /run/rb/log ||
	{ relocd_logs a b; fail "kernel TLS did not carry the stream at both ends"; }
# b's sandbox did the handshake; with the kernel holding the keys both ways it
# hands the worker the socket itself rather than relaying TLS to it.
grep -q "kernel TLS socket handed over" /run/rb/log ||
	{ relocd_logs a b; fail "B's sandbox did not hand the kernel TLS socket to its worker"; }
relocd_logs a b
pass "over TLS ${ELAPSED_MS}ms, guest gap ${DOWNTIME_MS}ms"
