/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "mig/conn.h"
#include "preauth.h"

/*
 * The sandbox runs what a peer sent through OpenSSL and our parsers: if a
 * peer took it over, its answer is the peer's.  It may then claim the peer
 * authenticated (and get what an admitted peer gets: doc/security.md), but
 * not break the worker: every field is checked, the HELLO decoded again,
 * a kernel TLS socket asked whether it is one, and a plain socket taken
 * on the plain port only.
 */
int
preauth_answer_check(int tls, struct preauth_answer *a, int fd,
    struct mig_msg *them, struct mig_err *err)
{
	struct mig_frame_hdr	 h;
	const uint8_t		*body;
	char			 ulp[16] = "";
	socklen_t		 ulplen = sizeof(ulp) - 1;
	size_t			 used;

	a->subject[sizeof(a->subject) - 1] = '\0';
	a->fpr[sizeof(a->fpr) - 1] = '\0';
	if (a->handoff > HANDOFF_RELAY || (a->handoff == HANDOFF_SOCKET) ==
	    (tls != 0))
		return mig_seterr(err, MIG_E_PROTO, "sandbox: handoff %u on "
		    "the %s port", a->handoff, tls ? "TLS" : "plain");
	if (a->handoff == HANDOFF_KTLS && (a->ktls != (MIG_KTLS_TX |
	    MIG_KTLS_RX) || getsockopt(fd, IPPROTO_TCP, TCP_ULP, ulp,
	    &ulplen) == -1 || strcmp(ulp, "tls") != 0))
		return mig_seterr(err, MIG_E_PROTO, "sandbox: a kernel TLS "
		    "socket that is none");
	if (a->hello_len > sizeof(a->hello) ||
	    mig_frame_split(a->hello, a->hello_len, &h, &body, &used,
	    err) != 1 || used != a->hello_len ||
	    mig_msg_decode(&h, body, them, err) == -1 ||
	    them->type != MIG_MSG_HELLO)
		return mig_seterr(err, MIG_E_PROTO, "sandbox: no HELLO in its "
		    "answer");
	return 0;
}
