/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private to libmig: one hex digit's value, -1 if c is not one. */
#ifndef MIG_HEX_H
#define MIG_HEX_H

static inline int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
