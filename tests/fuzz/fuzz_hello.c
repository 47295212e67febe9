/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The body of a HELLO, the first thing an unauthenticated peer sends. */
#include <stddef.h>
#include <stdint.h>

#include "proto_roundtrip.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_one_type(MIG_MSG_HELLO, data, size);
	return 0;
}
