/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Save to and restore from an image file (libmig/image.h), as xl save and
 * xl restore do: the one core that relocd's worker (worker_file.c) and
 * "xl-reloc save/restore --direct" (xl-plugin/direct.c) both run, so both
 * give the same guarantees.  The caller owns the hypervisor handle and
 * hears about progress through j->event.
 *
 * A plain image in one file is as xl's: libxl writes its stream straight
 * into the image's temporary file, and a thread of the writer's reads it
 * back as libxl writes it, to check and digest it before the commit
 * (save); libxl reads the stream from the file while a thread reads and
 * checks the whole image beside it (restore).  A compressed, encrypted or split image needs every byte in
 * our hands: libxl writes and reads its stream with blocking I/O on one
 * end of a socketpair while the event loop must keep running, so a copy
 * thread moves the bytes between the other end and the image writer or
 * reader.  The log says which path a job took.
 *
 * The failure rules:
 *   save     the image appears only on commit; any failure aborts the
 *            writer (an older file at the path is untouched) and the
 *            domain runs again here.  After a commit the domain is
 *            destroyed, as xl save does, unless asked to keep running.
 *   restore  the domain is built paused and runs only once the whole
 *            image has been verified; a damaged image is destroyed, never
 *            run.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "file_job.h"
#include "mig/hv.h"
#include "mig/image.h"
#include "mig/log.h"
#include "mig/relay.h"
#include "reloc.h"
#include "save_check.h"

#define COPY_CHUNK	65536
/* The least time between two progress reports of a save passed on. */
#define PROGRESS_EVERY_MS	250

struct copier {
	int			 fd;	/* our end of the socketpair */
	struct mig_image_writer	*wr;	/* save */
	struct mig_image_reader	*rd;	/* restore */
	pthread_t		 tid;
	uint64_t		 bytes;	/* read by the main thread after join */
	int			 failed;
	int			 sock_failed;	/* on the socket, not the image */
	volatile int		 stop;		/* verify: libxl gave up */
	struct mig_err		 err;
	uint8_t			 buf[COPY_CHUNK];
};

/* Save: libxl's stream into the image writer, until libxl's end closes. */
static void *
copy_to_image(void *arg)
{
	struct copier	*c = arg;
	ssize_t		 n;

	for (;;) {
		if ((n = read(c->fd, c->buf, sizeof(c->buf))) == -1) {
			if (errno == EINTR)
				continue;
			mig_seterrno(&c->err, MIG_E_IO, "save stream");
			c->sock_failed = 1;
			break;
		}
		if (n == 0)
			return NULL;
		if (mig_image_writer_write(c->wr, c->buf, (size_t)n,
		    &c->err) == -1)
			break;
		c->bytes += (uint64_t)n;
	}
	c->failed = 1;
	/* libxl must not block on a stream nobody reads any more: its
	 * next write fails and so does the save. */
	shutdown(c->fd, SHUT_RDWR);
	return NULL;
}

/* Restore: the image's libxl stream into libxl, up to its END record. */
static void *
copy_from_image(void *arg)
{
	struct copier	*c = arg;
	ssize_t		 n, w, off;

	for (;;) {
		if ((n = mig_image_reader_read(c->rd, c->buf, sizeof(c->buf),
		    &c->err)) == -1)
			break;
		if (n == 0) {
			shutdown(c->fd, SHUT_WR);
			return NULL;
		}
		for (off = 0; off < n; off += w) {
			w = send(c->fd, c->buf + off, (size_t)(n - off),
			    MSG_NOSIGNAL);
			if (w == -1 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w == -1) {
				mig_seterrno(&c->err, MIG_E_IO, "restore "
				    "stream");
				c->sock_failed = 1;
				goto fail;
			}
		}
		c->bytes += (uint64_t)n;
	}
 fail:
	c->failed = 1;
	/* libxl sees the stream end early and fails the restore. */
	shutdown(c->fd, SHUT_RDWR);
	return NULL;
}

/*
 * Restore with libxl reading the file itself: the whole image read and
 * checked beside it, the same bytes from the page cache (the page
 * contents of an image without a digest stepped over).  Stops early
 * (unverified, so never run) when libxl has given up.
 */
static void *
verify_image(void *arg)
{
	struct copier	*c = arg;
	ssize_t		 n = 0;

	while (!c->stop && (n = mig_image_reader_check(c->rd, c->buf,
	    sizeof(c->buf), &c->err)) > 0)
		c->bytes += (uint64_t)n;
	/* Stopped: what is left is read, if at all, by whoever looks for
	 * the cause of libxl's failure (restore_stream). */
	if (!c->stop && (n == -1 ||
	    mig_image_reader_verify_end(c->rd, &c->err) == -1))
		c->failed = 1;
	return NULL;
}

void
file_job_init(struct file_job *j, struct mig_hv *hv, struct mig_hv_op **op)
{
	memset(j, 0, sizeof(*j));
	j->hv = hv;
	j->op = op;
	j->result_domid = MIG_HV_INVALID_DOMID;
}

static void
fj_event(struct file_job *j, uint16_t phase, const char *text)
{
	if (j->event != NULL)
		j->event(j, phase, text);
}

static int
fj_journal(struct file_job *j, enum jstate st, const char *name, int domid,
    struct mig_err *err)
{
	return j->journal != NULL ? j->journal(j, st, name, domid, err) : 0;
}

/* For the records of a job that failed: the failure is reported anyway. */
static void
fj_journal_end(struct file_job *j, enum jstate st, const char *name,
    int domid)
{
	struct mig_err	err;

	if (fj_journal(j, st, name, domid, &err) == -1)
		mig_log_warnx("%s", err.msg);
}

static bool
fj_cancelled(const struct file_job *j)
{
	return j->cancelled != NULL && *j->cancelled;
}

/*
 * Waits for one hypervisor operation (already started as *j->op, NULL if
 * it failed to start) beside the copy thread, then joins the thread.
 * libxl never closes its end: closing ours after the operation is what
 * ends the copy.
 */
static int
copy_run(struct file_job *j, struct copier *c, int hv_fd, uint32_t *domid,
    struct mig_err *err)
{
	int	rc;

	rc = *j->op == NULL ? -1 : mig_hv_wait(*j->op, err);
	if (rc == 0 && domid != NULL)
		*domid = mig_hv_op_domid(*j->op);
	if (rc == -1)
		shutdown(c->fd, SHUT_RDWR);
	close(hv_fd);
	pthread_join(c->tid, NULL);
	close(c->fd);
	j->bytes = c->bytes;
	if (*j->op != NULL) {
		mig_hv_op_free(*j->op);
		*j->op = NULL;
	}
	fj_event(j, MIG_PHASE_STOPCOPY, NULL);
	/* The image's failure is the reason the operation failed, or a
	 * failure of its own after a good one (a stream the image could not
	 * vouch for).  A broken socket only echoes the operation's end. */
	if (c->failed && (rc == 0 || (err->code != MIG_E_CANCELLED &&
	    !c->sock_failed))) {
		if (rc == -1)
			snprintf(j->followed, sizeof(j->followed), "%s",
			    err->msg);
		*err = c->err;
		return -1;
	}
	return rc;
}

static int
copy_start(struct copier *c, void *(*fn)(void *), int sv[2],
    struct mig_err *err)
{
	int	e;

	if (mig_relay_socketpair(sv, err) == -1)
		return -1;
	c->fd = sv[0];
	if ((e = pthread_create(&c->tid, NULL, fn, c)) != 0) {
		close(sv[0]);
		close(sv[1]);
		errno = e;
		return mig_seterrno(err, MIG_E_NOMEM, "copy thread");
	}
	return 0;
}

static int
load_key(const char *path, struct mig_image_key *key,
    const struct mig_image_key **kp, struct mig_err *err)
{
	*kp = NULL;
	if (path[0] == '\0')
		return 0;
	if (mig_image_key_load(path, key, err) == -1)
		return -1;
	*kp = key;
	return 0;
}

static void
on_save_progress(struct mig_hv_op *op, const struct mig_hv_progress *rep,
    void *arg)
{
	struct file_job		*j = arg;
	struct mig_hv_progress	 capped = *rep, *p = &capped;
	uint64_t		 now = mig_now_ms();

	mig_hv_progress_cap(p, j->mem_kib, MIG_PAGE_SIZE);
	switch (p->kind) {
	case MIG_HV_PROGRESS_ROUND:
		j->round = p->round;
		j->dirty_left = p->dirty_left;
		if (p->round == 0)
			j->pages_total = p->pages_total;
		j->pages_sent = p->pages_done;
		/* libxc reports every batch (4 MiB); each report passed on
		 * wakes relocd and the client and redraws a line, which a
		 * busy one-vCPU dom0 pays for in the save's time.  A few a
		 * second is what a person reads; the end is reported
		 * anyway (save_direct, copy_run). */
		if (now - j->reported_ms < PROGRESS_EVERY_MS)
			break;
		j->reported_ms = now;
		fj_event(j, MIG_PHASE_STOPCOPY, NULL);
		break;
	case MIG_HV_PROGRESS_SUSPENDED:
		j->suspended_ms = mig_now_ms();
		fj_event(j, MIG_PHASE_STOPCOPY, "domain suspended");
		break;
	default:
		break;
	}
}

/* After a failed save: the domain runs again, the image never appears. */
static uint16_t
save_undo(struct file_job *j, const struct mig_hv_dominfo *dom,
    struct mig_err *why)
{
	struct mig_err	err;

	mig_log_failure(why->msg, j->followed);
	if (mig_hv_recover_source(j->hv, dom->domid, why, &err) == -1) {
		mig_log_warnx("%s", err.msg);
		*why = err;
		return CTL_ST_UNDEFINED;
	}
	j->resumed_ms = mig_now_ms();
	j->result_domid = dom->domid;
	return ctl_status_of(why, 1);
}

/*
 * libxl writes into the image's file.  Its failure may be the file's (a
 * full disk, the largest file): the writer's probe says so, and that is
 * the cause to report, libxl's failure its echo.
 */
static int
save_direct(struct file_job *j, const struct mig_hv_dominfo *dom,
    struct mig_image_writer *wr, int fd, struct mig_err *err)
{
	struct mig_err	cause;
	int		rc;

	mig_log_info("saving %s: libxl writes the image file directly (plain, "
	    "one file)", dom->name);
	fj_event(j, MIG_PHASE_STOPCOPY, "saving");
	j->mem_kib = dom->mem_kib;
	*j->op = mig_hv_save(j->hv, dom->domid, fd, 0, on_save_progress,
	    NULL, j, err);
	rc = *j->op == NULL ? -1 : mig_hv_wait(*j->op, err);
	if (*j->op != NULL) {
		mig_hv_op_free(*j->op);
		*j->op = NULL;
	}
	if (rc == -1 && err->code != MIG_E_CANCELLED &&
	    mig_image_writer_probe(wr, &cause) == -1) {
		snprintf(j->followed, sizeof(j->followed), "%s", err->msg);
		*err = cause;
	}
	if (rc == 0)
		rc = mig_image_writer_stream_done(wr, &j->bytes, err);
	fj_event(j, MIG_PHASE_STOPCOPY, NULL);
	return rc;
}

/* -1: the image is not published, and wr is the caller's to abort. */
static int
save_copied(struct file_job *j, const struct mig_hv_dominfo *dom,
    struct mig_image_writer *wr, struct mig_err *err)
{
	struct copier	*c;
	int		 sv[2], rc;

	mig_log_info("saving %s: through a copy thread (compressed, encrypted or "
	    "split image)", dom->name);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "save");
	c->wr = wr;
	if (copy_start(c, copy_to_image, sv, err) == -1) {
		free(c);
		return -1;
	}
	fj_event(j, MIG_PHASE_STOPCOPY, "saving");
	j->mem_kib = dom->mem_kib;
	*j->op = mig_hv_save(j->hv, dom->domid, sv[1], 0, on_save_progress,
	    NULL, j, err);
	rc = copy_run(j, c, sv[1], NULL, err);
	free(c);
	return rc;
}

static int
save_image(struct file_job *j, const struct mig_hv_dominfo *dom,
    struct mig_image_writer *wr, struct mig_err *err)
{
	int	fd, rc;

	fd = mig_image_writer_stream_fd(wr);
	rc = fd != -1 ? save_direct(j, dom, wr, fd, err) :
	    save_copied(j, dom, wr, err);
	if (rc == -1 && fj_cancelled(j) && err->code != MIG_E_CANCELLED)
		mig_seterr(err, MIG_E_CANCELLED, "cancelled during the save "
		    "of %s", dom->name);
	return rc == -1 ? -1 : mig_image_writer_commit(wr, err);
}

uint16_t
file_save(struct file_job *j, const struct ctl_save *req, struct mig_err *err)
{
	struct mig_hv_dominfo		 dom;
	struct mig_image_key		 key;
	struct mig_image_opts		 opts;
	struct mig_image_writer		*wr;
	struct save_fs			 fs;
	char				*json, *given;
	uint16_t			 st;
	int				 rc;

	fj_event(j, MIG_PHASE_PREMIGRATION, "checking");
	if (mig_hv_find(j->hv, req->domain, &dom, err) == -1)
		return ctl_status_of(err, 1);
	if (j->describe != NULL)
		j->describe(j, dom.name, req->path);
	if (dom.domid == 0) {
		mig_seterr(err, MIG_E_INVAL, "Domain-0 cannot be saved");
		return CTL_ST_FAILED;
	}
	if (dom.state != MIG_HV_DOM_RUNNING && dom.state != MIG_HV_DOM_PAUSED) {
		mig_seterr(err, MIG_E_INVAL, "domain %s is %s, not running",
		    dom.name, mig_hv_domstate_name(dom.state));
		return CTL_ST_FAILED;
	}
	memset(&opts, 0, sizeof(opts));
	/* libmig's defaults, named here: the simulated host's relocd
	 * interposes on these (-Wl,--wrap) to fail an image's I/O as an
	 * NFS server that went away does (tests/sim/sim_imgio.c). */
	opts.write_fn = write;
	opts.fsync_fn = fsync;
	opts.close_fn = close;
	opts.compress = (req->flags & CTL_SF_COMPRESS) != 0;
	if (req->flags & CTL_SF_SHA256)
		opts.digest = MIG_IMAGE_DIGEST_SHA256;
	opts.zstd_level = j->zstd_level;
	opts.split = req->split;
	if (load_key(req->key, &key, &opts.key, err) == -1)
		return CTL_ST_FAILED;
	if ((json = mig_hv_config_json(j->hv, dom.domid, err)) == NULL) {
		explicit_bzero(&key, sizeof(key));
		return CTL_ST_FAILED;
	}
	if (req->config[0] != '\0') {
		if (cfg_override(j->hv, req->config, json, 1, &given, NULL, 0,
		    err) == -1) {
			free(json);
			explicit_bzero(&key, sizeof(key));
			return CTL_ST_FAILED;
		}
		free(json);
		json = given;
	}
	/* Refused before anything is paused or created. */
	if (save_fs_probe(req->path, &fs, err) == -1 ||
	    save_fits(&fs, save_estimate(&dom, strlen(json)),
	    opts.compress, req->split, err) == -1) {
		free(json);
		explicit_bzero(&key, sizeof(key));
		return CTL_ST_FAILED;
	}
	/* A journaled save names its temporary file, durably, before the
	 * file exists: a crash from there on leaves nothing unaccounted. */
	if (j->journal != NULL) {
		if (mig_image_temp_name(req->path, j->tmp, sizeof(j->tmp),
		    err) == -1 || fj_journal(j, J_STREAMING, dom.name,
		    (int)dom.domid, err) == -1) {
			j->tmp[0] = '\0';
			free(json);
			explicit_bzero(&key, sizeof(key));
			return CTL_ST_FAILED;
		}
		opts.tmp_path = j->tmp;
	}
	wr = mig_image_writer_open(req->path, json, strlen(json), &opts, err);
	free(json);
	explicit_bzero(&key, sizeof(key));
	if (wr == NULL) {
		/* Nothing created (or an other's file, if the name was
		 * taken): no temporary file of ours to account for. */
		j->tmp[0] = '\0';
		fj_journal_end(j, J_ABORTED, dom.name, (int)dom.domid);
		return CTL_ST_FAILED;
	}
	rc = save_image(j, &dom, wr, err);
	if (rc == -1) {
		/* The guest first: removing what was written waits as long
		 * as writing did on a file system that stopped answering
		 * (an NFS server gone: doc/architecture.md). */
		st = save_undo(j, &dom, err);
		mig_image_writer_abort(wr);
		j->tmp[0] = '\0';
		if (st != CTL_ST_UNDEFINED)
			fj_journal_end(j, J_ABORTED, dom.name, (int)dom.domid);
		return st;
	}
	/* Renamed to the image: no temporary file is left. */
	j->tmp[0] = '\0';
	/* The image is on disk: from here the domain's fate is the one
	 * asked for, and a failure of it is reported, not undone. */
	j->result_domid = dom.domid;
	if (req->flags & (CTL_SF_KEEP_RUNNING | CTL_SF_PAUSED)) {
		/* xl save -p: resumed, then paused at once, as xl does it:
		 * a resume that left it suspended could not be unpaused. */
		if (mig_hv_resume(j->hv, dom.domid, err) == -1 ||
		    ((req->flags & CTL_SF_PAUSED) &&
		    mig_hv_pause(j->hv, dom.domid, err) == -1)) {
			mig_log_warnx("%s", err->msg);
			return CTL_ST_UNDEFINED;
		}
		j->resumed_ms = mig_now_ms();
	} else if (mig_hv_destroy(j->hv, dom.domid, err) == -1) {
		mig_log_warnx("%s", err->msg);
		return CTL_ST_UNDEFINED;
	} else
		j->result_domid = MIG_HV_INVALID_DOMID;
	fj_journal_end(j, J_DONE, dom.name, (int)dom.domid);
	fj_event(j, MIG_PHASE_ACTIVATION, "saved");
	mig_log_info("%s saved to %s", dom.name, req->path);
	return CTL_ST_OK;
}

/*
 * libxl reads fd (the image's own file, at its stream) beside the
 * verifying thread.  The image's failure is the cause when there is
 * one, as in copy_run().
 */
static int
restore_direct(struct file_job *j, struct copier *c, int fd,
    const char *json, const char *name, uint32_t *domid, struct mig_err *err)
{
	int	rc, e;

	c->fd = -1;
	if ((e = pthread_create(&c->tid, NULL, verify_image, c)) != 0) {
		close(fd);
		errno = e;
		return mig_seterrno(err, MIG_E_NOMEM, "verify thread");
	}
	fj_event(j, MIG_PHASE_STOPCOPY, "restoring");
	*j->op = mig_hv_restore(j->hv, fd, json, name, 1, NULL, j, err);
	rc = *j->op == NULL ? -1 : mig_hv_wait(*j->op, err);
	if (rc == 0)
		*domid = mig_hv_op_domid(*j->op);
	if (rc == -1)
		c->stop = 1;
	close(fd);
	pthread_join(c->tid, NULL);
	j->bytes = c->bytes;
	if (*j->op != NULL) {
		mig_hv_op_free(*j->op);
		*j->op = NULL;
	}
	fj_event(j, MIG_PHASE_STOPCOPY, NULL);
	if (c->failed) {
		if (rc == -1)
			snprintf(j->followed, sizeof(j->followed), "%s",
			    err->msg);
		*err = c->err;
		return -1;
	}
	return rc;
}

/*
 * The stream into a new paused domain; *domid is set if it exists at the
 * end, even on failure (the copy may fail after libxl is done).  A
 * failure of the image itself is reported as "image corrupted"; one of
 * its file system (EIO, ESTALE: an NFS server gone) as it is, naming it.
 */
static int
restore_stream(struct file_job *j, struct mig_image_reader *rd,
    const char *json, const char *name, uint32_t *domid, struct mig_err *err)
{
	struct copier	*c;
	struct mig_err	 why;
	int		 sv[2], rc, bad_image, unread;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "restore");
	c->rd = rd;
	mig_clearerr(&why);
	if ((sv[1] = mig_image_reader_stream_fd(rd, &why)) != -1) {
		mig_log_info("restoring %s: libxl reads the image file directly "
		    "(plain, one file), checked beside it", name);
		rc = restore_direct(j, c, sv[1], json, name, domid, err);
	} else {
		if (why.code != MIG_OK)
			mig_log_warnx("%s: copying instead", why.msg);
		mig_log_info("restoring %s: through a copy thread (compressed, "
		    "encrypted or split image)", name);
		if (copy_start(c, copy_from_image, sv, err) == -1) {
			free(c);
			return -1;
		}
		fj_event(j, MIG_PHASE_STOPCOPY, "restoring");
		*j->op = mig_hv_restore(j->hv, sv[1], json, name, 1, NULL, j,
		    err);
		rc = copy_run(j, c, sv[1], domid, err);
	}
	unread = c->failed && !c->sock_failed && c->err.code == MIG_E_IO;
	bad_image = c->failed && !c->sock_failed && !unread;
	free(c);
	if (rc == -1 && fj_cancelled(j) && err->code != MIG_E_CANCELLED)
		mig_seterr(err, MIG_E_CANCELLED, "cancelled during the "
		    "restore of %s", name);
	else if (rc == -1 && unread)
		;	/* copy_run's error: the file's, as it is */
	else if (rc == -1 && (bad_image || err->code == MIG_E_CORRUPT)) {
		why = *err;
		mig_seterr(err, MIG_E_CORRUPT, "image corrupted: %s", why.msg);
	} else if (rc == -1 && mig_image_reader_verify_end(rd, &why) == -1) {
		/* libxl choked on damaged data before the image's own check
		 * saw it: the damage is the reason to report. */
		snprintf(j->followed, sizeof(j->followed), "%s", err->msg);
		mig_seterr(err, MIG_E_CORRUPT, "image corrupted: %s", why.msg);
	}
	return rc;
}

/*
 * Restores into NAME--incoming; it becomes NAME and runs only if the
 * whole image checks out.
 */
static uint16_t
restore_built(struct file_job *j, struct mig_image_reader *rd,
    const char *json, const char *name, const struct ctl_save *req,
    struct mig_err *err)
{
	struct mig_err	e2;
	char		incoming[MIG_HV_NAMELEN + sizeof(INCOMING_SUFFIX)];
	uint32_t	domid = MIG_HV_INVALID_DOMID;
	int		rc;

	snprintf(incoming, sizeof(incoming), "%s" INCOMING_SUFFIX, name);
	if (fj_journal(j, J_STREAMING, name, -1, err) == -1)
		return CTL_ST_FAILED;
	rc = restore_stream(j, rd, json, incoming, &domid, err);
	/* Built, paused: it runs only if the whole image checks out. */
	if (rc == 0 && mig_image_reader_verify_end(rd, err) == -1) {
		e2 = *err;
		mig_seterr(err, MIG_E_CORRUPT, "image corrupted: %s", e2.msg);
		rc = -1;
	}
	/* The point of no return, as a migration's COMMITTED: from here a
	 * reconcile finishes the restore instead of undoing it. */
	if (rc == 0 && fj_journal(j, J_COMMITTED, name, (int)domid, err) == -1)
		rc = -1;
	if (rc == -1) {
		mig_log_failure(err->msg, j->followed);
		if (domid != MIG_HV_INVALID_DOMID &&
		    mig_hv_destroy(j->hv, domid, &e2) == -1) {
			mig_log_warnx("%s", e2.msg);
			return CTL_ST_UNDEFINED;
		}
		fj_journal_end(j, J_ABORTED, name, -1);
		return ctl_status_of(err, 1);
	}
	j->result_domid = domid;
	if (mig_hv_rename(j->hv, domid, incoming, name, err) == -1 ||
	    (!(req->flags & CTL_SF_PAUSED) &&
	    mig_hv_unpause(j->hv, domid, err) == -1)) {
		mig_log_warnx("%s", err->msg);
		fj_journal_end(j, J_DONE, name, (int)domid);
		return CTL_ST_FAILED;
	}
	j->resumed_ms = mig_now_ms();
	fj_journal_end(j, J_DONE, name, (int)domid);
	fj_event(j, MIG_PHASE_ACTIVATION, "restored");
	mig_log_info("%s restored from %s as domid %u", name, req->path, domid);
	return CTL_ST_OK;
}

/*
 * A domain called NAME, or NAME--incoming, is there already: one list of
 * the domains for both names (each entry's name is a xenstore read), and
 * by name only, as libxl names them; an image's name is not a domid.
 */
static int
name_taken(struct file_job *j, const char *name, uint16_t *st,
    struct mig_err *err)
{
	struct mig_hv_dominfo	*list;
	char			 incoming[MIG_HV_NAMELEN + sizeof(INCOMING_SUFFIX)];
	int			 n, i;

	snprintf(incoming, sizeof(incoming), "%s" INCOMING_SUFFIX, name);
	if (mig_hv_list(j->hv, &list, &n, err) == -1) {
		*st = CTL_ST_FAILED;
		return 1;
	}
	for (i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0 ||
		    strcmp(list[i].name, incoming) == 0)
			break;
	if (i < n) {
		mig_seterr(err, MIG_E_DENIED, "a domain called %s runs here "
		    "already (domid %u): destroy or rename it first",
		    list[i].name, list[i].domid);
		*st = CTL_ST_REFUSED;
	}
	free(list);
	return i < n;
}

uint16_t
file_restore(struct file_job *j, const struct ctl_save *req,
    struct mig_err *err)
{
	struct mig_image_key		 key;
	const struct mig_image_key	*kp;
	struct mig_image_reader		*rd;
	struct mig_image_summary	 sum;
	const char			*json;
	char				*given = NULL;
	char				 name[MIG_HV_NAMELEN];
	size_t				 len;
	uint16_t			 st;

	fj_event(j, MIG_PHASE_PREMIGRATION, "checking");
	if (load_key(req->key, &key, &kp, err) == -1)
		return CTL_ST_FAILED;
	rd = mig_image_reader_open(req->path, kp, 0, err);
	explicit_bzero(&key, sizeof(key));
	if (rd == NULL)
		return CTL_ST_FAILED;
	json = mig_image_reader_config(rd, &len);
	mig_image_reader_summary(rd, &sum);
	if (j->describe != NULL)
		j->describe(j, sum.name, req->path);
	snprintf(name, sizeof(name), "%s", sum.name);
	/* xl restore's [cfg]: the domain is built, and named, from it. */
	if (req->config[0] != '\0') {
		if (cfg_override(j->hv, req->config, json, 0, &given, name,
		    sizeof(name), err) == -1) {
			st = CTL_ST_FAILED;
			goto out;
		}
		json = given;
	}
	if (name[0] == '\0') {
		mig_seterr(err, MIG_E_CORRUPT, "%s: the image's config names "
		    "no domain", req->path);
		st = CTL_ST_FAILED;
		goto out;
	}
	if (name_taken(j, name, &st, err))
		goto out;
	if (j->reserve != NULL && j->reserve(j, name, json, err) == -1) {
		st = ctl_status_of(err, 1);
		goto out;
	}
	st = restore_built(j, rd, json, name, req, err);
	if (j->release != NULL)
		j->release(j);
 out:
	free(given);
	mig_image_reader_close(rd);
	return st;
}
