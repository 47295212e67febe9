/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Token buckets for the relay's bandwidth limit.  A frame is admitted as
 * soon as the bucket is not in debt and then takes all its bytes, possibly
 * leaving a debt: a frame larger than the burst still goes out, and the
 * long-run rate stays exact.  Waits are cut into slices of at most 100 ms
 * so that a new rate or a cancel takes effect promptly.
 */
#include <stdlib.h>
#include <time.h>

#include "relay_int.h"

#define BW_SLICE_NS	(100ull * 1000 * 1000)
#define BW_BURST_DIV	10.0			/* burst: 1/10 s of rate */

static void
bw_refill(struct mig_bw *bw, uint64_t now)
{
	double	burst = bw->rate / BW_BURST_DIV;

	if (bw->rate == 0)
		bw->tokens = 0;
	else if (now > bw->last_ns) {
		bw->tokens += (double)(now - bw->last_ns) * bw->rate / 1e9;
		if (bw->tokens > burst)
			bw->tokens = burst;
	}
	bw->last_ns = now;
}

void
relay_bw_init(struct mig_bw *bw, uint64_t rate)
{
	pthread_mutex_init(&bw->mtx, NULL);
	bw->rate = rate;
	bw->tokens = rate / BW_BURST_DIV;
	bw->last_ns = mig_now_ns();
}

void
relay_bw_destroy(struct mig_bw *bw)
{
	pthread_mutex_destroy(&bw->mtx);
}

/* Nanoseconds until bw may admit a frame; 0 now. */
static uint64_t
bw_wait_ns(struct mig_bw *bw, uint64_t now)
{
	uint64_t	wait = 0;

	if (bw == NULL)
		return 0;
	pthread_mutex_lock(&bw->mtx);
	bw_refill(bw, now);
	if (bw->rate != 0 && bw->tokens < 0)
		wait = (uint64_t)(-bw->tokens * 1e9 / bw->rate) + 1;
	pthread_mutex_unlock(&bw->mtx);
	return wait;
}

static void
bw_consume(struct mig_bw *bw, size_t n)
{
	if (bw == NULL)
		return;
	pthread_mutex_lock(&bw->mtx);
	if (bw->rate != 0)
		bw->tokens -= (double)n;
	pthread_mutex_unlock(&bw->mtx);
}

/* Wait (cancellably) until both buckets admit n bytes, then take them. */
int
relay_bw_take(struct mig_relay *r, size_t n)
{
	uint64_t	w, ws;

	for (;;) {
		w = bw_wait_ns(&r->bw, mig_now_ns());
		ws = bw_wait_ns(r->conf.bw_shared, mig_now_ns());
		if (ws > w)
			w = ws;
		if (w == 0)
			break;
		if (relay_sleep(r, w < BW_SLICE_NS ? w : BW_SLICE_NS) == -1)
			return -1;
	}
	bw_consume(&r->bw, n);
	bw_consume(r->conf.bw_shared, n);
	return 0;
}

struct mig_bw *
mig_bw_new(uint64_t rate, struct mig_err *err)
{
	struct mig_bw	*bw;

	if ((bw = calloc(1, sizeof(*bw))) == NULL) {
		mig_seterrno(err, MIG_E_NOMEM, "bandwidth bucket");
		return NULL;
	}
	relay_bw_init(bw, rate);
	return bw;
}

void
mig_bw_set_rate(struct mig_bw *bw, uint64_t rate)
{
	pthread_mutex_lock(&bw->mtx);
	bw_refill(bw, mig_now_ns());	/* time so far at the old rate */
	if (bw->rate == 0 || bw->tokens > rate / BW_BURST_DIV)
		bw->tokens = rate / BW_BURST_DIV;
	bw->rate = rate;
	pthread_mutex_unlock(&bw->mtx);
}

uint64_t
mig_bw_rate(struct mig_bw *bw)
{
	uint64_t	rate;

	pthread_mutex_lock(&bw->mtx);
	rate = bw->rate;
	pthread_mutex_unlock(&bw->mtx);
	return rate;
}

void
mig_bw_free(struct mig_bw *bw)
{
	if (bw == NULL)
		return;
	relay_bw_destroy(bw);
	free(bw);
}
