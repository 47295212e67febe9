/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The source's side of moving disks (xl-reloc migrate --with-storage):
 * every disk of the domain's configuration that names a path, as the
 * hypervisor's parser reads it, is described in RESERVE (its index,
 * kind and size), and after the memory stream, the guest suspended, its
 * contents are sent: DISK, the bytes as DATA frames, STREAM_END with
 * their digest (doc/protocol.md section 9).  The disks here are never
 * written: until COMMIT they are the truth, and after it they stay
 * unless asked otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mig/disk.h"
#include "mig/domcfg.h"
#include "mig/hv.h"
#include "mig/log.h"
#include "mig/relay.h"
#include "storage.h"

int
storage_describe(struct mig_hv *hv, const char *json, struct storage *st,
    struct mig_err *err)
{
	struct mig_domcfg	 dc;
	struct storage_disk	*d;
	unsigned		 index;
	size_t			 i;
	int			 rc = -1, n;

	memset(st, 0, sizeof(*st));
	if (mig_hv_config_describe(hv, json, &dc, err) == -1)
		return -1;
	for (i = 0; i < dc.n; i++) {
		if (dc.items[i].kind != MIG_DC_DISK ||
		    sscanf(dc.items[i].where, "disks[%u].pdev_path%n", &index,
		    &n) != 1 || dc.items[i].where[n] != '\0' ||
		    dc.items[i].value[0] == '\0')
			continue;	/* a 9p share, an empty CD-ROM drive */
		if (st->n == MIG_DISKS_MAX || index > MIG_DISK_INDEX_MAX) {
			mig_seterr(err, MIG_E_NOTSUP, "%s: more than %u disks, "
			    "or one past disks[%u]: not moved", dc.name != NULL ?
			    dc.name : "domain", MIG_DISKS_MAX,
			    MIG_DISK_INDEX_MAX);
			goto out;
		}
		d = &st->disk[st->n];
		if (snprintf(d->src, sizeof(d->src), "%s", dc.items[i].value) >=
		    (int)sizeof(d->src)) {
			mig_seterr(err, MIG_E_INVAL, "disks[%u]: path too "
			    "long", index);
			goto out;
		}
		d->d.index = (uint16_t)index;
		if (mig_disk_probe(d->src, &d->d.kind, &d->d.size, err) == -1)
			goto out;
		st->n++;
	}
	if (st->n == 0) {
		mig_seterr(err, MIG_E_INVAL, "%s has no disk with a path: "
		    "nothing to move with --with-storage", dc.name != NULL ?
		    dc.name : "the domain");
		goto out;
	}
	rc = 0;
 out:
	mig_domcfg_free(&dc);
	return rc;
}

void
storage_reserve_fill(const struct storage *st, struct mig_msg_reserve *r)
{
	unsigned	i;

	r->flags |= MIG_RESERVE_F_STORAGE;
	r->ndisks = (uint16_t)st->n;
	for (i = 0; i < st->n; i++)
		r->disks[i] = st->disk[i].d;
}

/*
 * A source disk, for reading.  A block device is read around the page
 * cache (O_DIRECT): blkback writes it with bios of its own, which leave
 * this host's cached pages of it as they were, so a cached read could
 * send what the guest has since overwritten.  A file's cache is kept
 * coherent by the kernel, whoever writes it.
 */
int
storage_open_source(const struct storage_disk *d, struct mig_err *err)
{
	int	fd;

	if ((fd = open(d->src, O_RDONLY | O_CLOEXEC | (d->d.kind ==
	    MIG_DISK_BLOCK ? O_DIRECT : 0))) == -1)
		return mig_seterrno(err, MIG_E_IO, "disk %s", d->src);
	return fd;
}

/* The network relay's conf for one pass of a disk: rflags, the memory
 * stream's relay flags that apply (MIG_RELAY_F_ZSTD, MIG_RELAY_F_XXH3). */
void
storage_relay_conf(struct worker *w, struct mig_conn *conn, unsigned rflags,
    uint64_t bw, const char *name, struct mig_relay_conf *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->dir = MIG_RELAY_SEND;
	rc->flags = MIG_RELAY_F_NO_PARSE | (rflags & (MIG_RELAY_F_ZSTD |
	    MIG_RELAY_F_XXH3));
	rc->conn = conn;
	rc->zstd_level = w->conf.compression_level;
	rc->bw_limit = bw;
	rc->name = name;
}

/* DISK's and DISK_DELTA's flags for rflags. */
uint16_t
storage_disk_flags(unsigned rflags)
{
	return (rflags & MIG_RELAY_F_ZSTD ? MIG_STREAM_F_ZSTD : 0) |
	    (rflags & MIG_RELAY_F_XXH3 ? MIG_STREAM_F_XXH3 : 0);
}

/*
 * One disk whole: DISK, its bytes, STREAM_END.  A tracker, when given,
 * sees the bytes as they are read (pass 0 of a live copy).
 */
int
storage_send_disk(struct worker *w, struct mig_conn *conn,
    const struct storage_disk *d, unsigned rflags, uint64_t bw,
    struct track *track, struct mig_err *err)
{
	struct mig_disk_range	 all = { 0, d->d.size };
	struct mig_relay_conf	 rc;
	struct mig_relay_stats	 rs;
	struct mig_msg		 m;
	char			 name[64];
	int			 fd, rv;

	if (w->cancelled)
		return mig_seterr(err, MIG_E_CANCELLED, "cancelled");
	if ((fd = storage_open_source(d, err)) == -1)
		return -1;
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_DISK;
	m.u.disk.index = d->d.index;
	m.u.disk.size = d->d.size;
	m.u.disk.flags = storage_disk_flags(rflags);
	snprintf(name, sizeof(name), "disks[%u]", d->d.index);
	worker_event(w, w->phase, name);
	if (peer_send(conn, &m, worker_deadline(w), err) == -1) {
		close(fd);
		return -1;
	}
	storage_relay_conf(w, conn, rflags, bw, name, &rc);
	rv = storage_pump(w, &rc, fd, &all, 1, track, &rs, err);
	close(fd);
	if (rv == -1)
		return -1;
	w->bytes_disk += rs.stream_bytes;
	w->bytes_wire += rs.wire_bytes;
	if (rs.stream_bytes != d->d.size)
		return mig_seterr(err, MIG_E_IO, "disk %s: read %" PRIu64
		    " bytes, not its %" PRIu64, d->src, rs.stream_bytes,
		    d->d.size);
	mig_log_info("%s: sent disks[%u] %s, %" PRIu64 " bytes", w->rec.name,
	    d->d.index, d->src, d->d.size);
	return 0;
}

/* Each disk, in RESERVE's order, the guest suspended (cold). */
int
storage_send(struct worker *w, struct mig_conn *conn,
    const struct storage *st, unsigned rflags, uint64_t bw,
    struct mig_err *err)
{
	unsigned	i;

	for (i = 0; i < st->n; i++)
		if (storage_send_disk(w, conn, &st->disk[i], rflags, bw, NULL,
		    err) == -1)
			return -1;
	return 0;
}

/*
 * --remove-source-storage, once the target answered ACTIVATED: it had
 * journaled the COMMIT before it did, so its disks are the domain's.
 * One that cannot be removed stays, with a line in the log.
 */
void
storage_remove_source(const struct storage *st, const char *host)
{
	struct mig_err	err;
	unsigned	i;

	for (i = 0; i < st->n; i++) {
		if (dest_remove(st->disk[i].d.kind, st->disk[i].src,
		    &err) == -1)
			mig_log_warnx("%s; the domain runs on %s, %s is left "
			    "here", err.msg, host, st->disk[i].src);
		else
			mig_log_info("removed %s: the domain runs on %s with "
			    "its copy", st->disk[i].src, host);
	}
}
