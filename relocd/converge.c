/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The max-downtime policy.  libxl has no downtime knob: libxenguest sends
 * five pre-copy rounds at most and then stops the guest whatever is left,
 * so the only levers are slowing the guest down (the credit scheduler
 * cap) and giving up.  The rule, decided once per round from the downtime
 * that stop-and-copy would cost at that round's start:
 *
 *   - within the limit (or no limit, or no estimate yet): nothing, and the
 *     count of rounds over the limit starts again;
 *   - over it for `rounds` consecutive rounds: with auto-converge, cap the
 *     guest one step lower (CONVERGE_STEPS), then one more step for each
 *     further round still over; once no step is left, or without
 *     auto-converge, abort if downtime-abort was asked, else carry on.
 *   - the stop-and-copy round itself (the guest already stopped): abort
 *     if downtime-abort was asked and the count has reached `rounds`.
 *
 * Pure functions, so that the rule is tested apart from any hypervisor.
 */
#include <stdbool.h>
#include <stdint.h>

#include "relocd.h"

/* Percent of the guest's own allowance (its cap, or all its vcpus). */
static const int steps[CONVERGE_STEPS] = { 50, 25, 10 };

void
converge_init(struct converge *c, uint32_t limit_ms, unsigned rounds,
    bool auto_converge, bool abort)
{
	c->limit_ms = limit_ms;
	c->rounds = rounds > 0 ? rounds : 1;
	c->auto_converge = auto_converge;
	c->abort = abort;
	c->over = 0;
	c->step = 0;
}

enum converge_action
converge_round(struct converge *c, uint32_t expected_ms, bool final)
{
	if (c->limit_ms == 0 || expected_ms == 0)
		return CONV_NONE;
	if (expected_ms <= c->limit_ms) {
		c->over = 0;
		return CONV_NONE;
	}
	c->over++;
	/* Once throttled, every round still over takes a step: the guest
	 * has already been given its N rounds. */
	if (c->over < c->rounds && c->step == 0)
		return CONV_NONE;
	if (final)
		return c->over >= c->rounds && c->abort ? CONV_ABORT :
		    CONV_NONE;
	if (c->auto_converge && c->step < CONVERGE_STEPS) {
		c->step++;
		return CONV_THROTTLE;
	}
	return c->abort ? CONV_ABORT : CONV_NONE;
}

/*
 * The cap for the current step: a share of what the guest may use now,
 * its own cap when it has one, else all of its vcpus (a credit cap is in
 * percent of one physical cpu).  Never 0, which would mean "no cap".
 */
int
converge_cap(int orig_cap, unsigned vcpus, unsigned step)
{
	long	base, cap;

	if (step == 0)
		return orig_cap;
	if (step > CONVERGE_STEPS)
		step = CONVERGE_STEPS;
	base = orig_cap > 0 ? orig_cap : 100L * (vcpus > 0 ? vcpus : 1);
	cap = base * steps[step - 1] / 100;
	return cap > 0 ? (int)cap : 1;
}
