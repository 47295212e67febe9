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

#include "log.h"

/* Until log_init() is called everything goes to stderr: a library user
 * that never sets up logging still sees its errors. */
static int		 log_foreground = 1;
static int		 log_journal;	/* stderr is journald's stream */
static int		 log_verbose;
static const char	*log_name = "";

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
log_init(int foreground, int facility)
{
	log_foreground = foreground;
	log_journal = foreground && stderr_is_journal();
	if (!foreground)
		openlog(program_invocation_short_name, LOG_PID | LOG_NDELAY,
		    facility);
	tzset();
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return log_verbose;
}

void
log_procname(const char *name)
{
	log_name = name != NULL ? name : "";
}

/* The one place a finished line leaves the process. */
static void
emit(int pri, const char *msg)
{
	if (log_foreground) {
		if (log_journal)
			fprintf(stderr, "<%d>", pri);
		if (*log_name != '\0')
			fprintf(stderr, "%s: %s\n", log_name, msg);
		else
			fprintf(stderr, "%s\n", msg);
		fflush(stderr);
	} else
		syslog(pri, "%s%s%s", log_name, *log_name ? ": " : "", msg);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	line[1024];
	int	saved = errno;

	vsnprintf(line, sizeof(line), fmt, ap);
	emit(pri, line);
	errno = saved;
}

/* As vlog, with ": strerror(saved)" appended. */
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
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog_errno(LOG_ERR, saved, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog_errno(LOG_CRIT, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_failure(const char *cause, char *followed)
{
	log_warnx("%s", cause);
	if (followed[0] != '\0')
		log_warnx("what followed: %s", followed);
	followed[0] = '\0';
}
