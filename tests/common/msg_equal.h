/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TEST_MSG_EQUAL_H
#define TEST_MSG_EQUAL_H

#include <stdbool.h>

#include "mig/proto.h"

/* Field-by-field equality, as a decoder sees it. */
bool	test_msg_equal(const struct mig_msg *, const struct mig_msg *);

#endif
