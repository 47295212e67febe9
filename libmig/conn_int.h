/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to libmig and its tests: the connection's socket and SSL.  No
 * program reads or writes them behind the connection's back (mig/conn.h).
 */
#ifndef MIG_CONN_INT_H
#define MIG_CONN_INT_H

#include <openssl/ssl.h>

#include "mig/conn.h"

int	 mig_conn_fd(const struct mig_conn *);
SSL	*mig_conn_ssl(const struct mig_conn *);

/* conn_ktls.c: a socket whose TLS the kernel does, with no SSL object */
ssize_t	 conn_ktls_recv(int, void *, size_t);
int	 conn_ktls_close_notify(int);

#endif
