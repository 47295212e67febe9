/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The target's side of moving disks.  At reservation, before anything
 * moves: where each disk goes (storage_map), the configuration
 * rewritten to those paths through the hypervisor's own parser (so that
 * the receive policy then judges the paths this host will really open),
 * the free space of each volume group or file system, and then the
 * destinations created, each journaled first (storage_journal.c).
 * After the memory stream each disk arrives and is checked end to end:
 * what was written here, read back, must have the digest of what the
 * source read.  Any failure before COMMIT removes every destination
 * created here; after it they are the domain's.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig/conn.h"
#include "mig/disk.h"
#include "mig/domcfg.h"
#include "mig/hv.h"
#include "mig/log.h"
#include "mig/relay.h"
#include "storage.h"

#define MIB(b)	((b) / (1024 * 1024))

/* The source's path of each disk RESERVE lists, from the configuration
 * as the hypervisor parses it. */
static int
sources(struct worker *w, const char *json, struct storage *st,
    uint16_t *reason, char *why, size_t size)
{
	struct mig_domcfg	 dc;
	struct mig_err		 err;
	char			 where[48];
	unsigned		 i;
	size_t			 k;
	int			 rc = 0;

	*reason = MIG_REFUSE_BAD_CONFIG;
	if (mig_hv_config_describe(w->hv, json, &dc, &err) == -1)
		return snprintf(why, size, "%s", err.msg), 1;
	for (i = 0; rc == 0 && i < st->n; i++) {
		snprintf(where, sizeof(where), "disks[%u].pdev_path",
		    st->disk[i].d.index);
		for (k = 0; k < dc.n; k++)
			if (dc.items[k].kind == MIG_DC_DISK &&
			    strcmp(dc.items[k].where, where) == 0)
				break;
		if (k == dc.n || dc.items[k].value[0] == '\0') {
			snprintf(why, size, "%s: the configuration names no "
			    "such disk", where);
			rc = 1;
		} else if (!policy_path_plain(dc.items[k].value) ||
		    strchr(dc.items[k].value, '\n') != NULL ||
		    snprintf(st->disk[i].src, sizeof(st->disk[i].src), "%s",
		    dc.items[k].value) >= (int)sizeof(st->disk[i].src)) {
			snprintf(why, size, "%s = \"%s\": not a plain absolute "
			    "path", where, dc.items[k].value);
			rc = 1;
		}
	}
	mig_domcfg_free(&dc);
	return rc;
}

/*
 * Where each disk goes, and *json rewritten to it.  0, or 1 when refused
 * (reason, why), or -1 (why) on a failure of ours.
 */
int
storage_plan(struct worker *w, const struct mig_msg_reserve *r, char **json,
    struct storage *st, uint16_t *reason, char *why, size_t size)
{
	struct mig_hv_disk_path	 p[MIG_DISKS_MAX];
	struct storage_disk	*d;
	struct mig_err		 err;
	char			*moved;
	unsigned		 i, j;

	memset(st, 0, sizeof(*st));
	if (!(r->flags & MIG_RESERVE_F_STORAGE))
		return 0;
	*reason = MIG_REFUSE_NOT_ALLOWED;
	if (r->flags & MIG_RESERVE_F_LOCALHOST)
		return snprintf(why, size, "disks cannot move to the host they "
		    "are on"), 1;
	st->n = r->ndisks;
	for (i = 0; i < st->n; i++)
		st->disk[i].d = r->disks[i];
	if (sources(w, *json, st, reason, why, size))
		return 1;
	*reason = MIG_REFUSE_NO_SPACE;
	for (i = 0; i < st->n; i++) {
		d = &st->disk[i];
		if (storage_map_apply(&w->conf.recv.storage_map, d->src, d->dst,
		    sizeof(d->dst)) == -1)
			return snprintf(why, size, "disks[%u] = \"%s\": its "
			    "storage_map destination is too long", d->d.index,
			    d->src), 1;
		for (j = 0; j < i; j++)
			if (strcmp(st->disk[j].dst, d->dst) == 0)
				return snprintf(why, size, "disks[%u] and "
				    "disks[%u] would both go to %s",
				    st->disk[j].d.index, d->d.index, d->dst), 1;
		if (dest_check(d->d.kind, d->dst, why, size))
			return 1;
		p[i].index = d->d.index;
		p[i].path = d->dst;
	}
	if ((moved = mig_hv_config_set_disks(w->hv, *json, p, st->n,
	    &err)) == NULL) {
		*reason = MIG_REFUSE_BAD_CONFIG;
		return snprintf(why, size, "%s", err.msg), 1;
	}
	free(*json);
	*json = moved;
	return 0;
}

/* Free space, each pool (volume group, file system) for all the disks
 * that take from it, less the storage_min_free margin. */
int
storage_space(const struct storage *st, uint64_t min_free, char *why,
    size_t size)
{
	char		key[MIG_DISKS_MAX][64];
	uint64_t	need, avail;
	unsigned	i, j;

	for (i = 0; i < st->n; i++)
		if (dest_pool(st->disk[i].d.kind, st->disk[i].dst, key[i],
		    sizeof(key[i])) == -1)
			return snprintf(why, size, "%s: cannot tell where its "
			    "space comes from", st->disk[i].dst), 1;
	for (i = 0; i < st->n; i++) {
		for (j = 0; j < i && strcmp(key[i], key[j]) != 0; j++)
			;
		if (j < i)
			continue;	/* that pool was counted already */
		for (j = i, need = 0; j < st->n; j++)
			if (strcmp(key[i], key[j]) == 0)
				need += st->disk[j].d.size;
		if (dest_free(st->disk[i].d.kind, st->disk[i].dst, &avail,
		    why, size))
			return 1;
		if (avail < need)
			return snprintf(why, size, "%s: %" PRIu64 " MiB free "
			    "where it goes, the disks need %" PRIu64 " MiB",
			    st->disk[i].dst, MIB(avail), MIB(need)), 1;
		/* A move must not fill the host's pool: other guests'
		 * volumes and dom0's own files live there too. */
		if (avail - need < min_free)
			return snprintf(why, size, "%s: the disks need %" PRIu64
			    " MiB of the %" PRIu64 " MiB free where it goes, "
			    "which would leave less than storage_min_free (%"
			    PRIu64 " MiB)", st->disk[i].dst, MIB(need),
			    MIB(avail), MIB(min_free)), 1;
	}
	return 0;
}

/* Removes what was created here, and says so in the journal. */
void
storage_undo(struct worker *w, struct storage *st)
{
	struct mig_err	err;
	unsigned	i;
	int		left = 0, any = 0;

	for (i = 0; i < st->n; i++) {
		if (!st->disk[i].created)
			continue;
		any = 1;
		if (dest_remove(st->disk[i].d.kind, st->disk[i].dst,
		    &err) == -1) {
			/* The journal keeps it: reconciliation tries
			 * again. */
			mig_log_warnx("%s", err.msg);
			left = 1;
			continue;
		}
		st->disk[i].created = 0;
		mig_log_info("removed %s: the migration did not commit",
		    st->disk[i].dst);
	}
	if (any && !left && sj_append(w->conf.state_dir, w->job, SJ_DROP, 0,
	    NULL, &err) == -1)
		mig_log_warnx("%s", err.msg);
}

int
storage_create(struct worker *w, struct storage *st, uint16_t *reason,
    char *why, size_t size)
{
	struct storage_disk	*d;
	struct mig_err		 err;
	unsigned		 i;

	*reason = MIG_REFUSE_NO_SPACE;
	if (st->n == 0)
		return 0;
	if (storage_space(st, w->conf.recv.storage_min_free, why, size))
		return 1;
	/* The job's lock, before its first line: reconciliation never
	 * settles a job whose worker still runs. */
	*reason = MIG_REFUSE_INTERNAL;
	w->rec.job = w->job;
	if (w->lock_fd == -1 && (w->lock_fd = journal_lock_job(
	    w->conf.state_dir, w->job, 0, &err)) == -1)
		return snprintf(why, size, "%s", err.msg), 1;
	for (i = 0; i < st->n; i++) {
		d = &st->disk[i];
		if (sj_append(w->conf.state_dir, w->job, SJ_CREATE, d->d.kind,
		    d->dst, &err) == -1) {
			storage_undo(w, st);
			return snprintf(why, size, "%s", err.msg), 1;
		}
		/* Marked first: a half-made one is removed too. */
		d->created = 1;
		if (dest_create(d->d.kind, d->dst, d->d.size, &err) == -1) {
			storage_undo(w, st);
			*reason = MIG_REFUSE_NO_SPACE;
			return snprintf(why, size, "disks[%u]: %s", d->d.index,
			    err.msg), 1;
		}
		mig_log_info("created %s (%" PRIu64 " MiB) for disks[%u] "
		    "= \"%s\"", d->dst, MIB(d->d.size), d->d.index, d->src);
	}
	return 0;
}

/* What was written at the ranges, read back, against what the source
 * read: the pass's digest. */
int
storage_verify(struct worker *w, const struct storage_disk *d, int fd,
    const struct mig_disk_range *r, size_t n, int xxh3,
    const uint8_t want[MIG_DIGEST_LEN], struct mig_err *err)
{
	uint8_t	got[MIG_DIGEST_LEN];

	if (mig_disk_flush(fd, d->dst, err) == -1 ||
	    mig_disk_digest_ranges(fd, r, n, xxh3, d->dst, &w->cancelled, got,
	    err) == -1)
		return -1;
	if (memcmp(got, want, sizeof(got)) != 0)
		return mig_seterr(err, MIG_E_CORRUPT, "disks[%u] %s: what was "
		    "written here differs from what the source read",
		    d->d.index, d->dst);
	return 0;
}

/* The relay's conf for one pass received: flags as the source's
 * DISK or DISK_DELTA says, each checked against the grant. */
int
storage_recv_conf(struct mig_conn *conn, uint16_t flags, uint64_t granted,
    const char *name, struct mig_relay_conf *rc,
    struct mig_err *err)
{
	if ((flags & MIG_STREAM_F_ZSTD) && !(granted & MIG_FEAT_ZSTD))
		return mig_seterr(err, MIG_E_PROTO, "%s: zstd was not "
		    "granted", name);
	if ((flags & MIG_STREAM_F_XXH3) && !(granted & MIG_FEAT_XXH3))
		return mig_seterr(err, MIG_E_PROTO, "%s: XXH3 was not "
		    "granted", name);
	memset(rc, 0, sizeof(*rc));
	rc->dir = MIG_RELAY_RECV;
	rc->flags = MIG_RELAY_F_NO_PARSE | (flags & MIG_STREAM_F_XXH3 ?
	    MIG_RELAY_F_XXH3 : 0) | (granted & MIG_FEAT_ZSTD ?
	    MIG_RELAY_F_ZSTD : 0);
	rc->conn = conn;
	rc->name = name;
	return 0;
}

/* One disk whole (DISK m, read already), written and checked. */
int
storage_receive_disk(struct worker *w, struct mig_conn *conn,
    const struct storage_disk *d, const struct mig_msg_disk *m,
    uint64_t granted, struct mig_err *err)
{
	struct mig_relay_conf	 rc;
	struct mig_relay_stats	 rs;
	struct mig_disk_range	 all = { 0, d->d.size };
	char			 name[64];
	int			 fd;

	if (m->index != d->d.index || m->size != d->d.size)
		return mig_seterr(err, MIG_E_PROTO, "DISK for disks[%u] of %"
		    PRIu64 " bytes, expected disks[%u] of %" PRIu64,
		    m->index, m->size, d->d.index, d->d.size);
	snprintf(name, sizeof(name), "disks[%u]", d->d.index);
	if (storage_recv_conf(conn, m->flags, granted, name, &rc, err) == -1)
		return -1;
	if ((fd = open(d->dst, O_RDWR | O_CLOEXEC)) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s", d->dst);
	worker_event(w, w->phase, name);
	if (storage_pump(w, &rc, fd, &all, 1, NULL, &rs, err) == -1)
		goto fail;
	w->bytes_disk += rs.stream_bytes;
	w->bytes_wire += rs.wire_bytes;
	if (rs.stream_bytes != d->d.size) {
		mig_seterr(err, MIG_E_CORRUPT, "disks[%u]: %" PRIu64 " bytes "
		    "arrived, not %" PRIu64, d->d.index, rs.stream_bytes,
		    d->d.size);
		goto fail;
	}
	if (storage_verify(w, d, fd, &all, 1, m->flags & MIG_STREAM_F_XXH3,
	    rs.digest, err) == -1)
		goto fail;
	close(fd);
	mig_log_info("%s: disks[%u] written to %s and checked, %" PRIu64
	    " bytes", w->rec.name, d->d.index, d->dst, d->d.size);
	return 0;
 fail:
	close(fd);
	return -1;
}

int
storage_receive(struct worker *w, struct mig_conn *conn,
    struct peer_buf *buf, struct storage *st, uint64_t granted,
    struct mig_err *err)
{
	struct mig_msg	m;
	unsigned	i;

	for (i = 0; i < st->n; i++)
		if (peer_expect(conn, buf, MIG_MSG_DISK, &m, worker_deadline(w),
		    err) == -1 || storage_receive_disk(w, conn, &st->disk[i],
		    &m.u.disk, granted, err) == -1)
			return -1;
	return 0;
}

/* The job committed: its disks are the domain's, whatever happens. */
int
storage_keep(struct worker *w, const struct storage *st, struct mig_err *err)
{
	if (st->n == 0)
		return 0;
	return sj_append(w->conf.state_dir, w->job, SJ_KEEP, 0, NULL, err);
}
