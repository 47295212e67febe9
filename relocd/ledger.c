/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The reservation ledger: memory promised to incoming domains that is not
 * yet visible as used in the hypervisor's free-memory figure.  Two sources
 * reserving at once are each checked against free memory minus what the
 * other already holds, so they cannot both be promised the same pages.
 *
 * A reservation expires after its time-to-live unless its stream starts
 * (ledger_hold), and is released when the incoming domain is renamed at
 * commit or the job fails.  While a restore runs, its memory is both held
 * here and, as it is allocated, missing from the hypervisor's free figure;
 * the caller passes that figure with the memory of every NAME--incoming
 * container added back (worker_in.c), so each counts once.
 *
 * An id alone does not name a reservation: ledger_hold also checks the
 * domain it was made for, so that an id from before a restart, or one
 * presented for another domain, is refused rather than taken for another's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "relocd.h"

struct reservation {
	uint64_t	id;
	uint64_t	kib;
	uint64_t	expires_ms;	/* 0 once held by a running stream */
	char		name[JOURNAL_NAME_MAX + 1];
	uint8_t		uuid[16];
};

struct ledger {
	struct reservation	*v;
	size_t			 n;
	size_t			 max;
	uint64_t		 next_id;
};

/*
 * Ids must not repeat across restarts: a source that reserved before we
 * restarted keeps our id (in its journal, for QUERY), and must never find
 * it naming a later reservation of someone else.  The counter starts at a
 * random value in [1, 2^63] rather than at the clock or after the highest
 * id in our journal: the clock may step back (NTP, a bad RTC) or two starts
 * fall in one tick, and compaction drops finished records, so the journal
 * is no floor either; the journal format stays as it is.  Two runs of ids
 * overlap only if their starts fall within the ids handed out, about
 * n / 2^62 for n of them; starting below 2^63 leaves the count room to
 * climb without wrapping to 0 ("none").  Within a run ids still count up,
 * so a log shows their order.
 */
static int
seed(uint64_t *id)
{
	uint64_t	v;
	ssize_t		n;

	do
		n = getrandom(&v, sizeof(v), 0);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(v)) {
		if (n >= 0)
			errno = EIO;
		return -1;
	}
	*id = (v >> 1) + 1;
	return 0;
}

/* NULL with errno set: out of memory, or no random seed to be had. */
struct ledger *
ledger_new(unsigned max)
{
	struct ledger	*l;
	int		 saved;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	if ((l->v = calloc(max, sizeof(*l->v))) == NULL ||
	    seed(&l->next_id) == -1) {
		saved = errno;
		free(l->v);
		free(l);
		errno = saved;
		return NULL;
	}
	l->max = max;
	return l;
}

void
ledger_free(struct ledger *l)
{
	if (l == NULL)
		return;
	free(l->v);
	free(l);
}

/* Names are kept to JOURNAL_NAME_MAX bytes, and compared as kept. */
static int
same_name(const struct reservation *r, const char *name)
{
	return strncmp(r->name, name, sizeof(r->name) - 1) == 0;
}

static void
remove_at(struct ledger *l, size_t i)
{
	l->v[i] = l->v[--l->n];
}

void
ledger_expire(struct ledger *l, uint64_t now_ms)
{
	size_t	i = 0;

	while (i < l->n) {
		if (l->v[i].expires_ms != 0 && l->v[i].expires_ms <= now_ms)
			remove_at(l, i);
		else
			i++;
	}
}

uint64_t
ledger_held_kib(struct ledger *l, uint64_t now_ms)
{
	uint64_t	sum = 0;
	size_t		i;

	ledger_expire(l, now_ms);
	for (i = 0; i < l->n; i++)
		sum += l->v[i].kib;
	return sum;
}

size_t
ledger_count(struct ledger *l, uint64_t now_ms)
{
	ledger_expire(l, now_ms);
	return l->n;
}

enum ledger_refusal
ledger_reserve(struct ledger *l, uint64_t free_kib, uint64_t need_kib,
    const char *name, const uint8_t uuid[16], unsigned ttl_s,
    uint64_t now_ms, uint64_t *id)
{
	static const uint8_t	nil[16];
	struct reservation	*r;
	uint64_t		 held;
	size_t			 i;

	held = ledger_held_kib(l, now_ms);
	for (i = 0; i < l->n; i++) {
		if (same_name(&l->v[i], name))
			return LEDGER_NAME_CLASH;
		if (memcmp(uuid, nil, 16) != 0 &&
		    memcmp(l->v[i].uuid, uuid, 16) == 0)
			return LEDGER_UUID_CLASH;
	}
	if (l->n == l->max)
		return LEDGER_FULL;
	if (held > free_kib || need_kib > free_kib - held)
		return LEDGER_NO_MEMORY;
	r = &l->v[l->n++];
	memset(r, 0, sizeof(*r));
	r->id = l->next_id++;
	r->kib = need_kib;
	r->expires_ms = now_ms + (uint64_t)ttl_s * 1000;
	strncpy(r->name, name, sizeof(r->name) - 1);
	memcpy(r->uuid, uuid, 16);
	*id = r->id;
	return LEDGER_OK;
}

/*
 * The stream started: the reservation lasts until released.  -1 when no
 * reservation has that id for that domain (lapsed, released, made before
 * a restart of ours, or another domain's).  uuid must be what the
 * reservation was made with, nil included.
 */
int
ledger_hold(struct ledger *l, uint64_t id, const char *name,
    const uint8_t uuid[16], uint64_t now_ms)
{
	size_t	i;

	ledger_expire(l, now_ms);
	for (i = 0; i < l->n; i++)
		if (l->v[i].id == id && same_name(&l->v[i], name) &&
		    memcmp(l->v[i].uuid, uuid, 16) == 0) {
			l->v[i].expires_ms = 0;
			return 0;
		}
	return -1;
}

/* By id alone: only the job the id was given to releases it (job.c). */
void
ledger_release(struct ledger *l, uint64_t id)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].id == id) {
			remove_at(l, i);
			return;
		}
}

const char *
ledger_refusal_text(enum ledger_refusal r)
{
	switch (r) {
	case LEDGER_OK:
		return "reserved";
	case LEDGER_NO_MEMORY:
		return "not enough free memory (after other reservations)";
	case LEDGER_NAME_CLASH:
		return "a domain of that name is already arriving";
	case LEDGER_UUID_CLASH:
		return "a domain with that uuid is already arriving";
	case LEDGER_FULL:
		return "too many incoming migrations";
	case LEDGER_NOT_HELD:
		return "no such reservation for that domain (lapsed, or "
		    "made before relocd restarted)";
	}
	return "?";
}
