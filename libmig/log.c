/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/stat.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "mig/log.h"

/* Until mig_log_init() is called everything goes to stderr: a library user
 * that never sets up logging still sees its errors. */
static int		 log_foreground = 1;
static int		 log_journal;	/* stderr is journald's stream */
static int		 log_verbose;
static const char	*log_name = "";
static const char	*log_socket = "/run/systemd/journal/socket";

#define LOG_FIELDS_MAX	8
static struct {
	char	key[65];
	char	value[256];
} log_fields[LOG_FIELDS_MAX];

/*
 * systemd connects a service's stderr to journald and says so in
 * $JOURNAL_STREAM ("DEVICE:INODE" of that stream).  Lines that begin
 * with "<N>" then get syslog priority N, so that journalctl -p warning
 * shows relocd's warnings; anywhere else (a terminal, a log file) the
 * lines stay as they are.
 */
static int
stderr_is_journal(void)
{
	const char		*v = getenv("JOURNAL_STREAM");
	struct stat		 st;
	unsigned long long	 dev, ino;

	if (v == NULL || sscanf(v, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return st.st_dev == dev && st.st_ino == ino;
}

void
mig_log_init(int foreground, int facility)
{
	log_foreground = foreground;
	log_journal = foreground && stderr_is_journal();
	if (!foreground)
		openlog(program_invocation_short_name, LOG_PID | LOG_NDELAY,
		    facility);
	tzset();
}

void
mig_log_setverbose(int v)
{
	log_verbose = v;
}

int
mig_log_getverbose(void)
{
	return log_verbose;
}

void
mig_log_procname(const char *name)
{
	log_name = name != NULL ? name : "";
}

void
mig_log_journal_socket(const char *path)
{
	log_socket = path;
}

void
mig_log_field(const char *key, const char *fmt, ...)
{
	va_list	ap;
	size_t	i, free_slot = LOG_FIELDS_MAX;

	if (!mig_log_key_valid(key))
		return;
	for (i = 0; i < LOG_FIELDS_MAX; i++) {
		if (strcmp(log_fields[i].key, key) == 0)
			break;
		if (log_fields[i].key[0] == '\0' && free_slot == LOG_FIELDS_MAX)
			free_slot = i;
	}
	if (i == LOG_FIELDS_MAX)
		i = free_slot;
	if (i == LOG_FIELDS_MAX)
		return;		/* a programmer's excess; the text still says */
	if (fmt == NULL) {
		log_fields[i].key[0] = '\0';
		return;
	}
	snprintf(log_fields[i].key, sizeof(log_fields[i].key), "%s", key);
	va_start(ap, fmt);
	vsnprintf(log_fields[i].value, sizeof(log_fields[i].value), fmt, ap);
	va_end(ap);
}

/* Over journald's native protocol, with the process's fields and the
 * line's own; 0 if journald took it. */
static int
emit_journal(int pri, const char *msg, const struct mig_log_kv *extra,
    size_t nextra)
{
	struct mig_log_kv	kv[LOG_FIELDS_MAX + 8];
	char		buf[8192];
	size_t		n = 0, i, len;

	for (i = 0; i < nextra && n < sizeof(kv) / sizeof(kv[0]); i++)
		kv[n++] = extra[i];
	for (i = 0; i < LOG_FIELDS_MAX && n < sizeof(kv) / sizeof(kv[0]); i++)
		if (log_fields[i].key[0] != '\0')
			kv[n++] = (struct mig_log_kv){ log_fields[i].key,
			    log_fields[i].value };
	len = mig_log_journal_entry(buf, sizeof(buf), pri,
	    program_invocation_short_name, msg, kv, n);
	if (len > sizeof(buf))
		return -1;
	return mig_log_journal_send(log_socket, buf, len);
}

/* The one place a finished line leaves the process. */
static void
emit_kv(int pri, const char *line, const struct mig_log_kv *kv, size_t n)
{
	char		 full[1200];
	const char	*msg = line;

	if (*log_name != '\0') {
		snprintf(full, sizeof(full), "%s: %s", log_name, line);
		msg = full;
	}
	/* journald's stream, if the socket is refused: the line is not
	 * lost, only its fields. */
	if (log_journal && emit_journal(pri, msg, kv, n) == 0)
		return;
	if (log_foreground) {
		if (log_journal)
			fprintf(stderr, "<%d>", pri);
		fprintf(stderr, "%s\n", msg);
		fflush(stderr);
	} else
		syslog(pri, "%s", msg);
}

static void
emit(int pri, const char *line)
{
	emit_kv(pri, line, NULL, 0);
}

void
mig_vlog(int pri, const char *fmt, va_list ap)
{
	char	line[1024];
	int	saved = errno;

	vsnprintf(line, sizeof(line), fmt, ap);
	emit(pri, line);
	errno = saved;
}

/* As mig_vlog, with ": strerror(saved)" appended. */
static void vlog_errno(int, int, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
vlog_errno(int pri, int saved, const char *fmt, va_list ap)
{
	char	msg[1024];
	size_t	n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	emit(pri, msg);
	errno = saved;
}

void
mig_log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog_errno(LOG_ERR, saved, fmt, ap);
	va_end(ap);
}

void
mig_log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	mig_vlog(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
mig_log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	mig_vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
mig_log_info_kv(const struct mig_log_kv *kv, size_t n, const char *fmt, ...)
{
	va_list	ap;
	char	line[1024];
	int	saved = errno;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	emit_kv(LOG_INFO, line, kv, n);
	errno = saved;
}

void
mig_log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	mig_vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
mig_fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog_errno(LOG_CRIT, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
mig_fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	mig_vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
mig_log_failure(const char *cause, char *followed)
{
	mig_log_warnx("%s", cause);
	if (followed[0] != '\0')
		mig_log_warnx("what followed: %s", followed);
	followed[0] = '\0';
}
