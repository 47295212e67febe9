/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a running job looks like: the progress line, the one-line-per-phase
 * log, JSON objects, the final summary and the failure line.  The
 * formatters are pure functions over ctl messages (snprintf semantics) so
 * the tests can pin every byte; only the view_* functions print.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mig/clock.h"
#include "mig/proto.h"
#include "xl-reloc.h"

#define BAR_WIDTH	20
#define MIB		(1024.0 * 1024.0)
#define RATE_MIN	(1024 * 1024 / 20)	/* shown as 0.1 MiB/s */

int
fmt_mib(char *buf, size_t len, uint64_t bytes)
{
	return snprintf(buf, len, "%.1f", (double)bytes / MIB);
}

/* PRE, the disks' MiB, POST; "" when no disk moved. */
static void
fmt_disks(char *buf, size_t len, uint64_t bytes, const char *pre,
    const char *post)
{
	char	mib[32];

	buf[0] = '\0';
	if (bytes == 0)
		return;
	fmt_mib(mib, sizeof(mib), bytes);
	snprintf(buf, len, "%s%s MiB%s", pre, mib, post);
}

/* "850ms", "12.3s", "2m05s", "1h02m": short enough for a table column. */
int
fmt_duration(char *buf, size_t len, uint64_t ms)
{
	uint64_t	s = ms / 1000;

	if (ms < 1000)
		return snprintf(buf, len, "%" PRIu64 "ms", ms);
	if (s < 60)
		return snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "s", s,
		    ms % 1000 / 100);
	if (s < 3600)
		return snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60,
		    s % 60);
	return snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600,
	    s % 3600 / 60);
}

/* A countdown reads best as a clock: "0:06", "1:02:03". */
static int
fmt_clock(char *buf, size_t len, uint64_t s)
{
	if (s < 3600)
		return snprintf(buf, len, "%" PRIu64 ":%02" PRIu64, s / 60,
		    s % 60);
	return snprintf(buf, len, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64,
	    s / 3600, s % 3600 / 60, s % 60);
}

/*
 * Pages still to send: the rest of the first pass while there is one,
 * then what the last round left dirty.  Later rounds resend pages, so
 * pages_sent can pass pages_total.
 */
static uint64_t
pages_left(const struct ctl_event *ev)
{
	if (ev->pages_total > ev->pages_sent)
		return ev->pages_total - ev->pages_sent;
	return ev->dirty_left;
}

static void
fmt_eta(char *buf, size_t len, const struct ctl_event *ev)
{
	uint64_t	left = pages_left(ev);

	/* A rate the line shows as 0.0 MiB/s (the first moments of a
	 * stream) would promise hours: no estimate until there is one. */
	if (ev->rate < RATE_MIN)
		snprintf(buf, len, "--:--");
	else if (left > UINT64_MAX / XR_PAGE_SIZE)
		snprintf(buf, len, "--:--");
	else
		fmt_clock(buf, len, (left * XR_PAGE_SIZE + ev->rate - 1) /
		    ev->rate);
}

static void
fmt_bar(char bar[BAR_WIDTH + 1], const struct ctl_event *ev)
{
	uint64_t	done = 0, sent;

	sent = ev->pages_sent < ev->pages_total ? ev->pages_sent :
	    ev->pages_total;
	if (ev->pages_total != 0)
		done = (uint64_t)((double)sent / ev->pages_total * BAR_WIDTH);
	memset(bar, '#', done);
	memset(bar + done, '-', BAR_WIDTH - done);
	bar[BAR_WIDTH] = '\0';
}

int
progress_line(char *buf, size_t len, const struct ctl_event *ev)
{
	char	bar[BAR_WIDTH + 1], sent[32], total[32], rate[32], eta[32];

	fmt_bar(bar, ev);
	fmt_mib(sent, sizeof(sent), ev->pages_sent * XR_PAGE_SIZE);
	fmt_mib(total, sizeof(total), ev->pages_total * XR_PAGE_SIZE);
	fmt_mib(rate, sizeof(rate), ev->rate);
	fmt_eta(eta, sizeof(eta), ev);
	return snprintf(buf, len, "%-13s round %" PRIu32 "  [%s]  %s/%s MiB  "
	    "%s MiB/s  dirty %" PRIu64 "  ETA %s", mig_phase_name(ev->phase),
	    ev->round, bar, sent, total, rate, ev->dirty_left, eta);
}

int
progress_phase_line(char *buf, size_t len, const struct ctl_event *ev)
{
	char	el[32], sent[32], total[32], rate[32], disk[64];

	fmt_duration(el, sizeof(el), ev->elapsed_ms);
	fmt_mib(sent, sizeof(sent), ev->pages_sent * XR_PAGE_SIZE);
	fmt_mib(total, sizeof(total), ev->pages_total * XR_PAGE_SIZE);
	fmt_mib(rate, sizeof(rate), ev->rate);
	fmt_disks(disk, sizeof(disk), ev->bytes_disk, ", disks ", "");
	return snprintf(buf, len, "[%s] %s: round %" PRIu32 ", %s/%s MiB%s, "
	    "%s MiB/s%s%s", el, mig_phase_name(ev->phase), ev->round, sent,
	    total, disk, rate, ev->text[0] != '\0' ? ": " : "", ev->text);
}

/* A JSON string literal, quotes included.  Control text is already
 * printable ASCII (ctl.c), but say so in the escaping anyway. */
int
json_string(char *buf, size_t len, const char *s)
{
	size_t	o = 0;
	int	n;

#define PUT(fmt, ...) do {						\
	n = snprintf(buf + (o < len ? o : len), o < len ? len - o : 0,	\
	    fmt, __VA_ARGS__);						\
	o += (size_t)n;							\
} while (0)
	PUT("%s", "\"");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			PUT("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			PUT("\\u%04x", c);
		else
			PUT("%c", c);
	}
	PUT("%s", "\"");
#undef PUT
	return (int)o;
}

int
progress_json_accepted(char *buf, size_t len, uint64_t job)
{
	return snprintf(buf, len, XR_JSON_OPEN "\"event\":\"accepted\",\"job\":%" PRIu64
	    "}", job);
}

int
progress_json_event(char *buf, size_t len, const struct ctl_event *ev)
{
	char	text[CTL_TEXT_MAX * 6 + 3];

	json_string(text, sizeof(text), ev->text);
	return snprintf(buf, len, XR_JSON_OPEN "\"event\":\"progress\",\"job\":%" PRIu64
	    ",\"phase\":\"%s\",\"phase_id\":%u,\"round\":%" PRIu32
	    ",\"pages_sent\":%" PRIu64 ",\"pages_total\":%" PRIu64
	    ",\"dirty_left\":%" PRIu64 ",\"bytes_wire\":%" PRIu64
	    ",\"rate\":%" PRIu64 ",\"downtime_ms\":%" PRIu32
	    ",\"elapsed_ms\":%" PRIu64 ",\"text\":%s,\"bytes_disk\":%" PRIu64
	    "}", ev->job,
	    mig_phase_name(ev->phase), ev->phase, ev->round, ev->pages_sent,
	    ev->pages_total, ev->dirty_left, ev->bytes_wire, ev->rate,
	    ev->downtime_ms, ev->elapsed_ms, text, ev->bytes_disk);
}

int
progress_json_result(char *buf, size_t len, const struct ctl_result *r)
{
	char	text[CTL_TEXT_MAX * 6 + 3];

	json_string(text, sizeof(text), r->text);
	return snprintf(buf, len, XR_JSON_OPEN "\"event\":\"result\",\"job\":%" PRIu64
	    ",\"status\":\"%s\",\"exit\":%d,\"code\":\"%s\",\"text\":%s"
	    ",\"domid\":%" PRIu32 ",\"total_ms\":%" PRIu64
	    ",\"paused_ms\":%" PRIu64 ",\"bytes_wire\":%" PRIu64
	    ",\"bytes_stream\":%" PRIu64 ",\"rounds\":%" PRIu32
	    ",\"bytes_disk\":%" PRIu64 ",\"disk_passes\":%" PRIu32
	    ",\"disk_last_bytes\":%" PRIu64 "}", r->job,
	    ctl_status_name(r->status), client_exit_status(r->status),
	    mig_errcode_name(r->code), text, r->domid, r->total_ms,
	    r->paused_ms, r->bytes_wire, r->bytes_stream, r->rounds,
	    r->bytes_disk, r->disk_passes, r->disk_last);
}

int
progress_summary(char *buf, size_t len, const struct ctl_result *r)
{
	char	total[32], paused[32], wire[32], stream[32], rounds[32];
	char	disk[64], passes[96], last[32];

	fmt_duration(total, sizeof(total), r->total_ms);
	fmt_duration(paused, sizeof(paused), r->paused_ms);
	fmt_mib(wire, sizeof(wire), r->bytes_wire);
	fmt_mib(stream, sizeof(stream), r->bytes_stream);
	rounds[0] = '\0';
	if (r->rounds != 0)
		snprintf(rounds, sizeof(rounds), ", %" PRIu32 " round%s",
		    r->rounds, r->rounds == 1 ? "" : "s");
	fmt_disks(disk, sizeof(disk), r->bytes_disk, " and ", " of disks");
	passes[0] = '\0';
	if (r->disk_passes != 0) {
		fmt_mib(last, sizeof(last), r->disk_last);
		snprintf(passes, sizeof(passes), ", disks in %" PRIu32 " delta "
		    "pass%s, the paused one %s MiB", r->disk_passes,
		    r->disk_passes == 1 ? "" : "es", last);
	}
	return snprintf(buf, len, "done in %s: guest paused %s, %s MiB on the "
	    "wire (%s MiB of stream%s)%s%s", total, paused, wire, stream, disk,
	    rounds, passes);
}

int
progress_failure(char *buf, size_t len, const char *what,
    const struct ctl_result *r)
{
	const char	*t = r->text[0] != '\0' ? r->text : "no reason given";

	switch (client_exit_status(r->status)) {
	case CTL_ST_OK:
		return snprintf(buf, len, "xl-reloc: %s: ok", what);
	case CTL_ST_NOTFOUND:
		return snprintf(buf, len, "xl-reloc: %s: not found: %s", what,
		    t);
	case CTL_ST_REFUSED:
		return snprintf(buf, len, "xl-reloc: %s: refused: %s; nothing "
		    "moved", what, t);
	case CTL_ST_FAILED:
		return snprintf(buf, len, "xl-reloc: %s: failed: %s; the "
		    "domain runs where it was", what, t);
	case CTL_ST_CANCELLED:
		return snprintf(buf, len, "xl-reloc: %s: cancelled; the "
		    "domain runs where it was", what);
	default:
		return snprintf(buf, len, "xl-reloc: %s: UNDEFINED STATE: %s; "
		    "check 'xl list' on both hosts for the domain, NAME--"
		    "incoming and NAME--migratedaway, and relocd's log, and "
		    "keep exactly one copy running", what, t);
	}
}

void
view_init(struct view *v, FILE *out, bool json)
{
	v->out = out;
	v->last_phase = -1;
	v->drawn = false;
	v->every = false;
	if (json)
		v->mode = VIEW_JSON;
	else if (isatty(fileno(out)))
		v->mode = VIEW_TTY;
	else
		v->mode = VIEW_LINES;
}

void
view_debug(struct view *v)
{
	v->every = true;
	if (v->mode == VIEW_TTY)
		v->mode = VIEW_LINES;
}

void
view_accepted(struct view *v, uint64_t job)
{
	char	line[XR_LINE_MAX];

	if (v->mode == VIEW_JSON) {
		progress_json_accepted(line, sizeof(line), job);
		fprintf(v->out, "%s\n", line);
	} else if (v->mode == VIEW_LINES)
		fprintf(v->out, "job %" PRIu64 " started\n", job);
	fflush(v->out);
}

/* A terminal's line is redrawn ten times a second at most (a new phase
 * at once): an HVM or PVH guest's first pass reports every 4 MiB of its
 * pfn space, a thousand events for 4 GiB, and a serial console at 115200
 * baud takes 10 s to draw them. */
#define TTY_REDRAW_MS	100

void
view_event(struct view *v, const struct ctl_event *ev)
{
	char		line[XR_LINE_MAX];
	uint64_t	now;

	switch (v->mode) {
	case VIEW_TTY:
		now = mig_now_ms();
		if (v->drawn && v->last_phase == ev->phase &&
		    now - v->drawn_ms < TTY_REDRAW_MS)
			return;
		v->drawn_ms = now;
		progress_line(line, sizeof(line), ev);
		/* Return to column 0, draw, erase what a longer line left. */
		fprintf(v->out, "\r%s\033[K", line);
		v->drawn = true;
		break;
	case VIEW_LINES:
		if (v->every)
			progress_line(line, sizeof(line), ev);
		else if (v->last_phase == ev->phase)
			return;
		else
			progress_phase_line(line, sizeof(line), ev);
		fprintf(v->out, "%s\n", line);
		break;
	case VIEW_JSON:
		progress_json_event(line, sizeof(line), ev);
		fprintf(v->out, "%s\n", line);
		break;
	case VIEW_QUIET:
		return;
	}
	v->last_phase = ev->phase;
	fflush(v->out);
}

void
view_result(struct view *v, const char *what, const struct ctl_result *r)
{
	char	line[XR_LINE_MAX];

	if (v->drawn) {
		fputc('\n', v->out);
		v->drawn = false;
	}
	if (v->mode == VIEW_JSON) {
		progress_json_result(line, sizeof(line), r);
		fprintf(v->out, "%s\n", line);
	} else if (v->mode != VIEW_QUIET && r->status == CTL_ST_OK) {
		progress_summary(line, sizeof(line), r);
		fprintf(v->out, "%s: %s\n", what, line);
	}
	fflush(v->out);
	if (r->status != CTL_ST_OK && v->mode != VIEW_QUIET) {
		progress_failure(line, sizeof(line), what, r);
		fprintf(stderr, "%s\n", line);
	}
}
