/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mig/error.h"

static const char *const errnames[MIG_E__MAX] = {
	[MIG_OK] = "ok",
	[MIG_E_INVAL] = "invalid",
	[MIG_E_PROTO] = "protocol",
	[MIG_E_TOOBIG] = "too-big",
	[MIG_E_TRUNC] = "truncated",
	[MIG_E_CORRUPT] = "corrupt",
	[MIG_E_IO] = "io",
	[MIG_E_EOF] = "eof",
	[MIG_E_TIMEOUT] = "timeout",
	[MIG_E_TLS] = "tls",
	[MIG_E_DENIED] = "denied",
	[MIG_E_NOMEM] = "no-memory",
	[MIG_E_NOTSUP] = "not-supported",
	[MIG_E_HV] = "hypervisor",
	[MIG_E_CANCELLED] = "cancelled",
	[MIG_E_NOTFOUND] = "not-found",
};

static void vseterr(struct mig_err *, int, int, const char *, va_list)
    __attribute__((format(printf, 4, 0)));

static void
vseterr(struct mig_err *err, int code, int saved_errno, const char *fmt,
    va_list ap)
{
	int	n;

	if (err == NULL)
		return;
	err->code = code;
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (saved_errno != 0 && n >= 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s",
		    strerror(saved_errno));
}

int
mig_seterr(struct mig_err *err, int code, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vseterr(err, code, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int
mig_seterrno(struct mig_err *err, int code, const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vseterr(err, code, saved, fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

void
mig_clearerr(struct mig_err *err)
{
	if (err == NULL)
		return;
	err->code = MIG_OK;
	err->msg[0] = '\0';
}

const char *
mig_errcode_name(int code)
{
	if (code < 0 || code >= MIG_E__MAX || errnames[code] == NULL)
		return "unknown";
	return errnames[code];
}
