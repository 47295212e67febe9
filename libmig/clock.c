/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <time.h>

#include "mig/clock.h"

uint64_t
mig_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t
mig_now_ms(void)
{
	return mig_now_ns() / 1000000;
}

uint64_t
mig_deadline(int timeout_ms)
{
	return timeout_ms > 0 ? mig_now_ms() + timeout_ms : 0;
}
