/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The xentoollog_logger libxl is given: its lines go to log.h, and its
 * progress reports -- forwarded by libxl-save-helper from libxenguest,
 * the only place the pre-copy rounds can be seen -- become
 * struct mig_hv_progress events of the save in flight.
 *
 * libxenguest reports (xg_sr_save.c): "Start of stream"; then per round
 * a prefix "Frames iteration N" (live) or "Frames" (non-live) with
 * done/total pages every 4 MiB and at the end of the round; "Domain now
 * suspended" when the guest stops; "End of stream" before the END
 * record; "Complete".
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/error.h"
#include "mig/hv.h"
#include "hv_libxl.h"
#include "mig/log.h"

#define ROUND_PREFIX	"Frames iteration "
#define LOGDIRTY_FAILED	"Failed to enable logdirty:"

int
mig_hv_progress_parse(const char *what, unsigned long done,
    unsigned long total, struct mig_hv_progress *p)
{
	unsigned long	 round;
	char		*end;

	memset(p, 0, sizeof(*p));
	if (what == NULL)
		return 0;
	if (strncmp(what, ROUND_PREFIX, strlen(ROUND_PREFIX)) == 0) {
		what += strlen(ROUND_PREFIX);
		if (*what < '0' || *what > '9')
			return 0;
		errno = 0;
		round = strtoul(what, &end, 10);
		if (errno != 0 || *end != '\0' || round > UINT_MAX)
			return 0;
		p->kind = MIG_HV_PROGRESS_ROUND;
		p->round = (unsigned int)round;
	} else if (strcmp(what, "Frames") == 0)
		p->kind = MIG_HV_PROGRESS_ROUND;	/* non-live: one pass */
	else if (strcmp(what, "Domain now suspended") == 0)
		p->kind = MIG_HV_PROGRESS_SUSPENDED;
	else if (strcmp(what, "End of stream") == 0)
		p->kind = MIG_HV_PROGRESS_END;
	else
		return 0;
	if (p->kind == MIG_HV_PROGRESS_ROUND) {
		p->pages_done = done;
		p->pages_total = total;
		p->dirty_left = total > done ? total - done : 0;
	}
	p->t_ns = mig_now_ns();
	return 1;
}

/*
 * libxenguest says "Failed to enable logdirty: ON1,OFF,ON2" with the
 * errno of each attempt; EOPNOTSUPP means the hypervisor has no way to
 * track the dirty pages of this guest (a PV guest needs shadow paging).
 */
int
hvx_is_logdirty_notsup(const char *line)
{
	const char	*s;
	char		*end;
	long		 v;
	int		 i;

	if ((s = strstr(line, LOGDIRTY_FAILED)) == NULL)
		return 0;
	s += strlen(LOGDIRTY_FAILED);
	for (i = 0; i < 3; i++) {
		v = strtol(s, &end, 10);
		if (end == s)
			return 0;
		if (v == EOPNOTSUPP)
			return 1;
		if (*end != ',')
			return 0;
		s = end + 1;
	}
	return 0;
}

static void
one_line(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

static void	hvx_vmessage(xentoollog_logger *, xentoollog_level, int,
		    const char *, const char *, va_list)
		    __attribute__((format(printf, 5, 0)));

static void
hvx_vmessage(xentoollog_logger *vt, xentoollog_level level, int errnoval,
    const char *context, const char *fmt, va_list ap)
{
	struct hvx_logger	*lg = (struct hvx_logger *)vt;
	struct hvx		*x = lg->x;
	char			 line[1024];
	size_t			 n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	if (errnoval >= 0)
		snprintf(line + n, sizeof(line) - n, ": %s",
		    strerror(errnoval));
	one_line(line);

	/* Errors are kept whatever the level shown: the completion of a
	 * failed operation quotes the last one, and the logdirty failure
	 * gets its own error code. */
	if (x != NULL && level >= XTL_ERROR)
		snprintf(x->lasterr, sizeof(x->lasterr), "%s", line);
	if (x != NULL && hvx_is_logdirty_notsup(line))
		x->logdirty_unsupported = 1;

	if (level < lg->min)
		return;
	if (context == NULL)
		context = "libxl";
	if (level >= XTL_ERROR)
		mig_log_warnx("%s: %s", context, line);
	else if (level >= XTL_PROGRESS)
		mig_log_info("%s: %s", context, line);
	else
		mig_log_debug("%s: %s", context, line);
}

static void
hvx_progress(xentoollog_logger *vt, const char *context, const char *what,
    int percent, unsigned long done, unsigned long total)
{
	struct hvx_logger	*lg = (struct hvx_logger *)vt;
	struct mig_hv_progress	 p;

	if (lg->min <= XTL_DEBUG)
		mig_log_debug("%s: %s: %lu/%lu", context ? context : "libxl",
		    what ? what : "", done, total);
	if (lg->x == NULL || lg->x->progress_op == NULL)
		return;
	if (mig_hv_progress_parse(what, done, total, &p))
		mig_hv_op_progress(lg->x->progress_op, &p);
}

/* The logger lives inside struct hvx, which frees it. */
static void
hvx_destroy(xentoollog_logger *vt)
{
}

static xentoollog_level
xtl_level(int min)
{
	switch (min) {
	case MIG_HV_LOG_DEBUG:	return XTL_DEBUG;
	case MIG_HV_LOG_INFO:	return XTL_PROGRESS;
	case MIG_HV_LOG_WARN:	return XTL_WARN;
	case MIG_HV_LOG_ERROR:	return XTL_ERROR;
	default:
		return mig_log_getverbose() > 1 ? XTL_DEBUG : XTL_PROGRESS;
	}
}

void
hvx_logger_init(struct hvx *x, int min)
{
	memset(&x->lg, 0, sizeof(x->lg));
	x->lg.vt.vmessage = hvx_vmessage;
	x->lg.vt.progress = hvx_progress;
	x->lg.vt.destroy = hvx_destroy;
	x->lg.x = x;
	x->lg.min = xtl_level(min);
}
