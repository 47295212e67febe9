/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relocd's parent process: options, configuration, daemonising, signals
 * and the event loop that owns the listeners, the control socket, the job
 * table and the reservation ledger.  It never touches the hypervisor: each
 * job runs in a worker process (worker.c), started by fork and exec of
 * this same program, so that a worker begins with no inherited event loop,
 * signal handlers or descriptors, owns its own libxl context, and cannot
 * take the daemon or other jobs down when it crashes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "mig/acl.h"
#include "mig/log.h"
#include "relocd.h"
#include "mig/tls.h"

#define RUN_CONF	"relocd.conf.running"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: relocd [-dfnv] [-c file]\n"
	    "       relocd --import-xend xend-config.sxp\n"
	    "  -c file  configuration (default %s)\n"
	    "  -d, -f   stay in the foreground, log to stderr\n"
	    "  -n       check the configuration and exit\n"
	    "  -v       more verbose (twice: debug, and libxl's debug)\n"
	    "  --import-xend FILE\n"
	    "           print the relocd.conf equivalent to xend's FILE\n",
	    RELOCD_CONF_FILE);
	exit(1);
}

/*
 * The certificate, key, CA and CRL must load, and the key match the
 * certificate, before a configuration naming them is taken: a reload
 * with a bad one is refused instead of failing every TLS job after it.
 */
static int
tls_check(const char *path, const struct relocd_conf *c, struct mig_err *err)
{
	struct mig_tls_conf	 tc;
	SSL_CTX			*ctx;
	char			 msg[MIG_ERRLEN], why[PATH_MAX + 64];

	if (!c->tls_enabled && c->tls_cert == NULL)
		return 0;
	if (c->tls_cert == NULL || c->tls_key == NULL || c->tls_ca == NULL)
		return mig_seterr(err, MIG_E_INVAL, "%s: TLS needs tls_cert, "
		    "tls_key and tls_ca", path);
	config_tls(c, &tc);
	if ((ctx = mig_tls_server_ctx(&tc, err)) == NULL) {
		snprintf(msg, sizeof(msg), "%s", err->msg);
		return mig_seterr(err, MIG_E_TLS, "%s: %s", path, msg);
	}
	SSL_CTX_free(ctx);
	if (c->tls_peers_allow.n == 0 && mig_tls_ca_public(c->tls_ca, why,
	    sizeof(why)))
		mig_log_warnx("%s: tls_peers_allow is unset and %s: any "
		    "certificate a public CA signed for anyone is admitted on "
		    "the TLS port; set tls_peers_allow, or use a CA of your "
		    "own", path, why);
	return 0;
}

struct conf_check {
	const char		*path;
	const struct relocd_conf *conf;
};

/* Run apart (apart.c): what they load would stay in the parent for good. */
static int
conf_check(const void *arg, struct mig_err *err)
{
	const struct conf_check	*k = arg;

	if (tls_check(k->path, k->conf, err) == -1 ||
	    sandbox_check(k->path, k->conf, err) == -1)
		return -1;
	return 0;
}

struct run_conf {
	const char		*from;		/* relocd.conf's path */
	const struct relocd_conf *conf;
};

static void
run_conf_fill(FILE *f, const void *arg)
{
	const struct run_conf	*rc = arg;

	fprintf(f, "# written by relocd from %s; workers read this\n",
	    rc->from);
	config_print(rc->conf, f);
}

/*
 * Workers read the configuration the parent runs, never the file: an
 * edit that was not (or not successfully) reloaded must not reach a job.
 * So each configuration the parent takes is written whole, defaults
 * included, to STATE_DIR/relocd.conf.running, by rename so that a worker
 * starting meanwhile reads the old one or the new one.  The files it
 * names (TLS material) are still read by each job: replace those by
 * rename too, under new names for a reload that may be refused.
 */
static int
run_conf_write(struct relocd *rd, const struct relocd_conf *c,
    struct mig_err *err)
{
	struct run_conf	 rc = { rd->conf_path, c };
	char		 path[PATH_MAX], tmp[PATH_MAX + 4];

	if (state_dir_make(c->state_dir, err) == -1)
		return -1;
	if (snprintf(path, sizeof(path), "%s/" RUN_CONF, c->state_dir) >=
	    (int)sizeof(path))
		return mig_seterr(err, MIG_E_INVAL, "state directory %s: path "
		    "too long", c->state_dir);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	if (replace_file(path, tmp, 0, run_conf_fill, &rc, err) == -1)
		return -1;
	memcpy(rd->run_conf, path, sizeof(rd->run_conf));
	return 0;
}

/*
 * Loads and checks the configuration, compiling what can be compiled, into
 * *conf and *acl; on error neither is touched.
 */
static int
load_config(const char *path, struct relocd_conf *conf, struct mig_acl **acl,
    struct mig_err *err)
{
	struct relocd_conf	c;
	struct mig_acl		*a, *peers;

	config_defaults(&c);
	if (config_load(path, &c, err) == -1) {
		config_free(&c);
		return -1;
	}
	/* Workers compile tls_peers_allow for themselves; compiling it here
	 * too means a bad pattern stops relocd at start, not a job later. */
	a = NULL;
	if ((peers = mig_acl_new((const char *const *)c.tls_peers_allow.v,
	    c.tls_peers_allow.n, err)) == NULL ||
	    (a = mig_acl_new((const char *const *)c.hosts_allow.v,
	    c.hosts_allow.n, err)) == NULL) {
		char msg[MIG_ERRLEN];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		mig_seterr(err, MIG_E_INVAL, "%s: %s: %s", path, peers == NULL ?
		    "tls_peers_allow" : "relocation_hosts_allow", msg);
		mig_acl_free(peers);
		config_free(&c);
		return -1;
	}
	mig_acl_free(peers);
	/* The parent never waits for DNS: names are confirmed by dns.c. */
	mig_acl_set_nodns(a, 1);
	if (run_apart(conf_check, &(struct conf_check){ path, &c },
	    err) == -1) {
		mig_acl_free(a);
		config_free(&c);
		return -1;
	}
	*conf = c;
	*acl = a;
	return 0;
}

static void
conf_swap(struct relocd *rd, struct relocd_conf *c, struct mig_acl **acl)
{
	struct relocd_conf	 tc = rd->conf;
	struct mig_acl		*ta = rd->acl;

	rd->conf = *c;
	rd->acl = *acl;
	*c = tc;
	*acl = ta;
}

/* The pid file is locked for as long as we run: a second relocd fails
 * here instead of fighting over the ports and the journal.  The lock
 * belongs to the open file, so it survives daemon()'s fork. */
static int
pidfile_open(const char *path, struct mig_err *err)
{
	int	fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1)
		return mig_seterrno(err, MIG_E_IO, "pid file %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		if (errno == EWOULDBLOCK)
			return mig_seterr(err, MIG_E_INVAL, "another relocd is "
			    "running (pid file %s is locked)", path);
		return mig_seterrno(err, MIG_E_IO, "pid file %s", path);
	}
	return fd;
}

static int
pidfile_write(int fd, const char *path, struct mig_err *err)
{
	char	buf[32];
	int	n;

	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, n, 0) != n)
		return mig_seterrno(err, MIG_E_IO, "pid file %s", path);
	return 0;
}

static void
on_sigterm(evutil_socket_t sig, short ev, void *arg)
{
	struct relocd	*rd = arg;
	struct job	*j;

	if (!rd->stopping)
		mig_log_info("%s: stopping; cancelling %zu job(s) that have not "
		    "committed", strsignal(sig), job_count(rd, 0, false));
	rd->stopping = 1;
	notify_systemd("STOPPING=1");
	listen_stop(rd);
	pending_flush(rd);
	control_stop(rd);
	/* The rule (relocd(8)): a job before its commit point is cancelled,
	 * which resumes the source; one past it is left to finish.  Workers
	 * decide which applies to them. */
	TAILQ_FOREACH(j, &rd->jobs, entry)
		job_cancel(j);
	monitor_stop(rd);
	spare_stop(rd);
	if (TAILQ_EMPTY(&rd->jobs) && rd->monitor_pid == 0 &&
	    rd->spare_pid == 0)
		event_base_loopexit(rd->base, NULL);
}

/*
 * The running configuration and its listeners give way to the new ones
 * only once the new ones listen: a port that cannot be bound (taken, an
 * address this host does not have) refuses the reload, and the old ports
 * are opened again, as a bad file does.  The ports are closed in between
 * because the new configuration may name the same ones.
 */
static void
on_sighup(evutil_socket_t sig, short ev, void *arg)
{
	struct relocd		*rd = arg;
	struct relocd_conf	 c;
	struct mig_acl		*acl = NULL;
	struct mig_err		 err, e2;

	if (load_config(rd->conf_path, &c, &acl, &err) == -1) {
		mig_log_warnx("reload: %s; keeping the running configuration",
		    err.msg);
		return;
	}
	listen_stop(rd);
	conf_swap(rd, &c, &acl);
	if (listen_start(rd, &err) == -1 ||
	    run_conf_write(rd, &rd->conf, &err) == -1) {
		mig_log_warnx("reload: %s; keeping the running configuration",
		    err.msg);
		listen_stop(rd);
		conf_swap(rd, &c, &acl);
		if (listen_start(rd, &e2) == -1)
			mig_log_warnx("reload: the running configuration cannot "
			    "listen again: %s", e2.msg);
	} else {
		mig_log_info("configuration reloaded from %s", rd->conf_path);
		spare_renew(rd);
	}
	/* Running jobs keep the configuration they started with (workers
	 * read their own); this one is no longer anybody's. */
	config_free(&c);
	mig_acl_free(acl);
}

static void
on_sigchld(evutil_socket_t sig, short ev, void *arg)
{
	struct relocd	*rd = arg;

	job_reap(rd);
	if (rd->stopping && TAILQ_EMPTY(&rd->jobs) && rd->monitor_pid == 0 &&
	    rd->spare_pid == 0)
		event_base_loopexit(rd->base, NULL);
}

static int
signals_start(struct relocd *rd)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	event_callback_fn	 cbs[] = { on_sigterm, on_sigterm, on_sighup,
				    on_sigchld };
	size_t			 i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < 4; i++) {
		rd->sig_ev[i] = evsignal_new(rd->base, sigs[i], cbs[i], rd);
		if (rd->sig_ev[i] == NULL || evsignal_add(rd->sig_ev[i],
		    NULL) == -1)
			return -1;
	}
	return 0;
}

static void
relocd_free(struct relocd *rd)
{
	size_t	i;

	listen_stop(rd);
	pending_flush(rd);
	control_stop(rd);
	clients_flush(rd);
	for (i = 0; i < 4; i++)
		if (rd->sig_ev[i] != NULL)
			event_free(rd->sig_ev[i]);
	if (rd->monitor_ev != NULL)
		event_free(rd->monitor_ev);
	if (rd->monitor_fd != -1)
		close(rd->monitor_fd);
	spare_stop(rd);
	ledger_free(rd->ledger);
	mig_acl_free(rd->acl);
	config_free(&rd->conf);
	dns_stop(rd);
	if (rd->base != NULL) {
		/* The cancelled lookups' last callbacks, which free them. */
		event_base_loop(rd->base, EVLOOP_NONBLOCK);
		event_base_free(rd->base);
	}
}

/*
 * Settles what the journal says was in flight when relocd last stopped,
 * before anything new is accepted.  A worker does it, because it needs the
 * hypervisor; that also proves the hypervisor can be reached, so it runs
 * before daemonising, where its one-line error (no Xen, say) still reaches
 * the terminal.
 */
static int
reconcile(struct relocd *rd, struct mig_err *err)
{
	pid_t	pid;
	int	fd, status;

	if (worker_exec(rd, "reconcile", 0, -1, 0, &pid, &fd, err) == -1)
		return -1;
	close(fd);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return mig_seterrno(err, MIG_E_IO, "reconciliation");
	if (WIFEXITED(status) && WEXITSTATUS(status) == RECONCILE_IN_DOUBT)
		return 1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return mig_seterr(err, MIG_E_HV, "relocd cannot start: the "
		    "hypervisor check or the journal reconciliation failed "
		    "(above)");
	return 0;
}

/* The in-doubt jobs the startup pass left: a background worker asks
 * their targets until each is settled; it is reaped like any other. */
static void
reconcile_background(struct relocd *rd)
{
	struct mig_err	err;
	pid_t		pid;
	int		fd;

	if (worker_exec(rd, "reconcile", 0, -1, WORKER_RETRY, &pid, &fd,
	    &err) == -1) {
		mig_log_warnx("%s; in-doubt jobs stay for the next start", err.msg);
		return;
	}
	close(fd);
	mig_log_info("asking the targets of in-doubt jobs (pid %ld)", (long)pid);
}

int
relocd_main(int argc, char **argv, const struct mig_hv_ops *ops)
{
	struct relocd	 rd;
	struct mig_err	 err;
	struct stat	 st, own;
	const char	*conf_path = RELOCD_CONF_FILE;
	int		 ch, checkonly = 0, pidfd = -1, rc = 1, in_doubt = 0;
	ssize_t		 n;
	static const struct option longopts[] = {
		{ "import-xend", required_argument, NULL, 'X' },
		{ NULL, 0, NULL, 0 }
	};

	/*
	 * An image written past the file system's or the process's largest
	 * file (FAT32's 4 GiB, RLIMIT_FSIZE) must fail its write with EFBIG
	 * and be undone, not kill the worker with its guest suspended.
	 * Workers inherit this across exec.
	 */
	signal(SIGXFSZ, SIG_IGN);
	/* A worker: everything it needs is in its arguments. */
	if (argc > 1 && strcmp(argv[1], "-W") == 0)
		return worker_main(argc, argv, ops);

	memset(&rd, 0, sizeof(rd));
	rd.ops = ops;
	rd.ctl_fd = -1;
	rd.monitor_fd = -1;
	rd.spare_fd = -1;
	TAILQ_INIT(&rd.listeners);
	TAILQ_INIT(&rd.pending);
	TAILQ_INIT(&rd.clients);
	TAILQ_INIT(&rd.jobs);
	while ((ch = getopt_long(argc, argv, "c:dfnvh", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'X':
			/* needs no configuration, no hypervisor, no root */
			if (optind != argc)
				usage();
			if (xend_import(optarg, stdout, &err) == -1) {
				fprintf(stderr, "relocd: %s\n", err.msg);
				return 1;
			}
			return fflush(stdout) == 0 ? 0 : 1;
		case 'c':
			conf_path = optarg;
			break;
		case 'd':
		case 'f':
			rd.foreground = 1;
			break;
		case 'n':
			checkonly = 1;
			break;
		case 'v':
			rd.verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	rd.conf_path = conf_path;
	mig_log_init(1, LOG_DAEMON);
	mig_log_setverbose(rd.verbose);

	if (load_config(conf_path, &rd.conf, &rd.acl, &err) == -1) {
		mig_log_warnx("%s", err.msg);
		return 1;
	}
	if (checkonly) {
		if (rd.verbose)
			config_print(&rd.conf, stdout);
		fprintf(stderr, "configuration OK\n");
		config_free(&rd.conf);
		mig_acl_free(rd.acl);
		return 0;
	}
	if ((n = readlink("/proc/self/exe", rd.self, sizeof(rd.self) - 1)) <= 0)
		mig_fatal("cannot find my own executable");
	rd.self[n] = '\0';
	if ((pidfd = pidfile_open(rd.conf.pid_file, &err)) == -1 ||
	    job_ids_open(&rd, &err) == -1 ||
	    run_conf_write(&rd, &rd.conf, &err) == -1 ||
	    (in_doubt = reconcile(&rd, &err)) == -1) {
		mig_log_warnx("%s", err.msg);
		goto out;
	}
	if (!rd.foreground && daemon(0, 0) == -1)
		mig_fatal("daemon");
	mig_log_init(rd.foreground, LOG_DAEMON);
	if (pidfile_write(pidfd, rd.conf.pid_file, &err) == -1) {
		mig_log_warnx("%s", err.msg);
		goto out;
	}
	if ((rd.ledger = ledger_new(RELOCD_RESERVATIONS_MAX)) == NULL) {
		mig_log_warn("cannot set up the reservation ledger");
		goto out;
	}
	if ((rd.base = event_base_new()) == NULL ||
	    signals_start(&rd) == -1) {
		mig_log_warnx("cannot set up the event loop");
		goto out;
	}
	if (dns_start(&rd, &err) == -1 || listen_start(&rd, &err) == -1 ||
	    control_start(&rd, &err) == -1) {
		mig_log_warnx("%s", err.msg);
		goto out;
	}
	if (in_doubt)
		reconcile_background(&rd);
	/* After reconciliation: the domains it finished are ours too. */
	monitor_start(&rd);
	spare_start(&rd);
	mig_log_info("ready (pid %ld)", (long)getpid());
	notify_systemd("READY=1\nSTATUS=ready, no jobs");
	event_base_dispatch(rd.base);
	mig_log_info("stopped");
	rc = 0;
 out:
	if (pidfd != -1) {
		/* Only our own: a relocd started after our control socket
		 * went (we wait for the monitor) may have put its own. */
		if (stat(rd.conf.pid_file, &st) == 0 && fstat(pidfd,
		    &own) == 0 && st.st_ino == own.st_ino &&
		    st.st_dev == own.st_dev)
			unlink(rd.conf.pid_file);
		close(pidfd);
	}
	relocd_free(&rd);
	return rc;
}
