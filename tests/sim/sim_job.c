/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A save or restore runs in a thread of its own, as libxl's save helper
 * runs in a process of its own: the stream fd is blocking and the other
 * end (a relay, maybe throttled) may be slow.  The thread never calls
 * hv.c: it writes fixed-size notes into a pipe, and the event loop that
 * owns the struct mig_hv turns them into progress reports and the
 * completion.  An abort is a flag plus an eventfd that every blocking
 * wait of the thread polls, so a thread stuck on a full socket still
 * stops.
 */
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "sim.h"

enum { NOTE_PROGRESS, NOTE_DONE };

/* Smaller than PIPE_BUF: written and read whole. */
struct note_msg {
	int			kind;
	uint32_t		domid;
	struct mig_hv_progress	p;
	struct mig_err		e;
};

void
sim_job_free(struct sim_job *j)
{
	if (j->ev != NULL)
		event_free(j->ev);
	if (j->note_rd != -1)
		close(j->note_rd);
	if (j->note_wr != -1)
		close(j->note_wr);
	if (j->wake != -1)
		close(j->wake);
	if (j->savelock != -1)
		close(j->savelock);	/* drops its flock */
	free(j);
}

struct sim_job *
sim_job_new(struct mig_hv_op *op, const char *dir, int fd,
    struct mig_err *err)
{
	struct sim_job	*j;
	struct stat	 st;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return mig_seterrno(err, MIG_E_NOMEM, "simulated operation"),
		    NULL;
	j->op = op;
	j->note_rd = j->note_wr = j->wake = j->savelock = -1;
	j->fd = fd;
	if (fstat(fd, &st) == 0) {
		j->is_sock = S_ISSOCK(st.st_mode);
		j->is_fifo = S_ISFIFO(st.st_mode);
	}
	j->domid = j->new_domid = MIG_HV_INVALID_DOMID;
	snprintf(j->dir, sizeof(j->dir), "%s", dir);
	if (sim_faults_load(dir, &j->faults, err) == -1) {
		free(j);
		return NULL;
	}
	return j;
}

static void
job_finish(struct sim_job *j, const struct note_msg *m)
{
	struct mig_hv_op	*op = j->op;

	pthread_join(j->thread, NULL);
	if (m->domid != MIG_HV_INVALID_DOMID)
		mig_hv_op_set_domid(op, m->domid);
	sim_job_free(j);
	/* Last: op may be freed inside (an orphan). */
	mig_hv_op_complete(op, m->e.code == MIG_OK ? NULL : &m->e);
}

static void
on_note(evutil_socket_t fd, short what, void *arg)
{
	struct sim_job	*j = arg;
	struct note_msg	 m;
	ssize_t		 n;

	for (;;) {
		n = read(j->note_rd, &m, sizeof(m));
		if (n == -1 && (errno == EINTR))
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n != sizeof(m)) {
			/* The thread always ends with a note: cannot happen
			 * short of a bug, but never leave the op hanging. */
			memset(&m, 0, sizeof(m));
			m.kind = NOTE_DONE;
			m.domid = MIG_HV_INVALID_DOMID;
			mig_seterr(&m.e, MIG_E_HV, "simulated operation: lost "
			    "its thread");
		}
		if (m.kind == NOTE_DONE) {
			job_finish(j, &m);
			return;
		}
		mig_hv_op_progress(j->op, &m.p);
	}
}

int
sim_job_start(struct sim_job *j, void *(*run)(void *), struct mig_err *err)
{
	struct event_base	*base = mig_hv_base(mig_hv_op_hv(j->op));
	int			 p[2];

	if (pipe2(p, O_CLOEXEC) == -1) {
		mig_seterrno(err, MIG_E_IO, "simulated operation: pipe");
		goto fail;
	}
	j->note_rd = p[0];
	j->note_wr = p[1];
	if (fcntl(j->note_rd, F_SETFL, O_NONBLOCK) == -1 ||
	    (j->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		mig_seterrno(err, MIG_E_IO, "simulated operation: eventfd");
		goto fail;
	}
	if ((j->ev = event_new(base, j->note_rd, EV_READ | EV_PERSIST,
	    on_note, j)) == NULL || event_add(j->ev, NULL) == -1) {
		mig_seterr(err, MIG_E_NOMEM, "simulated operation: event");
		goto fail;
	}
	if ((errno = pthread_create(&j->thread, NULL, run, j)) != 0) {
		mig_seterrno(err, MIG_E_NOMEM, "simulated operation: thread");
		goto fail;
	}
	mig_hv_op_set_priv(j->op, j);
	return 0;
fail:
	sim_job_free(j);
	return -1;
}

void
sim_job_abort(struct sim_job *j)
{
	uint64_t	one = 1;

	atomic_store(&j->aborted, 1);
	(void)!write(j->wake, &one, sizeof(one));
}

int
sim_job_aborted(struct sim_job *j)
{
	return atomic_load(&j->aborted);
}

int
sim_job_cancelled(struct sim_job *j)
{
	return mig_seterr(&j->err, MIG_E_CANCELLED, "operation aborted");
}

/* --- from the thread --- */

static void
note_send(struct sim_job *j, const struct note_msg *m)
{
	const uint8_t	*p = (const uint8_t *)m;
	size_t		 off = 0;
	ssize_t		 n;

	while (off < sizeof(*m)) {
		n = write(j->note_wr, p + off, sizeof(*m) - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;		/* the loop end is gone: nobody cares */
		off += (size_t)n;
	}
}

void
sim_job_progress(struct sim_job *j, const struct mig_hv_progress *p)
{
	struct note_msg	m;

	memset(&m, 0, sizeof(m));
	m.kind = NOTE_PROGRESS;
	m.p = *p;
	m.p.t_ns = mig_now_ns();
	note_send(j, &m);
}

void
sim_job_done(struct sim_job *j, uint32_t domid)
{
	struct note_msg	m;

	memset(&m, 0, sizeof(m));
	m.kind = NOTE_DONE;
	m.domid = domid;
	m.e = j->err;
	note_send(j, &m);
}

/* Waits until fd is ready for events (or only for an abort if fd is
 * -1).  -1 with err set once aborted. */
static int
wait_fd(struct sim_job *j, int fd, short events)
{
	struct pollfd	pfd[2];

	for (;;) {
		if (sim_job_aborted(j))
			return sim_job_cancelled(j);
		pfd[0].fd = j->wake;
		pfd[0].events = POLLIN;
		pfd[1].fd = fd;
		pfd[1].events = events;
		if (poll(pfd, fd == -1 ? 1 : 2, -1) == -1 && errno != EINTR)
			return mig_seterrno(&j->err, MIG_E_IO, "poll");
		if (sim_job_aborted(j))
			return sim_job_cancelled(j);
		if (fd != -1 && pfd[1].revents != 0)
			return 0;
	}
}

void
sim_job_stall(struct sim_job *j)
{
	(void)wait_fd(j, -1, 0);
}

/* One write that never blocks past an abort: a socket is written with
 * MSG_DONTWAIT, anything else in pieces that fit once poll said so. */
static ssize_t
out_once(struct sim_job *j, const uint8_t *p, size_t len)
{
	ssize_t	n;

	for (;;) {
		if (wait_fd(j, j->fd, POLLOUT) == -1)
			return -1;
		if (j->is_sock)
			n = send(j->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		else if (j->is_fifo)	/* fits once poll said POLLOUT */
			n = write(j->fd, p, len < PIPE_BUF ? len : PIPE_BUF);
		else
			n = write(j->fd, p, len);
		if (n > 0)
			return n;
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		mig_seterrno(&j->err, MIG_E_IO, "stream write after %" PRIu64
		    " bytes", j->bytes);
		/* A helper slow to die: whoever broke the stream has long
		 * said so when this failure arrives. */
		if (j->faults.echo_delay_ms > 0)
			usleep((useconds_t)j->faults.echo_delay_ms * 1000);
		return -1;
	}
}

static int
die(struct sim_job *j)
{
	if (j->faults.die_exit)
		_exit(HV_SIM_DIE_STATUS);
	return mig_seterr(&j->err, MIG_E_IO, "simulated writer death after "
	    "%" PRIu64 " bytes", j->bytes);
}

int
sim_job_flush(struct sim_job *j)
{
	const struct sim_faults	*f = &j->faults;
	size_t			 off = 0, chunk;
	ssize_t			 n;

	while (off < j->olen) {
		chunk = j->olen - off;
		if (f->die_after >= 0) {
			if (j->bytes >= (uint64_t)f->die_after)
				return die(j);
			if (chunk > (uint64_t)f->die_after - j->bytes)
				chunk = (size_t)(f->die_after - (int64_t)j->bytes);
		}
		if (f->stall_after >= 0) {
			if (j->bytes >= (uint64_t)f->stall_after) {
				sim_job_stall(j);
				return -1;
			}
			if (chunk > (uint64_t)f->stall_after - j->bytes)
				chunk = (size_t)(f->stall_after - (int64_t)j->bytes);
		}
		if ((n = out_once(j, j->obuf + off, chunk)) == -1)
			return -1;
		off += (size_t)n;
		j->bytes += (uint64_t)n;
	}
	j->olen = 0;
	return 0;
}

int
sim_job_write(struct sim_job *j, const void *p, size_t len)
{
	const uint8_t	*q = p;
	size_t		 k;

	while (len > 0) {
		if (j->olen == sizeof(j->obuf) && sim_job_flush(j) == -1)
			return -1;
		k = sizeof(j->obuf) - j->olen;
		if (k > len)
			k = len;
		memcpy(j->obuf + j->olen, q, k);
		j->olen += k;
		q += k;
		len -= k;
	}
	return 0;
}

int
sim_job_read(struct sim_job *j, void *buf, size_t len)
{
	uint8_t	*p = buf;
	ssize_t	 n;

	while (len > 0) {
		if (wait_fd(j, j->fd, POLLIN) == -1)
			return -1;
		if (j->is_sock)
			n = recv(j->fd, p, len, MSG_DONTWAIT);
		else
			n = read(j->fd, p, len);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n == -1)
			return mig_seterrno(&j->err, MIG_E_IO, "stream read "
			    "after %" PRIu64 " bytes", j->bytes);
		if (n == 0)
			return mig_seterr(&j->err, MIG_E_TRUNC, "stream ended "
			    "after %" PRIu64 " bytes", j->bytes);
		p += n;
		len -= (size_t)n;
		j->bytes += (uint64_t)n;
	}
	return 0;
}
