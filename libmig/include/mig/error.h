/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Error reporting for libmig: every fallible function returns -1 (or NULL)
 * and, when given a struct mig_err, fills it with a code a program can act
 * on and a one-line message a person can read.
 */
#ifndef MIG_ERROR_H
#define MIG_ERROR_H

#include <stddef.h>

#define MIG_ERRLEN	256

enum mig_errcode {
	MIG_OK = 0,
	MIG_E_INVAL,		/* bad argument or configuration value */
	MIG_E_PROTO,		/* peer violated the protocol */
	MIG_E_TOOBIG,		/* a length above its hard limit */
	MIG_E_TRUNC,		/* input ended early */
	MIG_E_CORRUPT,		/* checksum, magic or structure wrong */
	MIG_E_IO,		/* system call failed */
	MIG_E_EOF,		/* peer closed the connection */
	MIG_E_TIMEOUT,		/* deadline passed */
	MIG_E_TLS,		/* TLS handshake or certificate failure */
	MIG_E_DENIED,		/* peer not admitted by host-allow/peers-allow */
	MIG_E_NOMEM,		/* allocation failed */
	MIG_E_NOTSUP,		/* feature or version not supported */
	MIG_E_HV,		/* hypervisor operation failed */
	MIG_E_CANCELLED,	/* cancelled on request */
	MIG_E_NOTFOUND,		/* domain, file or job does not exist */
	MIG_E__MAX
};

struct mig_err {
	int	code;		/* enum mig_errcode */
	char	msg[MIG_ERRLEN];
};

/* Both return -1 so that "return mig_seterr(...)" reads naturally; err may be NULL. */
int		 mig_seterr(struct mig_err *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
/* As mig_seterr, with ": strerror(errno)" appended (errno is preserved). */
int		 mig_seterrno(struct mig_err *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
void		 mig_clearerr(struct mig_err *);
const char	*mig_errcode_name(int);

#endif
