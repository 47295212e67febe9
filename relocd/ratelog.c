/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The parent's lines about connections it refuses or closes, at most
 * RATELOG_BURST per host in each RATELOG_WINDOW_MS: a peer that opens
 * connections by the thousand must not flood the log, nor hide another
 * host's lines in it.  What is held back is counted, and said once the
 * host's window is over (at its next line, or when its slot is taken).
 * RATELOG_HOSTS hosts are followed at once; the one quiet longest makes
 * room for a new one.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mig/log.h"
#include "relocd.h"

#define RATELOG_HOSTS		64
#define RATELOG_BURST		5
#define RATELOG_WINDOW_MS	60000

struct ratelog_host {
	char		host[RELOCD_HOST_MAX];
	uint64_t	start_ms;	/* the window's */
	uint64_t	last_ms;
	unsigned	lines;		/* said in this window */
	unsigned	held;		/* held back in this window */
};

static struct ratelog_host	hosts[RATELOG_HOSTS];

static void
ratelog_flush(struct ratelog_host *h)
{
	if (h->held > 0)
		mig_log_info("%u more lines about connections from %s held back "
		    "in %u seconds", h->held, h->host,
		    RATELOG_WINDOW_MS / 1000);
	h->held = 0;
}

static struct ratelog_host *
ratelog_find(const char *host, uint64_t now)
{
	struct ratelog_host	*h, *old = &hosts[0];

	for (h = hosts; h < hosts + RATELOG_HOSTS; h++) {
		if (h->host[0] != '\0' && strcmp(h->host, host) == 0)
			return h;
		if (h->last_ms < old->last_ms)
			old = h;
	}
	ratelog_flush(old);
	memset(old, 0, sizeof(*old));
	snprintf(old->host, sizeof(old->host), "%s", host);
	old->start_ms = now;
	return old;
}

void
ratelog(const char *host, const char *fmt, ...)
{
	struct ratelog_host	*h;
	uint64_t		 now = mig_now_ms();
	char			 line[1024];
	va_list			 ap;

	h = ratelog_find(host, now);
	h->last_ms = now;
	if (now - h->start_ms >= RATELOG_WINDOW_MS) {
		ratelog_flush(h);
		h->start_ms = now;
		h->lines = 0;
	}
	if (h->lines >= RATELOG_BURST) {
		h->held++;
		return;
	}
	h->lines++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	mig_log_info("%s", line);
}
