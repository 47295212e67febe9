/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The job table: one worker process per job, started here, heard through
 * its pipe (SOCK_SEQPACKET, control messages), reaped on SIGCHLD.  The
 * parent forwards a worker's progress to the client that asked for the
 * job, and answers its reservation requests from the ledger.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "mig/log.h"
#include "mig/proto.h"
#include "relocd.h"

static const char *const kind_names[] = {
	[0] = "reconcile",
	[CTL_JOB_MIGRATE_OUT] = "out",
	[CTL_JOB_MIGRATE_IN] = "in",
	[CTL_JOB_SAVE] = "save",
	[CTL_JOB_RESTORE] = "restore",
	[CTL_JOB_QUERY] = "query",
};

/*
 * Job ids count up across restarts (STATE_DIR/next-job), so that a job's
 * journal records can never be mistaken for another's and the ids users
 * type stay short.
 */
int
job_ids_open(struct relocd *rd, struct mig_err *err)
{
	char		path[PATH_MAX], buf[32];
	ssize_t		n;

	if (state_dir_make(rd->conf.state_dir, err) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/next-job", rd->conf.state_dir);
	if ((rd->ids_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	if ((n = pread(rd->ids_fd, buf, sizeof(buf) - 1, 0)) < 0)
		return mig_seterrno(err, MIG_E_IO, "%s", path);
	buf[n] = '\0';
	rd->next_id = strtoull(buf, NULL, 10);
	if (rd->next_id == 0)
		rd->next_id = 1;
	return 0;
}

static uint64_t
next_id(struct relocd *rd)
{
	char	buf[32];
	int	n;

	n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", rd->next_id + 1);
	if (ftruncate(rd->ids_fd, 0) == -1 || pwrite(rd->ids_fd, buf, n, 0) != n ||
	    fdatasync(rd->ids_fd) == -1)
		mig_log_warn("state directory %s: next-job", rd->conf.state_dir);
	return rd->next_id++;
}

/* Moves fd to at least 10 and marks it close-on-exec, so the dup2s into
 * the worker's fixed descriptors cannot overwrite each other. */
static int
lift(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

/*
 * Starts "relocd -W KIND -j ID ..." with its pipe on fd 3 and, for an
 * incoming connection, the socket on fd 4.  Everything else is closed by
 * close-on-exec: the worker inherits no listener, no other job's pipe and
 * no event loop.  A job (WORKER_SPARE) goes to the spare worker instead,
 * if there is one: the same argv and fd 4, without the fork and exec.
 */
int
worker_exec(struct relocd *rd, const char *kind, uint64_t id, int connfd,
    int flags, pid_t *pidp, int *pipefd, struct mig_err *err)
{
	return worker_exec_peer(rd, kind, id, connfd, flags, NULL, pidp,
	    pipefd, err);
}

/* The same, for an incoming connection: peer is the address the parent
 * accepted it from, which the worker names it by even when the peer is
 * gone before the worker can ask the socket. */
int
worker_exec_peer(struct relocd *rd, const char *kind, uint64_t id,
    int connfd, int flags, const char *peer, pid_t *pidp, int *pipefd,
    struct mig_err *err)
{
	char		 idbuf[32], *argv[16], pad[SPARE_TITLE_PAD + 1];
	sigset_t	 none;
	int		 sv[2], a, b, argc = 0, i;
	pid_t		 pid;

	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, id);
	argv[argc++] = rd->self;
	argv[argc++] = "-W";
	argv[argc++] = (char *)kind;
	argv[argc++] = "-j";
	argv[argc++] = idbuf;
	argv[argc++] = "-c";
	argv[argc++] = rd->run_conf[0] != '\0' ? rd->run_conf :
	    (char *)rd->conf_path;
	if (rd->foreground)
		argv[argc++] = "-f";
	for (i = 0; i < rd->verbose && i < 2; i++)
		argv[argc++] = "-v";
	if (flags & WORKER_TLS)
		argv[argc++] = "-T";
	if (peer != NULL) {
		argv[argc++] = "-P";
		argv[argc++] = (char *)peer;
	}
	if (flags & WORKER_RETRY)
		argv[argc++] = "-R";
	if (flags & WORKER_TITLE) {
		memset(pad, ' ', SPARE_TITLE_PAD);
		pad[SPARE_TITLE_PAD] = '\0';
		argv[argc++] = pad;	/* an operand: getopt stops at it */
	}
	argv[argc] = NULL;
	/* The spare is this same worker, already exec'd and set up. */
	if ((flags & WORKER_SPARE) &&
	    spare_take(rd, argv, connfd, pidp, pipefd) == 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return mig_seterrno(err, MIG_E_IO, "worker pipe");

	switch (pid = fork()) {
	case -1:
		close(sv[0]);
		close(sv[1]);
		return mig_seterrno(err, MIG_E_IO, "fork");
	case 0:
		/* The parent's handlers must not run here, nor its mask. */
		signal(SIGCHLD, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		a = lift(sv[1]);
		b = connfd >= 0 ? lift(connfd) : -1;
		if (a == -1 || (connfd >= 0 && b == -1) ||
		    dup2(a, RELOCD_WORKER_FD_PIPE) == -1 ||
		    (b != -1 && dup2(b, RELOCD_WORKER_FD_CONN) == -1))
			_exit(126);
		execv(rd->self, argv);
		_exit(127);
	}
	close(sv[1]);
	*pidp = pid;
	*pipefd = sv[0];
	return 0;
}

static void
job_free(struct job *j)
{
	struct relocd	*rd = j->rd;

	if (j->resv != 0)
		ledger_release(rd->ledger, j->resv);
	if (j->ev != NULL)
		event_free(j->ev);
	if (j->fd != -1)
		close(j->fd);
	if (j->preauth)
		rd->npreauth--;
	else if (j->kind == CTL_JOB_MIGRATE_IN)
		rd->nworkers_in--;
	TAILQ_REMOVE(&rd->jobs, j, entry);
	free(j);
}

static void
forward(struct job *j, const struct ctl_msg *m)
{
	if (j->watcher != NULL && client_forward(j->watcher, m) == -1)
		j->watcher = NULL;	/* gone: the job goes on without it */
}

static void
answer_reserve(struct job *j, const struct ctl_reserve_req *req)
{
	struct relocd		*rd = j->rd;
	struct ctl_msg		 ans;
	struct mig_err		 err;
	enum ledger_refusal	 r;
	uint64_t		 id = 0;

	memset(&ans, 0, sizeof(ans));
	ans.type = CTL_RESERVE_ANS;
	/* max_incoming counts jobs that hold or are asking for memory. */
	if (rd->stopping || ledger_count(rd->ledger, mig_now_ms()) >=
	    rd->conf.max_incoming)
		r = LEDGER_FULL;
	else
		r = ledger_reserve(rd->ledger, req->free_kib, req->need_kib,
		    req->name, req->uuid, rd->conf.reservation_ttl, mig_now_ms(),
		    &id);
	ans.u.reserve_ans.refusal = r;
	ans.u.reserve_ans.id = id;
	ans.u.reserve_ans.ttl_sec = rd->conf.reservation_ttl;
	ctl_text_set(ans.u.reserve_ans.text, ledger_refusal_text(r));
	if (r == LEDGER_OK)
		j->resv = id;
	mig_log_info("job %" PRIu64 ": %s %" PRIu64 " KiB for %s: %s", j->id,
	    r == LEDGER_OK ? "reserved" : "refused", req->need_kib, req->name,
	    ledger_refusal_text(r));
	if (ctl_send(j->fd, &ans, &err) == -1)
		mig_log_warnx("job %" PRIu64 ": %s", j->id, err.msg);
}

/*
 * The worker's stream started on reservation h->id for h->name: held
 * only if that is the job's own reservation, still there, and made for
 * that domain; otherwise refused, and the worker gives up the stream.
 */
static void
answer_hold(struct job *j, const struct ctl_reserve_hold *h)
{
	struct relocd		*rd = j->rd;
	struct ctl_msg		 ans;
	struct mig_err		 err;
	enum ledger_refusal	 r = LEDGER_OK;

	if (j->resv == 0 || h->id != j->resv || ledger_hold(rd->ledger,
	    h->id, h->name, h->uuid, mig_now_ms()) == -1)
		r = LEDGER_NOT_HELD;
	memset(&ans, 0, sizeof(ans));
	ans.type = CTL_RESERVE_ANS;
	ans.u.reserve_ans.refusal = r;
	ans.u.reserve_ans.id = h->id;
	ctl_text_set(ans.u.reserve_ans.text, ledger_refusal_text(r));
	if (r != LEDGER_OK)
		mig_log_info("job %" PRIu64 ": reservation %" PRIu64 " for %s: %s",
		    j->id, h->id, h->name, ledger_refusal_text(r));
	if (ctl_send(j->fd, &ans, &err) == -1)
		mig_log_warnx("job %" PRIu64 ": %s", j->id, err.msg);
}

/*
 * A job's outcome for its log line.  An incoming job that failed before
 * its stream started (a peer gone before RESERVE, refused, or out of turn)
 * created nothing, and must not read as if a copy had been removed.
 */
static const char *
result_label(const struct job *j, uint16_t st)
{
	if (j->kind == CTL_JOB_MIGRATE_IN && j->phase < MIG_PHASE_PRECOPY &&
	    (st == CTL_ST_FAILED || st == CTL_ST_CANCELLED))
		return st == CTL_ST_FAILED ? "failed, nothing created" :
		    "cancelled, nothing created";
	return ctl_result_label(j->kind, st);
}

/* Reads and acts on one message of the worker's; -1 at its end. */
static int
pipe_read_one(struct job *j)
{
	struct ctl_msg	 m;
	struct mig_err	 err;

	if (ctl_recv(j->fd, &m, &err) == -1) {
		if (err.code != MIG_E_EOF)
			mig_log_warnx("job %" PRIu64 ": %s", j->id, err.msg);
		/* The worker is ending; SIGCHLD finishes the job. */
		event_del(j->ev);
		return -1;
	}
	switch (m.type) {
	case CTL_EVENT:
		m.u.event.job = j->id;
		j->phase = m.u.event.phase;
		j->bytes_wire = m.u.event.bytes_wire;
		forward(j, &m);
		break;
	case CTL_RESULT:
		m.u.result.job = j->id;
		j->result_seen = 1;
		/* The figures too: an operator reading the log, or the lab,
		 * should not need the client's screen to know them. */
		mig_log_info("job %" PRIu64 " (%s %s): %s%s%s (%" PRIu64 " ms, "
		    "paused %" PRIu64 " ms, %" PRIu64 " bytes on the wire, "
		    "%" PRIu32 " rounds)", j->id, ctl_job_kind_name(j->kind),
		    j->domain, result_label(j, m.u.result.status),
		    m.u.result.text[0] ? ": " : "", m.u.result.text,
		    m.u.result.total_ms, m.u.result.paused_ms,
		    m.u.result.bytes_wire, m.u.result.rounds);
		forward(j, &m);
		break;
	case CTL_DOMAIN:
		/* Only the parent knows which domains its jobs hold. */
		if (m.u.domain.state != CTL_DS_MIGRATING &&
		    job_busy_with(j->rd, m.u.domain.name) != NULL)
			m.u.domain.state = CTL_DS_MIGRATING;
		forward(j, &m);
		break;
	case CTL_DOMAINS_END:
	case CTL_PROBED:
	case CTL_ERROR:
		/* A question's one answer: the job is over. */
		j->result_seen = 1;
		forward(j, &m);
		break;
	case CTL_JOB:
		/* The worker names what it works on once it knows. */
		snprintf(j->domain, sizeof(j->domain), "%s",
		    m.u.jobrow.domain);
		snprintf(j->peer, sizeof(j->peer), "%s", m.u.jobrow.peer);
		break;
	case CTL_RESERVE_REQ:
		answer_reserve(j, &m.u.reserve_req);
		break;
	case CTL_RESERVE_HOLD:
		answer_hold(j, &m.u.reserve_hold);
		break;
	case CTL_AUTHENTICATED:
		gate_authenticated(j);
		break;
	case CTL_RESERVE_RELEASE:
		if (j->resv != 0)
			ledger_release(j->rd->ledger, j->resv);
		j->resv = 0;
		break;
	default:
		mig_log_warnx("job %" PRIu64 ": unexpected %s from worker", j->id,
		    ctl_type_name(m.type));
	}
	return 0;
}

static void
on_pipe(evutil_socket_t fd, short ev, void *arg)
{
	(void)pipe_read_one(arg);
}

/*
 * SIGCHLD and the worker's last messages arrive together, and the loop
 * may see the signal first: what is still in the pipe is read before the
 * worker is judged to have died without a result.  poll() with no wait,
 * so that a pipe end some other process still holds never blocks us.
 */
static void
pipe_drain(struct job *j)
{
	struct pollfd	pfd = { .fd = j->fd, .events = POLLIN };

	while (!j->result_seen && poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & POLLIN) && pipe_read_one(j) == 0)
		;
}

/*
 * Starts a job.  connfd (incoming migrations) passes to the worker and is
 * closed here either way; request (local jobs) is the first message the
 * worker reads.
 */
static struct job *
job_start(struct relocd *rd, uint16_t kind, int connfd, int flags,
    const char *peer, const struct ctl_msg *request, struct client *watcher,
    struct mig_err *err)
{
	struct job	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		mig_seterrno(err, MIG_E_NOMEM, "job");
		goto fail;
	}
	j->rd = rd;
	j->kind = kind;
	j->fd = -1;
	j->id = next_id(rd);
	j->started_ms = mig_now_ms();
	j->watcher = watcher;
	if (worker_exec_peer(rd, kind_names[kind], j->id, connfd,
	    flags | WORKER_SPARE, peer, &j->pid, &j->fd, err) == -1)
		goto fail;
	if (connfd != -1) {
		close(connfd);
		connfd = -1;
	}
	TAILQ_INSERT_TAIL(&rd->jobs, j, entry);
	/* An incoming peer is unauthenticated until its worker says. */
	if (kind == CTL_JOB_MIGRATE_IN) {
		j->preauth = 1;
		rd->npreauth++;
	}
	notify_jobs(rd);
	if ((j->ev = event_new(rd->base, j->fd, EV_READ | EV_PERSIST, on_pipe,
	    j)) == NULL || event_add(j->ev, NULL) == -1 ||
	    (request != NULL && ctl_send(j->fd, request, err) == -1)) {
		mig_seterr(err, MIG_E_IO, "job %" PRIu64 ": cannot talk to "
		    "its worker", j->id);
		kill(j->pid, SIGTERM);	/* reaped, then freed, on SIGCHLD */
		j->watcher = NULL;
		return NULL;
	}
	mig_log_debug("job %" PRIu64 ": %s worker pid %ld", j->id,
	    kind_names[kind], (long)j->pid);
	return j;
 fail:
	if (connfd != -1)
		close(connfd);
	free(j);
	return NULL;
}

struct job *
job_spawn(struct relocd *rd, uint16_t kind, int connfd, int flags,
    const struct ctl_msg *request, struct client *watcher,
    struct mig_err *err)
{
	return job_start(rd, kind, connfd, flags, NULL, request, watcher, err);
}

/* An incoming connection's worker; host is what the per-address budgets
 * count it under. */
struct job *
job_spawn_in(struct relocd *rd, int connfd, int tls, const char *peer,
    const char *host, struct mig_err *err)
{
	struct job	*j;

	if ((j = job_start(rd, CTL_JOB_MIGRATE_IN, connfd, tls ? WORKER_TLS :
	    0, peer, NULL, NULL, err)) != NULL)
		snprintf(j->host, sizeof(j->host), "%s", host);
	return j;
}

/*
 * The job moving a domain of that name, if any (queries hold nothing).  A
 * job whose result has come holds nothing either: its worker is done with
 * the domain and only exiting, and the requester, told the outcome, may
 * rightly ask again at once.
 */
struct job *
job_busy_with(struct relocd *rd, const char *domain)
{
	struct job	*j;

	TAILQ_FOREACH(j, &rd->jobs, entry)
		if (j->kind != CTL_JOB_QUERY && !j->result_seen &&
		    strcmp(j->domain, domain) == 0)
			return j;
	return NULL;
}

struct job *
job_find(struct relocd *rd, uint64_t id)
{
	struct job	*j;

	TAILQ_FOREACH(j, &rd->jobs, entry)
		if (j->id == id)
			return j;
	return NULL;
}

void
job_cancel(struct job *j)
{
	struct ctl_msg	m;
	struct mig_err	err;

	memset(&m, 0, sizeof(m));
	m.type = CTL_CANCEL;
	m.u.job = j->id;
	/* A worker that cannot hear us is told the blunt way; its SIGTERM
	 * handler cancels just the same. */
	if (ctl_send(j->fd, &m, &err) == -1)
		kill(j->pid, SIGTERM);
}

/* What a watcher learns when a worker dies without saying how it ended. */
static void
report_death(struct job *j, int status)
{
	struct ctl_msg	m;
	char		why[64];
	pid_t		pid;
	int		fd;
	struct mig_err	err;

	if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "killed by signal %d",
		    WTERMSIG(status));
	else
		snprintf(why, sizeof(why), "exited with status %d",
		    WEXITSTATUS(status));
	mig_log_warnx("job %" PRIu64 " (%s %s): worker %s; reconciling its "
	    "journal", j->id, ctl_job_kind_name(j->kind), j->domain, why);
	memset(&m, 0, sizeof(m));
	m.type = CTL_RESULT;
	m.u.result.job = j->id;
	m.u.result.status = CTL_ST_UNDEFINED;
	m.u.result.code = MIG_E_IO;
	snprintf(m.u.result.text, sizeof(m.u.result.text), "the job's worker "
	    "%s; relocd is reconciling the journal: check 'xl list' and the "
	    "log", why);
	forward(j, &m);
	/* The journal knows how far it got; a reconcile worker settles it. */
	if (!j->rd->stopping && worker_exec(j->rd, "reconcile", j->id, -1,
	    WORKER_RETRY, &pid, &fd, &err) == 0)
		close(fd);	/* reaped like any worker; nobody watches */
}

void
job_reap(struct relocd *rd)
{
	struct job	*j;
	pid_t		 pid;
	int		 status;
	uint16_t	 kind;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		TAILQ_FOREACH(j, &rd->jobs, entry)
			if (j->pid == pid)
				break;
		if (j == NULL) {
			if (monitor_reaped(rd, pid, status) ||
			    spare_reaped(rd, pid, status))
				continue;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				mig_log_warnx("reconcile worker %ld failed",
				    (long)pid);
			continue;
		}
		pipe_drain(j);
		if (!j->result_seen)
			report_death(j, status);
		kind = j->kind;
		job_free(j);
		notify_jobs(rd);
		/* Its room in the gate's budgets goes to who waits for it. */
		if (kind == CTL_JOB_MIGRATE_IN && !rd->stopping)
			gate_wake(rd);
		/* The next job's worker, started now that this one's CPU is
		 * free (spare_ctl.c). */
		spare_start(rd);
	}
}

void
job_forget_client(struct relocd *rd, struct client *c)
{
	struct job	*j;

	TAILQ_FOREACH(j, &rd->jobs, entry)
		if (j->watcher == c)
			j->watcher = NULL;
}

size_t
job_count(struct relocd *rd, uint16_t kind, bool under_way)
{
	struct job	*j;
	size_t		 n = 0;

	TAILQ_FOREACH(j, &rd->jobs, entry)
		if ((kind == 0 || j->kind == kind) &&
		    (!under_way || !j->result_seen))
			n++;
	return n;
}

struct history {
	struct client	*c;
	int		 rc;
};

/*
 * A journal record as a JOB row.  The journal knows a job's role and its
 * peer, which for a save or restore is the image's absolute path (and for
 * a migration host:port): enough to name the kind.
 */
static int
history_row(const struct jrec *r, void *arg)
{
	struct history	*h = arg;
	struct ctl_msg	 m;
	int		 file = r->peer[0] == '/';

	memset(&m, 0, sizeof(m));
	m.type = CTL_JOB;
	m.u.jobrow.job = r->job;
	m.u.jobrow.kind = r->role == JR_SOURCE ?
	    (file ? CTL_JOB_SAVE : CTL_JOB_MIGRATE_OUT) :
	    (file ? CTL_JOB_RESTORE : CTL_JOB_MIGRATE_IN);
	snprintf(m.u.jobrow.domain, sizeof(m.u.jobrow.domain), "%s", r->name);
	/* host:port/tls fits; a long image path is cut, as in the journal */
	snprintf(m.u.jobrow.peer, sizeof(m.u.jobrow.peer), "%.*s",
	    (int)sizeof(m.u.jobrow.peer) - 1, r->peer);
	m.u.jobrow.pid = -1;
	snprintf(m.u.jobrow.outcome, sizeof(m.u.jobrow.outcome), "%s",
	    r->state == J_DONE ? "done" : "aborted");
	m.u.jobrow.ended_ms = r->time_ms;
	if (client_send(h->c, &m) == -1) {
		h->rc = -1;
		return -1;
	}
	return 0;
}

int
job_history(struct relocd *rd, struct client *c)
{
	struct history	h = { c, 0 };
	struct ctl_msg	m;
	struct mig_err	err;
	uint64_t	now = wall_ms();

	if (journal_finished(rd->conf.state_dir, now > JOURNAL_KEEP_MS ?
	    now - JOURNAL_KEEP_MS : 0, history_row, &h, &err) == -1) {
		if (h.rc == -1)
			return -1;
		memset(&m, 0, sizeof(m));
		m.type = CTL_ERROR;
		m.u.error.status = CTL_ST_FAILED;
		ctl_text_set(m.u.error.text, err.msg);
		return client_send(c, &m);
	}
	memset(&m, 0, sizeof(m));
	m.type = CTL_JOBS_END;
	return client_send(c, &m);
}

int
job_list(struct relocd *rd, struct client *c)
{
	struct job	*j;
	struct ctl_msg	 m;
	uint64_t	 now = mig_now_ms();

	TAILQ_FOREACH(j, &rd->jobs, entry) {
		if (j->kind == CTL_JOB_QUERY)
			continue;
		memset(&m, 0, sizeof(m));
		m.type = CTL_JOB;
		m.u.jobrow.job = j->id;
		m.u.jobrow.kind = j->kind;
		m.u.jobrow.phase = j->phase;
		snprintf(m.u.jobrow.domain, sizeof(m.u.jobrow.domain), "%s",
		    j->domain);
		snprintf(m.u.jobrow.peer, sizeof(m.u.jobrow.peer), "%s",
		    j->peer);
		m.u.jobrow.elapsed_ms = now - j->started_ms;
		m.u.jobrow.bytes_wire = j->bytes_wire;
		m.u.jobrow.pid = (int32_t)j->pid;
		if (client_send(c, &m) == -1)
			return -1;
	}
	memset(&m, 0, sizeof(m));
	m.type = CTL_JOBS_END;
	return client_send(c, &m);
}
