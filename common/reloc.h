/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What relocd and xl-reloc share beyond libmig (common/libcommon.a): the
 * configuration, the receive policy, the domains relocd looks after, and
 * the save and restore of a domain to a file.  The control protocol
 * between them is ctl.h; a file job's core is file_job.h.
 */
#ifndef RELOC_H
#define RELOC_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mig/error.h"

#define RELOCD_CONF_FILE	SYSCONFDIR "/xen/relocd.conf"
#define RELOCD_PORT		8002	/* xend's relocation port */
/* Where xend resolved the relative ssl file names of xend-config.sxp */
#define XEND_CONFIG_DIR		"/etc/xen"
#define RELOCD_TLS_PORT		8003	/* xend's SSL relocation port */
#define RELOCD_DUMP_DIR		"/var/lib/xen/dump"	/* xl's XEN_DUMP_DIR */

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
	J_ABORTING,		/* dst: after COMMITTED, the activation failed:
				 * the source takes its copy back, ours goes */
	J_ACTIVATED,		/* dst: renamed to NAME and unpaused */
	J_DONE,			/* both: finished; nothing left to do */
	J_ABORTED,		/* both: failed and cleaned up */
	J__MAX
};

struct strlist {
	char	**v;
	size_t	  n;
};
/* config.c */
void	strlist_free(struct strlist *);
int	strlist_add(struct strlist *, const char *, size_t);

/* The receive policy: what a configuration from a peer may ask of this
 * host (policy.c, relocd.conf(5) RECEIVE POLICY). */
struct recv_policy {
	bool		 enabled;		/* receive_policy */
	struct strlist	 disk_paths;		/* files, directories, VGs */
	struct strlist	 disk_backends;		/* "phy", "qdisk", "tap" */
	struct strlist	 hotplug_scripts;	/* names in Xen's scripts dir */
	struct strlist	 backend_domains;	/* driver domains by name */
	struct strlist	 allow;			/* "pci", "iomem", ... */
	/* Where moved disks go: "FROM=TO" path prefixes (storage_map.c) */
	struct strlist	 storage_map;
	/* What a moved disk must leave free in its VG or file system */
	uint64_t	 storage_min_free;
};

/* Connections relocd holds before their preamble, from all hosts (gate.c);
 * max_pending_per_host is at most this. */
#define RELOCD_PENDING_MAX	512

struct relocd_conf {
	/* listeners */
	struct strlist	 listen;		/* addresses; empty = all */
	bool		 plain_enabled;
	unsigned	 plain_port;
	bool		 tls_enabled;
	unsigned	 tls_port;
	/* xl-reloc migrate's and evacuate's transport when neither --tls nor
	 * --plain is given (xend's xend-relocation-ssl) */
	bool		 tls_client;
	/* who may connect */
	struct strlist	 hosts_allow;		/* regexes; empty = loopback */
	char		*tls_cert;
	char		*tls_key;
	char		*tls_ca;
	char		*tls_crl;		/* CRLs of the CAs; NULL none */
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
	bool		 direct_stream;	/* libxl's stream on the socket */
	bool		 storage_live;	/* receives disks, guest running */
	unsigned	 compression_level;
	unsigned	 max_downtime_ms;	/* 0 = no limit */
	bool		 auto_converge;
	bool		 downtime_abort;
	unsigned	 downtime_rounds;	/* N rounds over: act */
#define CONVERGE_ROUNDS		2	/* its default (converge.c) */
	unsigned	 reservation_ttl;	/* seconds */
	unsigned	 peer_timeout;		/* seconds without progress */
	/* before authentication (gate.c): seconds for the TLS handshake,
	 * preamble and HELLO; workers at once, in all and per address;
	 * silent connections per address */
	unsigned	 preauth_timeout;
	unsigned	 max_preauth;
	unsigned	 max_preauth_per_host;
	unsigned	 max_pending_per_host;
	bool		 allow_localhost;
	bool		 spare_worker;		/* a worker set up ahead of jobs */
	struct recv_policy recv;
	/* the domains relocd looks after */
	char		*dump_dir;		/* coredump-* actions */
	/* the pre-authentication sandbox (relocd/sandbox.c): the users it
	 * runs as, the first that exists; its empty root, NULL for
	 * STATE_DIR/empty */
	struct strlist	 sandbox_user;
	char		*sandbox_dir;
};

/* config.c */
void	config_defaults(struct relocd_conf *);
int	config_load(const char *, struct relocd_conf *, struct mig_err *);
int	config_load_data(const char *, const char *, size_t,
	    struct relocd_conf *, struct mig_err *);
void	config_free(struct relocd_conf *);
void	config_print(const struct relocd_conf *, FILE *);
struct mig_tls_conf;
void	config_tls(const struct relocd_conf *, struct mig_tls_conf *);

/* policy.c: the receive policy, judged on what the configuration asks
 * (mig/domcfg.h).  The checks return 0 when allowed, else 1 with a
 * one-line reason in why that names the key, the value and the setting
 * that would allow it. */
struct mig_domcfg;
int	policy_defaults(struct recv_policy *);
void	policy_free(struct recv_policy *);
int	policy_conf_check(const char *, const struct recv_policy *,
	    struct mig_err *);
/* Whether path is an absolute one without `.', `..' or `//'. */
bool	policy_path_plain(const char *);
/* The length of dir (less trailing slashes) if path is dir or under it,
 * else 0. */
size_t	policy_path_under(const char *, const char *);

/* storage_map.c: "FROM=TO" prefixes, where a moved disk goes here */
int	storage_map_check(const char *, const struct strlist *,
	    struct mig_err *);
/* The destination of the source's path: the first entry whose FROM is
 * path or a directory above it, else path itself; -1 if too long. */
int	storage_map_apply(const struct strlist *, const char *, char *,
	    size_t);
int	policy_check(const struct recv_policy *, const struct mig_domcfg *,
	    char *, size_t);
int	policy_name(const char *, char *, size_t);
int	policy_identity(const struct mig_domcfg *, const uint8_t[16],
	    char *, size_t);
int	parse_size(const char *, uint64_t *);
/* The temporary names of a migration in flight: the suffix, or NULL. */
#define INCOMING_SUFFIX	"--incoming"
#define AWAY_SUFFIX	"--migratedaway"
const char	*temp_suffix(const char *);

/*
 * cfg_override.c: the configuration in file path (libxl JSON) in place of
 * orig, the domain's or the image's: it must parse, give the same memory
 * and, with same_name, not name another domain.  *json is malloc'd; name
 * (when not NULL) gets the domain name it gives, or orig's.
 */
struct mig_hv;
int		 cfg_override(struct mig_hv *, const char *path,
		    const char *orig, int same_name, char **json, char *name,
		    size_t namelen, struct mig_err *);

/*
 * replace_file.c: path written whole or not at all, through tmp (same
 * directory, mode 0600) renamed over it; fill() writes the content, and
 * with durable the file is fsynced before the rename (syncing the
 * directory is the caller's).  On failure tmp is gone and path untouched.
 */
int		 replace_file(const char *path, const char *tmp, int durable,
		    void (*fill)(FILE *, const void *), const void *,
		    struct mig_err *);

/* owned.c: the domains relocd looks after, STATE_DIR/owned/UUID */
enum owned_state {
	OWNED_WATCHING,		/* its shutdown is acted on */
	OWNED_RESTARTING,	/* destroyed or preserved; json creates it */
	OWNED_PRESERVED,	/* left shut down (preserve): until it goes */
};
struct owned {
	char		 uuid[37];
	uint32_t	 domid;
	int		 state;			/* enum owned_state */
	char		 name[128];		/* MIG_HV_NAMELEN */
	char		*json;			/* RESTARTING only */
};
const char	*owned_state_name(int);
int		 owned_path(const char *, const char *, char *, size_t);
int		 owned_put(const char *, const struct owned *,
		    struct mig_err *);
/* relocd brings a domain up here (received, restored): it is ours. */
int		 owned_adopt(const char *, const char *, uint32_t, const char *,
		    struct mig_err *);
int		 owned_get(const char *, const char *, struct owned *,
		    struct mig_err *);
int		 owned_drop(const char *, const char *, struct mig_err *);
int		 owned_scan(const char *, int (*)(const struct owned *, void *),
		    void *, struct mig_err *);
void		 owned_clear(struct owned *);

#endif
