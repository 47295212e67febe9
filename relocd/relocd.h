/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relocd: the relocation daemon.  One header is the map, as OpenBSD's
 * daemons have it: first the types (the journal record, the parent's
 * listeners, clients, jobs and itself, a worker's state), then each
 * file's functions under its name -- the parent's files, then the
 * workers' (worker_main.c, worker.c below the phase machines, the phase
 * machines).  What relocd shares with xl-reloc is common/reloc.h.
 */
#ifndef RELOCD_H
#define RELOCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>

#include <sys/queue.h>
#include <sys/types.h>

#include "ctl.h"
#include "reloc.h"
#include "mig/clock.h"
#include "mig/error.h"

enum jrole {
	JR_SOURCE,
	JR_TARGET,
};

#define JOURNAL_NAME_MAX	64
/* The other end: a host name of up to 255 characters (or a bracketed IPv6
 * address), ":65535" and "/tls" */
#define JOURNAL_PEER_MAX	(255 + 6 + 4)
#define JOURNAL_PATH_MAX	(CTL_PATH_MAX + 16)	/* DIR/.BASE.XXXXXX */

/* jrec flags: what a crash must not lose, beyond the state */
#define JF_START_PAUSED		0x1	/* dst: asked to stay paused */
#define JF_CAP			0x2	/* src: cap holds the guest's own cap,
					 * which we lowered (auto-converge) */
#define JF_NO_ADOPT		0x4	/* dst: not to be looked after (xl's
					 * -e: no one waits for its death) */

struct jrec {
	uint64_t	 job;			/* job id, shared by both ends */
	uint64_t	 time_ms;		/* wall clock, for people */
	enum jrole	 role;
	enum jstate	 state;
	int		 domid;			/* -1 when none */
	char		 name[JOURNAL_NAME_MAX + 1];	/* the domain's own name */
	char		 uuid[37];
	char		 peer[JOURNAL_PEER_MAX + 1];	/* host:port of the
						 * other end */
	uint64_t	 resv;			/* the target's reservation id */
	/* optional, written as trailing key=value fields when set */
	unsigned	 flags;			/* JF_* */
	int		 cap;			/* with JF_CAP */
	char		 tmp[JOURNAL_PATH_MAX + 1];	/* save: the image's
						 * temporary file, "" none */
};

struct journal;

enum ledger_refusal {
	LEDGER_OK = 0,
	LEDGER_NO_MEMORY,
	LEDGER_NAME_CLASH,
	LEDGER_UUID_CLASH,
	LEDGER_FULL,
	LEDGER_NOT_HELD,	/* a hold names no reservation of ours */
};

struct ledger;

struct event_base;
struct event;
struct mig_acl;
struct mig_hv_ops;
struct relocd;

/* A listening socket. */
struct listener {
	int			 fd;
	int			 tls;
	char			 addr[64];
	struct event		*ev;
	struct relocd		*rd;
	TAILQ_ENTRY(listener)	 entry;
};

/* A host, as the per-address limits count it: the address as text, an
 * IPv4-mapped IPv6 address as IPv4 (INET6_ADDRSTRLEN). */
#define RELOCD_HOST_MAX		46

/*
 * An accepted connection that has not yet finished its preamble (gate.c):
 * it costs an fd and an event, never a process, until the peer has sent
 * the preamble (the plain port) or its whole first TLS record (the TLS
 * port), and relocation_hosts_allow has admitted it.
 */
struct dns_check;
struct pending {
	int			 fd;
	int			 tls;
	char			 peer[80];
	char			 host[RELOCD_HOST_MAX];
	uint64_t		 deadline_ms;
	int			 waiting;	/* opening sent: waits for room */
	struct dns_check	*dns;		/* its name being confirmed */
	struct event		*ev;
	struct relocd		*rd;
	TAILQ_ENTRY(pending)	 entry;
};

/* A client of the control socket (xl-reloc). */
struct client {
	int			 fd;
	struct event		*ev;
	struct relocd		*rd;
	/* Who is asking (SO_PEERCRED, /proc/PID/loginuid), for the logs:
	 * root's sudo or su still has the login uid of the person. */
	long			 uid;
	long			 pid;
	char			 loginuid[16];	/* "" when not known */
	TAILQ_ENTRY(client)	 entry;
};

struct job {
	uint64_t		 id;
	uint16_t		 kind;		/* enum ctl_job_kind */
	uint16_t		 phase;		/* enum mig_phase */
	pid_t			 pid;
	int			 fd;		/* the worker's pipe */
	struct event		*ev;
	struct client		*watcher;	/* may be NULL */
	char			 domain[CTL_DOMAIN_MAX + 1];
	char			 peer[CTL_HOST_MAX + 1];
	uint64_t		 started_ms;
	uint64_t		 bytes_wire;
	uint64_t		 resv;		/* ledger id held for it, 0 none */
	int			 result_seen;
	/* incoming: not yet authenticated (counted in npreauth, not
	 * nworkers_in), and the host it came from */
	int			 preauth;
	char			 host[RELOCD_HOST_MAX];
	struct relocd		*rd;
	TAILQ_ENTRY(job)	 entry;
};

struct relocd {
	struct relocd_conf	 conf;
	const char		*conf_path;
	char			 run_conf[PATH_MAX];	/* what workers read */
	const struct mig_hv_ops	*ops;
	struct event_base	*base;
	struct mig_acl		*acl;		/* hosts-allow, compiled */
	struct ledger		*ledger;
	char			 self[4096];	/* our executable, for workers */
	int			 ids_fd;	/* STATE_DIR/next-job */
	uint64_t		 next_id;
	int			 verbose;
	int			 foreground;
	int			 stopping;
	int			 ctl_fd;
	struct event		*ctl_ev;
	struct event		*sig_ev[4];
	/* the domains' monitor (monitor_ctl.c) */
	pid_t			 monitor_pid;	/* 0: not running */
	int			 monitor_fd;	/* its pipe: EOF tells it we
						 * are gone */
	uint64_t		 monitor_started_ms;
	unsigned		 monitor_delay;	/* seconds before a respawn */
	struct event		*monitor_ev;	/* the respawn timer */
	/* the spare worker (spare_ctl.c): 0 / -1 none; its pipe closed
	 * once retired, its pid kept until reaped */
	pid_t			 spare_pid;
	int			 spare_fd;
	int			 spare_renew;	/* start another once reaped */
	struct evdns_base	*dns;		/* names of peers (dns.c) */
	size_t			 npending;
	size_t			 npreauth;	/* incoming, not authenticated */
	size_t			 nworkers_in;	/* incoming, authenticated */
	TAILQ_HEAD(, listener)	 listeners;
	TAILQ_HEAD(, pending)	 pending;
	TAILQ_HEAD(, client)	 clients;
	TAILQ_HEAD(, job)	 jobs;
};

/* Limits of the parent; see relocd(8), "Limits". */
#define RELOCD_HELLO_TIMEOUT	10	/* seconds to the preamble */
#define RELOCD_RESERVATIONS_MAX	64
#define RELOCD_WORKER_FD_PIPE	3	/* a worker's pipe to the parent */
#define RELOCD_WORKER_FD_CONN	4	/* an incoming worker's connection */

/* A control frame from a peer, whole (peer.c). */
struct mig_conn;
struct mig_msg;
struct mig_hv;
struct peer_buf {
	uint8_t		body[256 * 1024];	/* MIG_FRAME_CTRL_MAX */
};

/* The max-downtime policy's state (converge.c). */
#define CONVERGE_STEPS		3	/* caps: 50%, 25%, 10% */
enum converge_action {
	CONV_NONE,
	CONV_THROTTLE,		/* cap the guest at converge_cap(.., step) */
	CONV_ABORT,		/* give up: the source resumes */
};
struct converge {
	uint32_t	 limit_ms;	/* 0 = no limit */
	unsigned	 rounds;	/* consecutive rounds over before acting */
	bool		 auto_converge;
	bool		 abort;
	unsigned	 over;		/* consecutive rounds over, so far */
	unsigned	 step;		/* throttle steps taken, 0 = none */
};

/* A worker's state (worker.c and the phase machines). */
struct mig_hv_op;
struct mig_relay;
struct mig_relay_stats;
struct worker {
	uint64_t		 job;
	const char		*conf_path;
	char			**argv;		/* as started (preauth.c) */
	struct relocd_conf	 conf;
	struct event_base	*base;
	struct mig_hv		*hv;
	struct journal		*journal;
	struct jrec		 rec;		/* this job's, as last written */
	int			 pipe;		/* to the parent */
	struct event		*pipe_ev;
	struct event		*sig_ev;
	int			 conn_fd;	/* incoming: the socket; with
						 * the sandbox's relay, a copy
						 * for TCP_INFO only */
	int			 tls;		/* incoming on the TLS port */
	const char		*peer;		/* incoming: as the parent saw it */
	int			 retry;		/* reconcile: -R */
	int			 lock_fd;	/* the job's lock: -1 not yet,
						 * -2 never (reconcile locks
						 * each job it settles) */
	volatile int		 cancelled;
	int			 stop_on_cancel;	/* monitor: a cancel
						 * ends its loop */
	struct mig_hv_op	*op;		/* in flight, for cancel */
	struct mig_relay	*relay;		/* in flight, for cancel */
	struct direct		*direct;	/* in flight, for cancel */
	struct ctl_reserve_ans	 reserve_ans;
	int			 reserve_answered;
	/* progress */
	uint16_t		 phase;
	uint32_t		 round;
	uint64_t		 pages_total;
	uint64_t		 pages_sent;
	uint64_t		 dirty_left;
	uint64_t		 bytes_wire;
	uint64_t		 bytes_stream;
	uint64_t		 bytes_queued;	/* sent, not yet handed to the
						 * target's libxl (credit) */
	uint64_t		 bytes_disk;	/* storage: disk bytes moved */
	uint64_t		 disk_pending;	/* live storage: the last delta,
						 * what the pause will send */
	uint32_t		 disk_passes;	/* live storage: delta passes */
	uint64_t		 disk_last;	/* ... the paused one's bytes */
	int			 relay_disk;	/* relay moves a disk, whose
						 * counts add to the above */
	uint64_t		 rate;		/* bytes/s */
	uint64_t		 rate_ms, rate_bytes;
	uint32_t		 page_size;
	uint64_t		 started_ms;
	uint64_t		 suspended_ms;	/* guest stopped */
	uint64_t		 resumed_ms;	/* guest runs again (somewhere) */
	uint32_t		 result_domid;
	char			 followed[MIG_ERRLEN];	/* what the cause of a
						 * failure brought on */
};

/* ---- the parent ---- */

/* relocd.c */
int		 relocd_main(int, char **, const struct mig_hv_ops *);

/* listen.c */
int		 listen_start(struct relocd *, struct mig_err *);
void		 listen_stop(struct relocd *);

/* preauth.c, sandbox.c: the pre-authentication sandbox */
int		 preauth_child(struct worker *);
int		 preauth_open(struct worker *, const struct mig_msg *,
		    struct mig_msg *, struct mig_conn **, pid_t *,
		    struct mig_err *);
void		 preauth_end(pid_t, int);
int		 sandbox_enter(const struct relocd_conf *, struct mig_err *);
int		 sandbox_check(const char *, const struct relocd_conf *,
		    struct mig_err *);
void		 sandbox_dir_path(const struct relocd_conf *, char *, size_t);
/* apart.c */
int		 run_apart(int (*)(const void *, struct mig_err *),
		    const void *, struct mig_err *);

/* gate.c: what a connection passes before it gets a worker */
struct sockaddr_storage;
void		 gate_admit(struct relocd *, int, int,
		    const struct sockaddr_storage *, unsigned);
void		 gate_authenticated(struct job *);
void		 gate_wake(struct relocd *);
void		 pending_free(struct pending *);
void		 pending_flush(struct relocd *);

/* dns.c: a peer's forward-confirmed name, without blocking the loop;
 * done(arg, name) gets NULL when there is none (and why). */
typedef void	 dns_done_fn(void *, const char *, const char *);
int		 dns_start(struct relocd *, struct mig_err *);
void		 dns_stop(struct relocd *);
struct dns_check *dns_check(struct relocd *, const struct sockaddr_storage *,
		    dns_done_fn *, void *);
void		 dns_check_cancel(struct dns_check *);

/* ratelog.c: refusal lines, at most a few per host and minute */
void		 ratelog(const char *host, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/* control.c */
/* /proc/PID/loginuid as text: a number, "unset", or "" if unknown. */
void		 requester_loginuid(pid_t, char *, size_t);
int		 control_start(struct relocd *, struct mig_err *);
void		 control_stop(struct relocd *);
void		 clients_flush(struct relocd *);
void		 client_free(struct client *);
int		 client_send(struct client *, const struct ctl_msg *);
int		 client_forward(struct client *, const struct ctl_msg *);

/* job.c; worker_exec flags */
#define WORKER_TLS		0x1	/* the connection came to the TLS port */
#define WORKER_RETRY		0x4	/* reconcile: ask until settled */
#define WORKER_SPARE		0x8	/* a job: the spare may take it */
#define WORKER_TITLE		0x10	/* the spare: room in its argv for a
					 * job's (SPARE_TITLE_PAD) */
int		 job_ids_open(struct relocd *, struct mig_err *);
int		 worker_exec(struct relocd *, const char *kind, uint64_t id,
		    int connfd, int flags, pid_t *, int *pipefd,
		    struct mig_err *);
int		 worker_exec_peer(struct relocd *, const char *kind, uint64_t id,
		    int connfd, int flags, const char *peer, pid_t *,
		    int *pipefd, struct mig_err *);
struct job	*job_spawn(struct relocd *, uint16_t kind, int connfd, int flags,
		    const struct ctl_msg *, struct client *, struct mig_err *);
struct job	*job_spawn_in(struct relocd *, int connfd, int tls,
		    const char *peer, const char *host, struct mig_err *);
struct job	*job_find(struct relocd *, uint64_t);
struct job	*job_busy_with(struct relocd *, const char *);
void		 job_cancel(struct job *);
void		 job_reap(struct relocd *);
void		 job_forget_client(struct relocd *, struct client *);
/* job_count: of KIND (0: any); under way: its result not yet known */
size_t		 job_count(struct relocd *, uint16_t, bool under_way);
int		 job_list(struct relocd *, struct client *);
/* Answers HISTORY: the jobs the journal has finished records of, from
 * the last day (JOURNAL_KEEP_MS). */
int		 job_history(struct relocd *, struct client *);

/* notify.c: systemd's Type=notify, when $NOTIFY_SOCKET is set */
void		 notify_systemd(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
void		 notify_jobs(struct relocd *);

/* monitor_ctl.c: the parent keeps one monitor running */
void		 monitor_start(struct relocd *);
void		 monitor_stop(struct relocd *);
int		 monitor_reaped(struct relocd *, pid_t, int);

/* spare_ctl.c: the parent keeps one worker started ahead of jobs */
#define SPARE_JOB_MAX		(2 * PATH_MAX + 512)	/* a job's argv */
#define SPARE_ARGV_MAX		16
#define SPARE_TITLE_PAD		160	/* > a job's -j, -T, -P peer, -R */
void		 spare_start(struct relocd *);
void		 spare_stop(struct relocd *);
void		 spare_renew(struct relocd *);
int		 spare_reaped(struct relocd *, pid_t, int);
int		 spare_take(struct relocd *, char *const [], int, pid_t *,
		    int *);

/* ledger.c */
struct ledger	*ledger_new(unsigned);
void		 ledger_free(struct ledger *);
enum ledger_refusal ledger_reserve(struct ledger *, uint64_t free_kib,
		    uint64_t need_kib, const char *name, const uint8_t [16],
		    unsigned ttl_s, uint64_t now_ms, uint64_t *id);
int		 ledger_hold(struct ledger *, uint64_t, const char *,
		    const uint8_t [16], uint64_t);
void		 ledger_release(struct ledger *, uint64_t);
void		 ledger_expire(struct ledger *, uint64_t);
uint64_t	 ledger_held_kib(struct ledger *, uint64_t);
size_t		 ledger_count(struct ledger *, uint64_t);
const char	*ledger_refusal_text(enum ledger_refusal);

/* journal.c */
int		 state_dir_make(const char *, struct mig_err *);
struct journal	*journal_open(const char *, struct mig_err *);
int		 journal_append(struct journal *, const struct jrec *,
		    struct mig_err *);
int		 journal_append_landed(struct journal *, const struct jrec *,
		    int *, struct mig_err *);
int		 journal_replay(const char *,
		    int (*)(const struct jrec *, void *), void *,
		    struct mig_err *);
/* cb for the last record of each job that finished since the time given
 * (wall clock ms): xl-reloc jobs --history. */
int		 journal_finished(const char *, uint64_t,
		    int (*)(const struct jrec *, void *), void *,
		    struct mig_err *);
/* How long a target's finished record outlives compaction (journal.c),
 * and how far back the history goes. */
#define JOURNAL_KEEP_MS	(24 * 60 * 60 * 1000ULL)
int		 journal_lookup(const char *,
		    int (*)(const struct jrec *, void *), void *,
		    struct jrec *, struct mig_err *);
int		 journal_compact(struct journal *, struct mig_err *);
int		 journal_lock_job(const char *, uint64_t, int, struct mig_err *);
void		 journal_unlock_job(const char *, uint64_t, int fd,
		    int finished);
void		 journal_close(struct journal *);
const char	*journal_state_name(enum jstate);
int		 journal_state_final(enum jstate);
int		 jrec_format(const struct jrec *, char *, size_t);
int		 jrec_parse(const char *, struct jrec *, char *, size_t);

/* xend_import.c: relocd --import-xend; xend_convert is the text's part */
int		 xend_import(const char *, FILE *, struct mig_err *);
int		 xend_convert(const char *file, const char *text, FILE *,
		    struct mig_err *);

/* ---- the workers ---- */

/* worker_main.c: a worker process, by the kind its arguments name */
int		 worker_main(int, char **, const struct mig_hv_ops *);
int		 worker_open(struct worker *, const struct mig_hv_ops *,
		    struct mig_err *);

/* spare.c: a worker set up ahead, waiting for its job */
int		 spare_wait(struct worker *, const struct mig_hv_ops *,
		    int *, char ***, struct mig_err *);
void		 spare_retitle(int, char **, int, char **);

/* worker.c: below the phase machines */
uint64_t	 wall_ms(void);
void		 worker_interrupt(struct worker *);
void		 worker_send(struct worker *, const struct ctl_msg *);
void		 worker_describe(struct worker *, const char *domain,
		    const char *peer);
void		 worker_event(struct worker *, uint16_t, const char *);
uint32_t	 worker_downtime_ms(const struct worker *, uint64_t);
int		 worker_result(struct worker *, uint16_t,
		    const struct mig_err *);
int		 worker_journal(struct worker *, enum jstate, struct mig_err *);
int		 worker_journal_landed(struct worker *, enum jstate, int *,
		    struct mig_err *);
int		 worker_reserve(struct worker *, const char *, const uint8_t [16],
		    uint64_t, uint64_t, struct mig_err *);
int		 worker_reserve_hold(struct worker *, uint64_t, const char *,
		    const uint8_t [16], struct mig_err *);
void		 worker_reserve_msg(struct worker *, uint16_t);
void		 worker_adopt(struct worker *, uint32_t, const char *);
int		 worker_peer_ms(const struct worker *);
uint64_t	 worker_deadline(const struct worker *);
struct mig_relay_conf;
int		 worker_relay_start(struct worker *, struct mig_relay_conf *,
		    int *libxl_fd, struct mig_err *);
int		 worker_stream_end(struct worker *, int rc_op, int local_fd,
		    struct mig_err *);
int		 worker_stream_cause(const struct mig_relay_stats *,
		    const struct mig_err *);

/* byte_path.c */
struct direct;
int		 byte_path_can(const struct mig_conn *, const char **);
int		 byte_path_raw(const struct mig_conn *, const char **);
int		 byte_path_sandbox(int, const char **);
void		 byte_path_log(const char *, int, const char *);
struct direct	*direct_begin(struct worker *, struct mig_conn *, int count_fd,
		    int sending, int *fd, struct mig_err *);
void		 direct_cancel(struct direct *);
void		 direct_progress(struct direct *);
int		 direct_end(struct direct *, int rc_op, struct mig_err *);

/* peer.c */
int		 peer_send(struct mig_conn *, const struct mig_msg *, uint64_t,
		    struct mig_err *);
int		 peer_recv(struct mig_conn *, struct peer_buf *,
		    struct mig_msg *, uint64_t, struct mig_err *);
int		 peer_unexpected(struct mig_conn *, const struct mig_msg *,
		    const char *, struct mig_err *);
int		 peer_expect(struct mig_conn *, struct peer_buf *, uint16_t,
		    struct mig_msg *, uint64_t, struct mig_err *);
void		 peer_abort(struct mig_conn *, uint16_t, const struct mig_err *);
void		 peer_linger(struct mig_conn *, uint64_t);
int		 peer_hello_fill(struct mig_hv *, struct mig_msg *,
		    struct mig_err *);
int		 peer_open(struct mig_conn *, const struct mig_msg *,
		    struct peer_buf *, struct mig_msg *, uint64_t,
		    struct mig_err *);
struct worker;
struct ssl_ctx_st;
/* Logs the certificate the peer presented (subject, SHA-256), and makes
 * it this worker's PEER_CERT field. */
void		 peer_note_cert(struct mig_conn *);
int		 peer_connect(struct worker *, const char *, unsigned, int,
		    struct mig_conn **, struct ssl_ctx_st **, struct mig_err *);

/* worker_out.c */
int		 worker_out(struct worker *);

/* converge.c: the max-downtime policy, one decision per pre-copy round */
void		 converge_init(struct converge *, uint32_t, unsigned, bool,
		    bool);
enum converge_action converge_round(struct converge *, uint32_t, bool);
int		 converge_cap(int orig_cap, unsigned vcpus, unsigned step);

/* worker_in.c */
int		 worker_in(struct worker *);

/* worker_file.c: kind "save" (0) or "restore" (1) */
int		 worker_file(struct worker *, int);

/* worker_query.c */
int		 worker_query(struct worker *);

/* monitor.c: the worker that watches them (-W monitor) */
int		 monitor_run(struct worker *);

/* reconcile.c; reconcile_run's exit status when records stay in doubt */
#define RECONCILE_IN_DOUBT	3
int		 reconcile_run(struct worker *);

/* reconcile_ops.c: settling one record, for reconcile.c and indoubt.c */
struct mig_hv_dominfo;
int		 reconcile_find(struct worker *, const struct jrec *,
		    const char *, struct mig_hv_dominfo *);
void		 reconcile_close(struct worker *, const struct jrec *,
		    enum jstate);
int		 reconcile_resume_source(struct worker *, const struct jrec *);
void		 reconcile_drop_temp(const struct jrec *);

/* indoubt.c: a COMMIT whose fate only the target knows */
#define INDOUBT_SETTLED		0
#define INDOUBT_OPEN		1	/* still in doubt: nothing changed */
int		 indoubt_settle(struct worker *, const struct jrec *, int);
int		 indoubt_answer(struct worker *, struct mig_conn *,
		    const struct mig_msg *);
void		 indoubt_peer(char *, size_t, const char *, unsigned, int);

#endif
