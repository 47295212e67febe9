/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to libmig: a msghdr for one buffer and a control area, as the
 * descriptor passing (fdpass.c) and kernel TLS's record types
 * (conn_ktls.c) use it.
 */
#ifndef MIG_MSGHDR_INT_H
#define MIG_MSGHDR_INT_H

#include <string.h>
#include <sys/socket.h>

static inline void
mig_msghdr_init(struct msghdr *msg, struct iovec *iov, void *buf, size_t len,
    void *control, size_t controllen)
{
	memset(msg, 0, sizeof(*msg));
	iov->iov_base = buf;
	iov->iov_len = len;
	msg->msg_iov = iov;
	msg->msg_iovlen = 1;
	msg->msg_control = control;
	msg->msg_controllen = controllen;
}

#endif
