/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Questions xl-reloc evacuate asks before it moves anything: which domains
 * this host has and what each would need at a target (CTL_DOMAINS), and
 * what a target says of itself when greeted (CTL_PROBE).  They need the
 * hypervisor or the network, so a short-lived worker answers them; the
 * parent forwards the answer to the asking client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/conn.h"
#include "mig/hv.h"
#include "mig/log.h"
#include "mig/proto.h"
#include "relocd.h"

static uint16_t
dom_state(const struct mig_hv_dominfo *d)
{
	if (temp_suffix(d->name) != NULL)
		return CTL_DS_MIGRATING;
	switch (d->state) {
	case MIG_HV_DOM_RUNNING:
		return CTL_DS_RUNNING;
	case MIG_HV_DOM_PAUSED:
		return CTL_DS_PAUSED;
	default:
		return CTL_DS_SHUTDOWN;
	}
}

static int
domains(struct worker *w)
{
	struct mig_hv_dominfo	*list = NULL;
	struct ctl_msg		 m;
	struct mig_err		 err;
	char			*json;
	int			 n, i;

	if (mig_hv_list(w->hv, &list, &n, &err) == -1) {
		memset(&m, 0, sizeof(m));
		m.type = CTL_ERROR;
		m.u.error.status = CTL_ST_FAILED;
		ctl_text_set(m.u.error.text, err.msg);
		worker_send(w, &m);
		return 1;
	}
	for (i = 0; i < n; i++) {
		memset(&m, 0, sizeof(m));
		m.type = CTL_DOMAIN;
		snprintf(m.u.domain.name, sizeof(m.u.domain.name), "%s",
		    list[i].name);
		m.u.domain.domid = list[i].domid;
		m.u.domain.state = dom_state(&list[i]);
		/* What a RESERVE would ask, as the migration computes it;
		 * the current allocation where that cannot be had. */
		m.u.domain.mem_kib = list[i].maxmem_kib;
		if (list[i].domid != 0 && (json = mig_hv_config_json(w->hv,
		    list[i].domid, &err)) != NULL) {
			if (mig_hv_config_memory(w->hv, json,
			    &m.u.domain.mem_kib, &err) == -1)
				m.u.domain.mem_kib = list[i].maxmem_kib;
			free(json);
		}
		worker_send(w, &m);
	}
	free(list);
	memset(&m, 0, sizeof(m));
	m.type = CTL_DOMAINS_END;
	worker_send(w, &m);
	return 0;
}

static int
probe(struct worker *w, const struct ctl_probe *req)
{
	struct mig_conn		*conn = NULL;
	SSL_CTX			*ctx = NULL;
	struct peer_buf		*buf;
	struct mig_msg		 us, them;
	struct ctl_msg		 m;
	struct mig_err		 err;
	int			 rc = -1;

	memset(&m, 0, sizeof(m));
	m.type = CTL_PROBED;
	snprintf(m.u.probed.host, sizeof(m.u.probed.host), "%s", req->host);
	if ((buf = malloc(sizeof(*buf))) == NULL) {
		mig_seterrno(&err, MIG_E_NOMEM, "buffer");
		goto out;
	}
	if (peer_hello_fill(w->hv, &us, &err) == -1 ||
	    peer_connect(w, req->host, req->port, req->flags & CTL_PF_TLS,
	    &conn, &ctx, &err) == -1 ||
	    peer_open(conn, &us, buf, &them, worker_deadline(w), &err) == -1)
		goto out;
	snprintf(m.u.probed.hostname, sizeof(m.u.probed.hostname), "%s",
	    them.u.hello.hostname);
	snprintf(m.u.probed.version, sizeof(m.u.probed.version), "%s",
	    them.u.hello.version);
	m.u.probed.xen_major = them.u.hello.xen_major;
	m.u.probed.xen_minor = them.u.hello.xen_minor;
	m.u.probed.mem_total_kib = them.u.hello.mem_total_kib;
	m.u.probed.mem_free_kib = them.u.hello.mem_free_kib;
	m.u.probed.features = them.u.hello.features;
	rc = 0;
 out:
	if (rc == -1) {
		/* Reached but refused (TLS, host-allow, version) or not
		 * reached at all: the asker plans around either. */
		m.u.probed.status = conn != NULL ? CTL_ST_REFUSED :
		    CTL_ST_FAILED;
		ctl_text_set(m.u.probed.text, err.msg);
		mig_log_info("probe of %s: %s", req->host, err.msg);
	}
	worker_send(w, &m);
	if (conn != NULL)
		mig_conn_close(conn);
	if (ctx != NULL)
		SSL_CTX_free(ctx);
	free(buf);
	return rc == 0 ? 0 : 1;
}

int
worker_query(struct worker *w)
{
	struct ctl_msg	req;
	struct mig_err	err;

	if (ctl_recv(w->pipe, &req, &err) == -1) {
		mig_log_warnx("no question from the parent: %s", err.msg);
		return 1;
	}
	if (req.type == CTL_DOMAINS)
		return domains(w);
	if (req.type == CTL_PROBE)
		return probe(w, &req.u.probe);
	mig_log_warnx("%s is not a question", ctl_type_name(req.type));
	return 1;
}
