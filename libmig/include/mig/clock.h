/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one clock of libmig and its programs: CLOCK_MONOTONIC, never the
 * wall clock, so that deadlines, rates and durations survive a clock set
 * by NTP or by hand.  A deadline is an absolute time in these
 * milliseconds, 0 meaning none.
 */
#ifndef MIG_CLOCK_H
#define MIG_CLOCK_H

#include <stdint.h>

uint64_t	 mig_now_ms(void);
uint64_t	 mig_now_ns(void);
/* now + timeout_ms, or 0 (no deadline) when timeout_ms <= 0 */
uint64_t	 mig_deadline(int timeout_ms);

#endif
