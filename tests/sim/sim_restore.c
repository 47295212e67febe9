/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The restore thread: what libxl_domain_create_restore does.  The domain
 * is created first (paused, its memory taken from the host), then the
 * stream is read and checked by libmig's parser, each page landing in
 * the domain's memory.  Like libxl it reads exactly the stream and not
 * one byte past the libxl END record: whatever follows on the fd (the
 * migration protocol, an image trailer) is the caller's.  On any
 * failure the half-built domain is destroyed.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"
#include "mig/stream.h"
#include "mig/wire.h"

#define CHUNK	65536

struct restorer {
	struct sim_job		*j;
	struct mig_stream	 ps;
	uint32_t		 domid;
	uint64_t		 npages;
	int			 memfd;
	uint8_t			 buf[CHUNK];
};

static int
on_page(void *arg, uint64_t pfn, unsigned type, const void *page)
{
	struct restorer	*r = arg;

	if (page == NULL)
		return 0;
	if (pfn >= r->npages) {
		mig_seterr(&r->j->err, MIG_E_CORRUPT, "stream page %" PRIu64
		    " is beyond the %" PRIu64 " pages of domain %" PRIu32,
		    pfn, r->npages, r->domid);
		return 1;
	}
	if (sim_mem_write(r->memfd, pfn, page) == -1) {
		mig_seterrno(&r->j->err, MIG_E_IO, "memory of domain %" PRIu32,
		    r->domid);
		return 1;
	}
	return 0;
}

/* Reads n bytes (at most CHUNK) from the stream and parses them. */
static int
pull(struct restorer *r, size_t n)
{
	struct mig_err	e;

	if (sim_job_read(r->j, r->buf, n) == -1)
		return -1;
	if (mig_stream_feed(&r->ps, r->buf, n, &e) == -1) {
		/* A refusal of on_page has said why already. */
		if (r->j->err.code == MIG_OK)
			mig_seterr(&r->j->err, e.code, "restore: %s", e.msg);
		return -1;
	}
	return 0;
}

/* One record of either layer: its header, then its padded body in
 * pieces (the parser has checked the length against its limit). */
static int
record(struct restorer *r, uint32_t *type)
{
	struct wire_rd	rd;
	uint64_t	left;
	uint32_t	len;
	size_t		k;

	if (pull(r, 8) == -1)
		return -1;
	wire_rd_init(&rd, r->buf, 8);
	*type = wire_get_le32(&rd);
	len = wire_get_le32(&rd);
	for (left = len + ((8 - (len & 7)) & 7); left > 0; left -= k) {
		k = left < CHUNK ? (size_t)left : CHUNK;
		if (pull(r, k) == -1)
			return -1;
	}
	return 0;
}

static int
read_stream(struct restorer *r)
{
	uint32_t	type, xtype;

	if (pull(r, 16) == -1)		/* "LibxlFmt", version, options */
		return -1;
	do {
		if (record(r, &type) == -1)
			return -1;
		if (type != MIG_LIBXL_LIBXC_CONTEXT)
			continue;
		/* libxc's image and domain headers, then its records. */
		if (pull(r, 24 + 16) == -1)
			return -1;
		do {
			if (record(r, &xtype) == -1)
				return -1;
		} while (xtype != MIG_LIBXC_END);
	} while (type != MIG_LIBXL_END);
	if (mig_stream_finish(&r->ps, &r->j->err) == -1)
		return -1;
	return 0;
}

/* The new, paused domain, its memory taken from the host. */
static int
create(struct restorer *r)
{
	struct sim_job		*j = r->j;
	struct sim_txn		 t;
	struct hv_sim_dom	*d;

	if (j->faults.restore_nomem)
		return mig_seterr(&j->err, MIG_E_NOMEM, "domain %s: not "
		    "enough free memory (simulated)", j->cfg.name);
	if (sim_begin(&t, j->dir, 1, &j->err) == -1)
		return -1;
	if (t.h->attach_disks && sim_disks_check(&j->cfg, &j->err) == -1) {
		sim_end(&t);
		return -1;
	}
	if ((d = sim_dom_add(t.h, j->cfg.name, j->cfg.max_memkb,
	    &j->err)) == NULL) {
		sim_end(&t);
		return -1;
	}
	d->state = MIG_HV_DOM_PAUSED;
	d->type = j->cfg.type;
	d->vcpus = j->cfg.vcpus;
	d->cap = j->cfg.cap;
	memcpy(d->on, j->cfg.on, sizeof(d->on));
	if (j->cfg.has_uuid)
		memcpy(d->uuid, j->cfg.uuid, 16);
	else
		sim_uuid_random(d->uuid);
	r->domid = d->domid;
	r->npages = d->mem_kib / (SIM_PAGE / 1024);
	if (sim_mem_create(j->dir, d, 0, &j->err) == -1) {
		sim_end(&t);
		return -1;
	}
	if (sim_commit(&t, &j->err) == -1) {
		sim_mem_unlink(j->dir, r->domid);
		return -1;
	}
	/* Destroying the domain (on a failed restore too) removes it. */
	if (sim_disks_save(j->dir, r->domid, &j->cfg, &j->err) == -1)
		return -1;
	if ((r->memfd = sim_mem_open(j->dir, r->domid, &j->err)) == -1)
		return -1;
	return 0;
}

void *
sim_restore_main(void *arg)
{
	struct restorer		*r;
	struct sim_job		*j = arg;
	struct mig_stream_cbs	 cbs;
	uint32_t		 domid = MIG_HV_INVALID_DOMID;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		mig_seterrno(&j->err, MIG_E_NOMEM, "restore");
		sim_job_done(j, domid);
		return NULL;
	}
	r->j = j;
	r->memfd = -1;
	r->domid = MIG_HV_INVALID_DOMID;
	mig_stream_init(&r->ps, MIG_STREAM_NO_XL_HEADER | MIG_STREAM_TRAILER);
	memset(&cbs, 0, sizeof(cbs));
	cbs.on_page = on_page;
	cbs.arg = r;
	mig_stream_set_cbs(&r->ps, &cbs);
	if (create(r) == 0 && read_stream(r) == 0)
		domid = r->domid;
	if (r->memfd != -1)
		close(r->memfd);
	if (domid == MIG_HV_INVALID_DOMID && r->domid != MIG_HV_INVALID_DOMID)
		(void)hv_sim_destroy(j->dir, r->domid, NULL);
	free(r);
	sim_job_done(j, domid);
	return NULL;
}
