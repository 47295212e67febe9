/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One message with at most one file descriptor over a UNIX socket
 * (SCM_RIGHTS): how a process that authenticated a connection hands it
 * to one that may use it.  On a SOCK_SEQPACKET socket a message arrives
 * whole or not at all.
 */
#ifndef MIG_FDPASS_H
#define MIG_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

#include "mig/error.h"

/* Sends len bytes of buf and, unless fd is -1, a copy of fd.  0 or -1. */
int	mig_fd_send(int sock, const void *buf, size_t len, int fd,
	    struct mig_err *);
/*
 * Receives one message of exactly len bytes into buf, and in *fd the
 * descriptor that came with it (close-on-exec), or -1.  Waits until
 * deadline (mig_deadline(); 0: forever).  A shorter message, or more
 * than one descriptor, is an error (and what came is closed).
 */
int	mig_fd_recv(int sock, void *buf, size_t len, int *fd,
	    uint64_t deadline, struct mig_err *);

#endif
