#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Checks doc/ha.md's pcs configuration without a cluster: pcs edits an
# empty CIB file (-f), validating the agent's parameters against its
# meta-data, and crm_verify checks the result.  Needs the agent installed
# (make install, or conf/ocf/xen-domain copied to
# /usr/lib/ocf/resource.d/xen-relocd/) and the packages pcs and
# pacemaker-cli-utils.  Not part of make check: neither is a build
# dependency.  STONITH is switched off only to let crm_verify judge the
# rest (a real cluster fences); systemd:relocd is forced because no
# systemd answers here.
set -eu
T=$(mktemp -d /tmp/pcs-offline.XXXXXX)
trap 'rm -rf "$T"' EXIT
cibadmin --empty > "$T/cib.xml"
P="pcs -f $T/cib.xml"
$P resource create relocd systemd:relocd clone --force 2>/dev/null
$P property set migration-limit=2
$P property set stonith-enabled=false
$P resource create web1 ocf:xen-relocd:xen-domain \
    name=web1 xl_config=/etc/xen/web1.cfg \
    tls=true max_downtime=500 bandwidth=400M \
    node_ip_attribute=migration_ip \
    op start timeout=120s op stop timeout=120s \
    op monitor interval=10s timeout=30s \
    op migrate_to timeout=600s op migrate_from timeout=60s \
    meta allow-migrate=true
$P constraint order start relocd-clone "then" web1
$P constraint colocation add web1 with relocd-clone
# an unknown parameter must be refused: the check above is not vacuous
if $P resource create bad ocf:xen-relocd:xen-domain nosuch=1 2>/dev/null; then
	echo "pcs-offline: pcs accepted an unknown parameter" >&2
	exit 1
fi
crm_verify -x "$T/cib.xml"
echo "pcs-offline: doc/ha.md's pcs configuration is valid"
