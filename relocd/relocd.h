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

/* config.c */
void	config_defaults(struct relocd_conf *);
int	config_load(const char *, struct relocd_conf *, struct mig_err *);
int	config_load_data(const char *, const char *, size_t,
	    struct relocd_conf *, struct mig_err *);
void	config_free(struct relocd_conf *);
void	config_print(const struct relocd_conf *, FILE *);
int	parse_size(const char *, uint64_t *);

#endif
