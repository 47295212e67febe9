/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The body of a RESERVE: names, config JSON and sizes from the source. */
#include <stddef.h>
#include <stdint.h>

#include "proto_roundtrip.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_one_type(MIG_MSG_RESERVE, data, size);
	return 0;
}
