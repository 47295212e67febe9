/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Logging in the style of OpenBSD's daemons: stderr in the foreground,
 * syslog otherwise.  Library code logs only through mig_log_*; it never calls
 * mig_fatal(), which is for programs.
 */
#ifndef MIG_LOG_H
#define MIG_LOG_H

#include <stdarg.h>

void	mig_log_init(int foreground, int facility);
void	mig_log_setverbose(int);
int	mig_log_getverbose(void);
void	mig_log_procname(const char *);
void	mig_log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	mig_log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	mig_log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	mig_log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	mig_vlog(int, const char *, va_list) __attribute__((format(printf, 2, 0)));
/* A job's failure (its cause), then what the cause brought on, if any,
 * below it; followed is emptied. */
void	mig_log_failure(const char *cause, char *followed);

/*
 * Structured fields, for journald: when stderr is the journal's stream,
 * each line goes over journald's native protocol instead, with its
 * priority and these fields (journalctl JOB_ID=7).  Elsewhere they are
 * not written at all: the text of a line says what it is about.
 */
struct mig_log_kv {
	const char	*key;		/* A-Z, 0-9, '_', not first */
	const char	*value;		/* "" or NULL: left out */
};
/* Attaches KEY=VALUE to every later line of this process (a worker's
 * JOB_ID, DOMAIN, PEER, PEER_CERT); fmt NULL removes it. */
void	mig_log_field(const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* One info line with fields of its own as well. */
void	mig_log_info_kv(const struct mig_log_kv *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* Where the native protocol is sent: journald's socket unless a test
 * says otherwise. */
void	mig_log_journal_socket(const char *);

/* log_journal.c: the native protocol itself */
int	mig_log_key_valid(const char *);
/* The datagram for one entry into buf (snprintf's semantics: the length
 * it needs is returned, larger than cap if cut). */
size_t	mig_log_journal_entry(char *buf, size_t cap, int pri, const char *ident,
	    const char *msg, const struct mig_log_kv *, size_t);
int	mig_log_journal_send(const char *path, const void *, size_t);
void	mig_fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	mig_fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
