/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The target's side of a live disk copy (doc/protocol.md section 9):
 * before STREAM_START each disk's pass 0 (DISK, written and checked
 * whole, as the cold copy's) and any delta passes; after the memory
 * stream each disk's last pass, up to its DISK_DELTA with LAST.  A
 * delta's bytes are written at its ranges' offsets, then read back and
 * checked against the digest of what the source read.  Every failure
 * is the caller's in_undo(): the destinations created here go.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mig/conn.h"
#include "mig/log.h"
#include "mig/relay.h"
#include "storage.h"

/* The disk a DISK or DISK_DELTA names, by RESERVE's list. */
static const struct storage_disk *
disk_of(const struct storage *st, uint16_t index, uint64_t size,
    const char *what, struct mig_err *err)
{
	unsigned	i;

	for (i = 0; i < st->n; i++)
		if (st->disk[i].d.index == index) {
			if (st->disk[i].d.size != size)
				break;
			return &st->disk[i];
		}
	mig_seterr(err, MIG_E_PROTO, "%s for disks[%u] of %" PRIu64 " bytes: "
	    "RESERVE listed no such disk", what, index, size);
	return NULL;
}

/* One DISK_DELTA (m, read already): its bytes at its ranges, read back
 * and checked. */
static int
receive_delta(struct worker *w, struct mig_conn *conn,
    const struct storage_disk *d, const struct mig_msg_disk_delta *m,
    uint64_t granted, struct mig_disk_range *r, struct mig_err *err)
{
	struct mig_relay_conf	 rc;
	struct mig_relay_stats	 rs;
	char			 name[64];
	uint64_t		 want = 0;
	uint32_t		 i;
	int			 fd;

	if (m->nranges == 0)
		return 0;	/* LAST, nothing written since */
	for (i = 0; i < m->nranges; i++) {
		r[i] = mig_delta_range(m, i);
		want += r[i].len;
	}
	snprintf(name, sizeof(name), "disks[%u] pass %" PRIu32, d->d.index,
	    m->pass);
	if (storage_recv_conf(conn, m->flags & MIG_DISK_F_ALL, granted, name,
	    &rc, err) == -1)
		return -1;
	if ((fd = open(d->dst, O_RDWR | O_CLOEXEC)) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s", d->dst);
	worker_event(w, w->phase, name);
	if (storage_pump(w, &rc, fd, r, m->nranges, NULL, &rs, err) == -1)
		goto fail;
	w->bytes_disk += rs.stream_bytes;
	w->bytes_wire += rs.wire_bytes;
	if (rs.stream_bytes != want) {
		mig_seterr(err, MIG_E_CORRUPT, "%s: %" PRIu64 " bytes arrived, "
		    "its ranges hold %" PRIu64, name, rs.stream_bytes, want);
		goto fail;
	}
	if (storage_verify(w, d, fd, r, m->nranges, m->flags &
	    MIG_STREAM_F_XXH3, rs.digest, err) == -1)
		goto fail;
	close(fd);
	mig_log_info("%s: %s written to %s and checked, %" PRIu64 " bytes in "
	    "%" PRIu32 " ranges", w->rec.name, name, d->dst, want, m->nranges);
	return 0;
 fail:
	close(fd);
	return -1;
}

/* Ranges of one DISK_DELTA, decoded: too big for the stack. */
static struct mig_disk_range	ranges[MIG_DELTA_RANGES_MAX];

int
storage_receive_live(struct worker *w, struct mig_conn *conn,
    struct peer_buf *buf, const struct storage *st, uint64_t granted,
    struct mig_msg *m, struct mig_err *err)
{
	const struct storage_disk	*d;
	unsigned			 whole = 0;

	for (;;) {
		if (peer_recv(conn, buf, m, worker_deadline(w), err) == -1)
			return -1;
		switch (m->type) {
		case MIG_MSG_DISK:
			if ((d = disk_of(st, m->u.disk.index, m->u.disk.size,
			    "DISK", err)) == NULL)
				return -1;
			if (d != &st->disk[whole])
				return mig_seterr(err, MIG_E_PROTO, "DISK for "
				    "disks[%u] out of RESERVE's order",
				    m->u.disk.index);
			if (storage_receive_disk(w, conn, d, &m->u.disk,
			    granted, err) == -1)
				return -1;
			whole++;
			break;
		case MIG_MSG_DISK_DELTA:
			if ((d = disk_of(st, m->u.disk_delta.index,
			    m->u.disk_delta.size, "DISK_DELTA", err)) == NULL)
				return -1;
			if (d >= &st->disk[whole] ||
			    (m->u.disk_delta.flags & MIG_DELTA_F_LAST))
				return mig_seterr(err, MIG_E_PROTO, "DISK_DELTA "
				    "for disks[%u] %s", d->d.index,
				    d >= &st->disk[whole] ? "before its DISK" :
				    "with LAST before the memory stream");
			if (receive_delta(w, conn, d, &m->u.disk_delta,
			    granted, ranges, err) == -1)
				return -1;
			break;
		case MIG_MSG_PROGRESS:
			break;	/* the source looks for what was written */
		case MIG_MSG_STREAM_START:
			if (whole < st->n)
				return mig_seterr(err, MIG_E_PROTO, "STREAM_"
				    "START before disks[%u]'s DISK",
				    st->disk[whole].d.index);
			return 0;
		default:
			return peer_unexpected(conn, m, "DISK, DISK_DELTA or "
			    "STREAM_START", err);
		}
	}
}

/* The next DISK_DELTA, PROGRESS (the source reading a whole file for
 * its last pass, the guest paused) skipped. */
static int
next_delta(struct worker *w, struct mig_conn *conn, struct peer_buf *buf,
    struct mig_msg *m, struct mig_err *err)
{
	do {
		if (peer_recv(conn, buf, m, worker_deadline(w), err) == -1)
			return -1;
	} while (m->type == MIG_MSG_PROGRESS);
	return m->type == MIG_MSG_DISK_DELTA ? 0 : peer_unexpected(conn, m,
	    "DISK_DELTA", err);
}

int
storage_receive_final(struct worker *w, struct mig_conn *conn,
    struct peer_buf *buf, const struct storage *st, uint64_t granted,
    struct mig_err *err)
{
	const struct storage_disk	*d;
	struct mig_msg			 m;
	unsigned			 i;

	for (i = 0; i < st->n; i++) {
		d = &st->disk[i];
		do {
			if (next_delta(w, conn, buf, &m, err) == -1)
				return -1;
			if (m.u.disk_delta.index != d->d.index ||
			    m.u.disk_delta.size != d->d.size)
				return mig_seterr(err, MIG_E_PROTO, "DISK_DELTA "
				    "for disks[%u] of %" PRIu64 " bytes, "
				    "expected disks[%u]'s last pass",
				    m.u.disk_delta.index, m.u.disk_delta.size,
				    d->d.index);
			if (receive_delta(w, conn, d, &m.u.disk_delta, granted,
			    ranges, err) == -1)
				return -1;
		} while (!(m.u.disk_delta.flags & MIG_DELTA_F_LAST));
		mig_log_info("%s: disks[%u] complete at %s after pass %" PRIu32,
		    w->rec.name, d->d.index, d->dst, m.u.disk_delta.pass);
	}
	return 0;
}
