/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "mig/error.h"
#include "mig/wire.h"

static void
test_roundtrip_endianness(void **state)
{
	uint8_t		buf[32];
	struct wire_wr	w;
	struct wire_rd	r;

	wire_wr_init(&w, buf, sizeof(buf));
	wire_put_be32(&w, 0x01020304);
	wire_put_le32(&w, 0x01020304);
	wire_put_be64(&w, 0x1122334455667788ULL);
	wire_put_u8(&w, 0xfe);
	assert_false(w.bad);
	assert_int_equal(w.off, 17);
	assert_memory_equal(buf, "\x01\x02\x03\x04\x04\x03\x02\x01", 8);

	wire_rd_init(&r, buf, w.off);
	assert_int_equal(wire_get_be32(&r), 0x01020304);
	assert_int_equal(wire_get_le32(&r), 0x01020304);
	assert_true(wire_get_be64(&r) == 0x1122334455667788ULL);
	assert_int_equal(wire_get_u8(&r), 0xfe);
	assert_false(r.bad);
	assert_int_equal(wire_rd_left(&r), 0);
}

static void
test_reader_stops_at_end(void **state)
{
	const uint8_t	buf[3] = { 1, 2, 3 };
	struct wire_rd	r;

	wire_rd_init(&r, buf, sizeof(buf));
	assert_int_equal(wire_get_be16(&r), 0x0102);
	/* A read that does not fit yields zero, marks the reader bad, and
	 * every read after it yields zero too. */
	assert_int_equal(wire_get_be32(&r), 0);
	assert_true(r.bad);
	assert_int_equal(wire_get_u8(&r), 0);
	assert_null(wire_get_bytes(&r, 1));
	assert_int_equal(wire_rd_left(&r), 0);
}

static void
test_writer_overflow(void **state)
{
	uint8_t		buf[4];
	struct wire_wr	w;

	wire_wr_init(&w, buf, sizeof(buf));
	wire_put_be16(&w, 1);
	wire_put_be32(&w, 2);
	assert_true(w.bad);
	assert_int_equal(w.off, 2);
}

static void
test_error_messages(void **state)
{
	struct mig_err	err;

	assert_int_equal(mig_seterr(&err, MIG_E_PROTO, "frame %d", 7), -1);
	assert_int_equal(err.code, MIG_E_PROTO);
	assert_string_equal(err.msg, "frame 7");
	errno = ENOENT;
	mig_seterrno(&err, MIG_E_IO, "open %s", "x");
	assert_int_equal(errno, ENOENT);
	assert_string_equal(err.msg, "open x: No such file or directory");
	assert_string_equal(mig_errcode_name(MIG_E_DENIED), "denied");
	assert_string_equal(mig_errcode_name(-1), "unknown");
	assert_int_equal(mig_seterr(NULL, MIG_E_IO, "ignored"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_endianness),
		cmocka_unit_test(test_reader_stops_at_end),
		cmocka_unit_test(test_writer_overflow),
		cmocka_unit_test(test_error_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
