/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relocd: the relocation daemon.  One header declares each file's
 * functions under its name, as OpenBSD's daemons do.
 */
#ifndef RELOCD_H
#define RELOCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

#define RELOCD_CONF_FILE	SYSCONFDIR "/xen/relocd.conf"
#define RELOCD_PORT		8002	/* xend's relocation port */
#define RELOCD_TLS_PORT		8003	/* xend's SSL relocation port */

struct strlist {
	char	**v;
	size_t	  n;
};

struct relocd_conf {
	/* listeners */
	struct strlist	 listen;		/* addresses; empty = all */
	bool		 plain_enabled;
	unsigned	 plain_port;
	bool		 tls_enabled;
	unsigned	 tls_port;
	/* who may connect */
	struct strlist	 hosts_allow;		/* regexes; empty = loopback */
	char		*tls_cert;
	char		*tls_key;
	char		*tls_ca;
	struct strlist	 tls_peers_allow;	/* regexes on CN/SAN */
	bool		 tls_require_client_cert;
	bool		 tls_ktls;
	/* files */
	char		*state_dir;
	char		*control_socket;
	char		*pid_file;
	/* jobs */
	unsigned	 max_incoming;
	unsigned	 max_outgoing;
	uint64_t	 bandwidth_limit;	/* bytes/s per job, 0 = none */
	uint64_t	 bandwidth_total;	/* bytes/s all jobs, 0 = none */
	bool		 compression;
	unsigned	 compression_level;
	unsigned	 max_downtime_ms;	/* 0 = no limit */
	bool		 auto_converge;
	bool		 downtime_abort;
	unsigned	 reservation_ttl;	/* seconds */
	unsigned	 peer_timeout;		/* seconds without progress */
	bool		 allow_localhost;
};

/*
 * Journal states.  The source's and the target's records of one job share
 * its id.  The commit point is the target's durable J_COMMITTED record:
 * before it the source owns the domain, after it the target does.  A
 * source whose COMMIT is in doubt (J_COMMIT_SENT) asks the target.
 */
enum jstate {
	J_NONE = 0,
	J_PRECHECK,		/* src: checks passed, nothing moved */
	J_RESERVED,		/* both: target holds memory */
	J_STREAMING,		/* src: save running; dst: restore running */
	J_SUSPENDED,		/* src: guest suspended (stop-and-copy) */
	J_RECEIVED,		/* dst: NAME--incoming complete, paused */
	J_COMMIT_SENT,		/* src: renamed to --migratedaway, COMMIT sent */
	J_COMMITTED,		/* dst: COMMIT received: the point of no return */
	J_ACTIVATED,		/* dst: renamed to NAME and unpaused */
	J_DONE,			/* both: finished; nothing left to do */
	J_ABORTED,		/* both: failed and cleaned up */
	J__MAX
};

enum jrole {
	JR_SOURCE,
	JR_TARGET,
};

#define JOURNAL_NAME_MAX	64

struct jrec {
	uint64_t	 job;			/* job id, shared by both ends */
	uint64_t	 time_ms;		/* wall clock, for people */
	enum jrole	 role;
	enum jstate	 state;
	int		 domid;			/* -1 when none */
	char		 name[JOURNAL_NAME_MAX + 1];	/* the domain's own name */
	char		 uuid[37];
	char		 peer[64];		/* host:port of the other end */
};

struct journal;

enum ledger_refusal {
	LEDGER_OK = 0,
	LEDGER_NO_MEMORY,
	LEDGER_NAME_CLASH,
	LEDGER_UUID_CLASH,
	LEDGER_FULL,
};

struct ledger;

/* config.c */
void	config_defaults(struct relocd_conf *);
int	config_load(const char *, struct relocd_conf *, struct mig_err *);
int	config_load_data(const char *, const char *, size_t,
	    struct relocd_conf *, struct mig_err *);
void	config_free(struct relocd_conf *);
void	config_print(const struct relocd_conf *, FILE *);
int	parse_size(const char *, uint64_t *);

/* ledger.c */
struct ledger	*ledger_new(unsigned);
void		 ledger_free(struct ledger *);
enum ledger_refusal ledger_reserve(struct ledger *, uint64_t, uint64_t,
		    const char *, const uint8_t [16], unsigned, uint64_t,
		    uint64_t *);
int		 ledger_hold(struct ledger *, uint64_t);
void		 ledger_release(struct ledger *, uint64_t);
void		 ledger_expire(struct ledger *, uint64_t);
uint64_t	 ledger_held_kib(struct ledger *, uint64_t);
size_t		 ledger_count(struct ledger *, uint64_t);
const char	*ledger_refusal_text(enum ledger_refusal);

/* journal.c */
struct journal	*journal_open(const char *, struct mig_err *);
int		 journal_append(struct journal *, const struct jrec *,
		    struct mig_err *);
int		 journal_replay(const char *,
		    int (*)(const struct jrec *, void *), void *,
		    struct mig_err *);
int		 journal_compact(struct journal *, struct mig_err *);
void		 journal_close(struct journal *);
const char	*journal_state_name(enum jstate);
int		 journal_state_final(enum jstate);
int		 jrec_format(const struct jrec *, char *, size_t);
int		 jrec_parse(const char *, struct jrec *);

#endif
