/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to the target side: the state worker_in.c (relocd peers) and
 * worker_xl.c (stock xl through "xl-reloc tunnel") share, and the steps
 * they have in common.
 */
#ifndef RELOCD_WORKER_IN_H
#define RELOCD_WORKER_IN_H

#include <openssl/ssl.h>

#include "mig/hv.h"
#include "mig/proto.h"
#include "mig/relay.h"
#include "relocd.h"

struct mig_acl;
struct mig_domcfg;
struct storage;

struct in {
	struct worker		*w;
	struct mig_conn		*conn;
	pid_t			 sandbox;	/* its TLS relay, or 0 */
	struct peer_buf		*buf;
	struct mig_msg_reserve	 req;
	char			*json;		/* NUL-terminated copy */
	char			 incoming[MIG_HV_NAMELEN];
	uint32_t		 domid;		/* of the container */
	uint64_t		 resv;
	uint64_t		 granted;	/* RESERVED's features */
	struct storage		*storage;	/* disks that come too, or
						 * NULL (storage_in.c) */
};

/* worker_in.c */
uint64_t	 in_incoming_kib(struct worker *);
int		 in_clash(struct in *, uint16_t *, char *, size_t);
int		 in_policy(struct in *, const struct mig_domcfg *, uint16_t *,
		    char *, size_t);
uint16_t	 in_ledger_reason(const struct worker *);
int		 in_receive(struct in *, enum mig_relay_dir, unsigned,
		    struct mig_err *);
int		 in_undo(struct in *, const struct mig_err *);
int		 in_abandon(struct in *, const struct mig_err *);
void		 in_journal_begin(struct in *, const char *);
int		 in_commit(struct in *, struct mig_err *);
int		 in_withdraw(struct in *, struct mig_err *);

/* worker_xl.c */
int		 worker_in_xl(struct in *, const struct mig_msg_hello *,
		    const struct mig_msg_xl_tunnel *);

#endif
