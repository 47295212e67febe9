/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The spare worker ("relocd -W spare ..."): a worker that does, before
 * any job exists, what every worker does first -- the exec and dynamic
 * linking of relocd, libxl and OpenSSL, reading the configuration,
 * opening the libxl context and the journal (worker_open) -- then waits
 * on its pipe for the job the parent hands it (spare_ctl.c): the argv a
 * fresh worker would have been exec'd with, and the connection of an
 * incoming job.  From there it is that worker: same options, same fd 4,
 * the job's clock started at the handoff.
 *
 * While it waits it holds nothing of a job's, so SIGTERM ends it at once
 * (its handler is installed only once it has a job), and so does the
 * end of its pipe: the parent retiring it, or the parent gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "mig/image.h"
#include "mig/log.h"
#include "relocd.h"

/* The job's argv, kept for the life of the process (w->argv). */
static char	 job_buf[SPARE_JOB_MAX + 1];
static char	*job_argv[SPARE_ARGV_MAX + 1];

/* fd 4 is where an incoming job's connection goes, as in a fresh worker:
 * held by /dev/null until then, so that nothing worker_open opens takes
 * it. */
static int
hold_conn_fd(struct mig_err *err)
{
	int	fd;

	if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		return mig_seterrno(err, MIG_E_IO, "/dev/null");
	if (fd != RELOCD_WORKER_FD_CONN) {
		if (dup3(fd, RELOCD_WORKER_FD_CONN, O_CLOEXEC) == -1) {
			close(fd);
			return mig_seterrno(err, MIG_E_IO, "spare: fd %d",
			    RELOCD_WORKER_FD_CONN);
		}
		close(fd);
	}
	return 0;
}

/* 1 and *argcp, *argvp, fd 4 set for the job; 0 the parent retired us;
 * -1 on error. */
static int
receive_job(int pipe, int flags, int *argcp, char ***argvp,
    struct mig_err *err)
{
	char		 cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec	 iov = { job_buf, SPARE_JOB_MAX };
	struct msghdr	 msg;
	struct cmsghdr	*cm;
	ssize_t		 n;
	size_t		 off;
	int		 argc = 0, conn = -1;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	do
		n = recvmsg(pipe, &msg, MSG_CMSG_CLOEXEC | flags);
	while (n == -1 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n == -1)
		return mig_seterrno(err, MIG_E_IO, "spare: pipe");
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&conn, CMSG_DATA(cm), sizeof(int));
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC) || n < 1 ||
	    job_buf[n - 1] != '\0') {
		if (conn != -1)
			close(conn);
		return mig_seterr(err, MIG_E_PROTO, "spare: a malformed job");
	}
	for (off = 0; off < (size_t)n && argc < SPARE_ARGV_MAX;
	    off += strlen(job_buf + off) + 1)
		job_argv[argc++] = job_buf + off;
	job_argv[argc] = NULL;
	if (off != (size_t)n || argc < 3) {
		if (conn != -1)
			close(conn);
		return mig_seterr(err, MIG_E_PROTO, "spare: a malformed job");
	}
	/* Where a fresh worker has it: fd 4, inherited, not close-on-exec
	 * (dup2 clears the flag); none if the job has no connection. */
	if (conn != -1) {
		if (dup2(conn, RELOCD_WORKER_FD_CONN) == -1) {
			close(conn);
			return mig_seterrno(err, MIG_E_IO, "spare: fd %d",
			    RELOCD_WORKER_FD_CONN);
		}
		close(conn);
	} else
		close(RELOCD_WORKER_FD_CONN);
	*argcp = argc;
	*argvp = job_argv;
	return 1;
}

/*
 * The spare's life up to its job: opens what every worker opens, then
 * waits.  1 with the job's argv (w is open; SIGTERM cancels it from now
 * on); 2 with the job's argv and w not open (err says why, which the
 * job fails with, as a fresh worker's would); 0 when retired before any
 * job, or -1 (err set): the caller closes w and exits.
 */
int
spare_wait(struct worker *w, const struct mig_hv_ops *ops, int *argcp,
    char ***argvp, struct mig_err *err)
{
	struct mig_err	e2;
	uint64_t	t0 = mig_now_ms();
	int		rc;

	if (hold_conn_fd(err) == -1 || worker_open(w, ops, err) == -1) {
		/* No job from now on: the parent's next handoff fails
		 * (EPIPE) and it execs the job's worker; one it sent
		 * before is still ours to answer. */
		shutdown(w->pipe, SHUT_RD);
		return receive_job(w->pipe, MSG_DONTWAIT, argcp, argvp,
		    &e2) == 1 ? 2 : -1;
	}
	/* The digest code's choice is timed once per process: here, not
	 * in the job's save or restore. */
	mig_image_prepare();
	/* Until it has a job, the default action: nothing to cancel. */
	if (evsignal_del(w->sig_ev) == -1)
		return mig_seterr(err, MIG_E_IO, "spare: SIGTERM");
	mig_log_debug("ready in %" PRIu64 " ms", mig_now_ms() - t0);
	if ((rc = receive_job(w->pipe, 0, argcp, argvp, err)) != 1)
		return rc;
	if (evsignal_add(w->sig_ev, NULL) == -1)
		return mig_seterr(err, MIG_E_IO, "spare: SIGTERM");
	return 1;
}

/*
 * ps, pgrep -f and /proc/PID/cmdline show the job's argv from now on, as
 * for a fresh worker: written over the spare's own, whose last argument
 * (SPARE_TITLE_PAD spaces, job.c) makes room for what a job adds
 * (its kind, id, -T, -P peer, -R).  The strings the spare's argv pointed
 * to are no longer read after this.
 */
void
spare_retitle(int argc, char **argv, int jargc, char **jargv)
{
	char	*end = argv[0];
	size_t	 off = 0, n;
	int	 i;

	for (i = 0; i < argc; i++)
		if (argv[i] + strlen(argv[i]) + 1 > end)
			end = argv[i] + strlen(argv[i]) + 1;
	for (i = 0; i < jargc; i++)
		off += strlen(jargv[i]) + 1;
	if (off > (size_t)(end - argv[0])) {
		mig_log_debug("spare: the job's command line does not fit "
		    "in the spare's");
		return;
	}
	for (i = 0, off = 0; i < jargc; i++) {
		n = strlen(jargv[i]) + 1;
		memcpy(argv[0] + off, jargv[i], n);
		off += n;
	}
	memset(argv[0] + off, '\0', end - argv[0] - off);
}
