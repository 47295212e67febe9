/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to the pre-authentication sandbox (preauth.c) and its tests:
 * the messages between an incoming worker and its sandbox, and the
 * worker's check of the sandbox's answer (preauth_check.c).
 */
#ifndef RELOCD_PREAUTH_H
#define RELOCD_PREAUTH_H

#include <stdint.h>

#include "mig/error.h"
#include "mig/proto.h"

/* Room for a HELLO frame: its strings are bounded (proto.h). */
#define PREAUTH_HELLO_MAX	2048

enum preauth_handoff {
	HANDOFF_SOCKET,		/* the plain socket itself */
	HANDOFF_KTLS,		/* the socket, TLS in the kernel both ways */
	HANDOFF_RELAY,		/* a socketpair; TLS stays in the sandbox */
};

/* What the worker tells it: its HELLO, and when the peer's time is up
 * (CLOCK_MONOTONIC, mig_now_ms: the same clock in both processes), so
 * that the sandbox's own start counts against preauth_timeout. */
struct preauth_request {
	struct mig_msg	hello;
	uint64_t	deadline;
};

/* The sandbox's one answer. */
struct preauth_answer {
	uint16_t	status;			/* CTL_ST_* */
	uint16_t	handoff;		/* enum preauth_handoff */
	int		ktls;			/* MIG_KTLS_* handed over */
	uint32_t	uid;			/* it ran as */
	struct mig_err	err;			/* unless CTL_ST_OK */
	uint32_t	hello_len;		/* the peer's HELLO, as a */
	uint8_t		hello[PREAUTH_HELLO_MAX];	/* frame */
	char		subject[256];		/* its certificate, or "" */
	char		fpr[3 * 32 + 1];
};

/*
 * The worker's check of an answer that says the peer is authenticated,
 * with fd the descriptor that came with it, on the TLS port or not: 0 and
 * *them the peer's HELLO, or -1 and err.
 */
int	preauth_answer_check(int tls, struct preauth_answer *, int fd,
	    struct mig_msg *them, struct mig_err *);

#endif
