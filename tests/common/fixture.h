/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Save images of real guests, captured in the lab (tests/lab/
 * capture-images) and kept under tests/unit/data as zstd files.
 */
#ifndef FIXTURE_H
#define FIXTURE_H

#include "streamgen.h"

/* Reads $srcdir/tests/unit/data/NAME and decompresses it into *out
 * (which the caller frees with sg_buf_free); 0, or -1 with a message on
 * stderr. */
int	fixture_load(const char *, struct sg_buf *);

#endif
