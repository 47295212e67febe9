# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2154,SC2015 # sourced after /lab/lib.sh (ELAPSED_MS...)
# xlab: hosts=1 xen=shadow timeout=600 default=yes
# xlab-desc: stock xl live migration into relocd through xl-reloc tunnel over TLS
# xl's own sender (xl migrate -s) moves the guest; the receiving side is
# relocd, reached by "xl-reloc tunnel" over TLS with a client certificate
# that relocd checks (tls_peers_allow), on its TLS port only.
P=/etc/relocd-lab
[ -x /usr/local/sbin/relocd ] && [ -r "$P/ca.pem" ] ||
	fail "no relocd or no $P certificates in dom0 (lab build --bindir DIR --overlay DIR)"
tls() {
	echo "tls_cert = \"$P/$1.pem\""
	echo "tls_key = \"$P/$1.key\""
	echo "tls_ca = \"$P/ca.pem\""
}
{
	tls b
	echo "relocation_server = 0"
	echo "relocation_ssl_server = 1"
	echo "relocation_ssl_port = 8013"
	echo "tls_peers_allow = [ \"xlab-a\" ]"
} > /tmp/rb.extra
relocd_start b 8012 /tmp/rb.extra
# The tunnel's own configuration: only its certificate (relocd-a's).
tls a > /tmp/tunnel.conf
witness_create witness 128 256

before=$(last_tick witness)
# xl runs: exec xl-reloc ... tunnel --tls --port 8013 127.0.0.1 xl [-t] migrate-receive
timed xl migrate -s "/usr/local/sbin/xl-reloc -c /tmp/tunnel.conf tunnel --tls --port 8013" \
	witness 127.0.0.1 || { relocd_logs b; fail "xl migrate through xl-reloc tunnel failed"; }
metric migrate_ms "$ELAPSED_MS"
check_domains witness
check_witness witness "$before"
grep -q "witness arrived from xl" /run/rb/log &&
	grep -q "ACTIVATED" /run/rb/state/journal ||
	{ relocd_logs b; fail "relocd B did not receive witness from xl"; }
relocd_logs b
pass "xl through the tunnel ${ELAPSED_MS}ms, guest gap ${DOWNTIME_MS}ms"
