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
 */
#include <stdlib.h>
#include <string.h>

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

struct ledger *
ledger_new(unsigned max)
{
	struct ledger	*l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	if ((l->v = calloc(max, sizeof(*l->v))) == NULL) {
		free(l);
		return NULL;
	}
	l->max = max;
	l->next_id = 1;
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
		if (strcmp(l->v[i].name, name) == 0)
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

/* The stream started: the reservation lasts until released. */
int
ledger_hold(struct ledger *l, uint64_t id)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].id == id) {
			l->v[i].expires_ms = 0;
			return 0;
		}
	return -1;
}

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
	}
	return "?";
}
