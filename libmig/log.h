/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Logging in the style of OpenBSD's daemons: stderr in the foreground,
 * syslog otherwise.  Library code logs only through log_*; it never calls
 * fatal(), which is for programs.
 */
#ifndef MIG_LOG_H
#define MIG_LOG_H

#include <stdarg.h>

void	log_init(int foreground, int facility);
void	log_setverbose(int);
int	log_getverbose(void);
void	log_procname(const char *);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	vlog(int, const char *, va_list) __attribute__((format(printf, 2, 0)));
/* A job's failure (its cause), then what the cause brought on, if any,
 * below it; followed is emptied. */
void	log_failure(const char *cause, char *followed);
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
