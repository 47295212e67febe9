/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "mig/error.h"
#include "mig/proto.h"
#include "mig/xlcompat.h"

/*
 * The bytes below are spelled out independently of xlcompat.h, from
 * tools/xl/xl.h and xl_migrate.c of Xen 4.17: if either drifts, stock xl
 * and relocd stop understanding each other, and this test says so.
 */
static const uint8_t banner[] = {
	'x','l',' ','m','i','g','r','a','t','i','o','n',' ','r','e','c','e',
	'i','v','e','r',' ','r','e','a','d','y',',',' ','s','e','n','d',' ',
	'b','i','n','a','r','y',' ','d','o','m','a','i','n',' ','d','a','t',
	'a','.','\n'
};
static const uint8_t ready[] = {
	'd','o','m','a','i','n',' ','r','e','c','e','i','v','e','d',',',' ',
	'r','e','a','d','y',' ','t','o',' ','u','n','p','a','u','s','e','\0'
};
static const uint8_t go[] = {
	'd','o','m','a','i','n',' ','i','s',' ','y','o','u','r','s',',',' ',
	'y','o','u',' ','a','r','e',' ','c','l','e','a','r','e','d',' ','t',
	'o',' ','u','n','p','a','u','s','e','\0'
};
static const uint8_t report[] = {
	'm','y',' ','c','o','p','y',' ','u','n','p','a','u','s','e',' ','r',
	'e','s','u','l','t','s',' ','a','r','e',' ','a','s',' ','f','o','l',
	'l','o','w','s','\0'
};

static void
check_msg(enum mig_xl_msg m, const uint8_t *want, size_t wantlen)
{
	const uint8_t	*p;
	size_t		 len;

	p = mig_xl_msg_bytes(m, &len);
	assert_non_null(p);
	assert_int_equal(len, wantlen);
	assert_memory_equal(p, want, wantlen);
}

static void
test_exact_bytes(void **state)
{
	check_msg(MIG_XL_MSG_BANNER, banner, sizeof(banner));
	check_msg(MIG_XL_MSG_READY, ready, sizeof(ready));
	check_msg(MIG_XL_MSG_GO, go, sizeof(go));
	check_msg(MIG_XL_MSG_REPORT, report, sizeof(report));

	/* The banner goes without its NUL, the others with it. */
	assert_int_equal(MIG_XL_BANNER_LEN, 54);
	assert_int_equal(banner[MIG_XL_BANNER_LEN - 1], '\n');
	assert_int_equal(MIG_XL_READY_LEN, 34);
	assert_int_equal(MIG_XL_GO_LEN, 44);
	assert_int_equal(MIG_XL_REPORT_LEN, 39);
	assert_int_equal(MIG_XL_REPORT_STATUS_LEN, 40);
	assert_int_equal(ready[MIG_XL_READY_LEN - 1], '\0');
}

static void
test_match(void **state)
{
	struct mig_err	err;
	uint8_t		buf[64];
	size_t		i;

	/* Every proper prefix asks for more; the whole message matches. */
	for (i = 0; i < sizeof(banner); i++)
		assert_int_equal(mig_xl_msg_match(MIG_XL_MSG_BANNER, banner, i,
		    &err), 0);
	assert_int_equal(mig_xl_msg_match(MIG_XL_MSG_BANNER, banner,
	    sizeof(banner), &err), 1);
	assert_int_equal(mig_xl_msg_match(MIG_XL_MSG_GO, go, sizeof(go),
	    &err), 1);

	/* The GO message without its NUL is incomplete, not complete. */
	assert_int_equal(mig_xl_msg_match(MIG_XL_MSG_GO, go, sizeof(go) - 1,
	    &err), 0);

	/* A wrong byte anywhere is refused at once, naming the message. */
	memcpy(buf, ready, sizeof(ready));
	buf[10] = 'X';
	assert_int_equal(mig_xl_msg_match(MIG_XL_MSG_READY, buf, 11, &err),
	    -1);
	assert_int_equal(err.code, MIG_E_PROTO);
	assert_non_null(strstr(err.msg, "ready message"));
	/* ...as is a message with more bytes than xl sends. */
	memcpy(buf, ready, sizeof(ready));
	buf[sizeof(ready)] = 'x';
	assert_int_equal(mig_xl_msg_match(MIG_XL_MSG_READY, buf,
	    sizeof(ready) + 1, &err), -1);
	/* A relocd preamble where an xl banner belongs. */
	assert_int_equal(mig_xl_msg_match(MIG_XL_MSG_BANNER,
	    (const uint8_t *)"XENRELOC", 8, &err), -1);
	assert_int_equal(mig_xl_msg_match(MIG_XL_MSG__MAX, buf, 1, &err), -1);
	assert_string_equal(mig_xl_msg_name(MIG_XL_MSG_BANNER), "banner");
}

static void
test_report(void **state)
{
	uint8_t		buf[MIG_XL_REPORT_STATUS_LEN + 1];
	uint8_t		status = 0xee;
	struct mig_err	err;

	mig_xl_report_encode(buf, 0);
	assert_memory_equal(buf, report, sizeof(report));
	assert_int_equal(buf[sizeof(report)], 0);
	assert_int_equal(mig_xl_report_decode(buf, MIG_XL_REPORT_STATUS_LEN,
	    &status, &err), 0);
	assert_int_equal(status, 0);

	mig_xl_report_encode(buf, 3);
	assert_int_equal(mig_xl_report_decode(buf, MIG_XL_REPORT_STATUS_LEN,
	    &status, &err), 0);
	assert_int_equal(status, 3);
	assert_int_equal(mig_xl_report_decode(buf, MIG_XL_REPORT_LEN,
	    &status, &err), -1);
	assert_int_equal(mig_xl_report_decode(buf, sizeof(buf), &status,
	    &err), -1);
	buf[0] = 'M';
	assert_int_equal(mig_xl_report_decode(buf, MIG_XL_REPORT_STATUS_LEN,
	    &status, &err), -1);
	assert_int_equal(err.code, MIG_E_PROTO);
}

static void
test_status_from_rc(void **state)
{
	/* xl sends -rc: ERROR_FAIL (-3) becomes 3. */
	assert_int_equal(mig_xl_status_from_rc(0), 0);
	assert_int_equal(mig_xl_status_from_rc(-3), 3);
	assert_int_equal(mig_xl_status_from_rc(-1), 1);
	/* A failure must never read as success. */
	assert_int_not_equal(mig_xl_status_from_rc(-256), 0);
	assert_int_not_equal(mig_xl_status_from_rc(256), 0);
	assert_int_not_equal(mig_xl_status_from_rc(-2147483647 - 1), 0);
}

/*
 * xl-reloc tunnel tells relocd's refusal frame from the xl banner by the
 * first 8 bytes; that only works if the banner is never a valid header.
 */
static void
test_banner_is_not_a_frame(void **state)
{
	struct mig_frame_hdr	h;
	struct mig_preamble	pre;
	struct mig_err		err;

	assert_int_equal(mig_frame_hdr_decode(banner, &h, &err), -1);
	assert_int_equal(mig_xl_msg_match(MIG_XL_MSG_BANNER, banner, 8, &err),
	    0);
	/* And a relocd server that gets the xl banner says so. */
	assert_int_equal(mig_preamble_decode(banner, &pre, &err), -1);
	assert_non_null(strstr(err.msg, "xl"));
}

static void
test_config_cinfo(void **state)
{
	const char	*json = "{\n    \"c_info\": {\n        \"type\": \"pv\",\n"
	    "        \"name\": \"we\\\"b1\",\n"
	    "        \"uuid\": \"6a7f0e1c-0000-4000-8000-000000000001\"\n    }\n}";
	char		 out[64], small[4];

	(void)state;
	assert_int_equal(mig_xl_config_cinfo(json, "name", out, sizeof(out)),
	    1);
	assert_string_equal(out, "we\"b1");
	assert_int_equal(mig_xl_config_cinfo(json, "uuid", out, sizeof(out)),
	    1);
	assert_string_equal(out, "6a7f0e1c-0000-4000-8000-000000000001");
	/* Cut: what fits, and 0. */
	assert_int_equal(mig_xl_config_cinfo(json, "name", small,
	    sizeof(small)), 0);
	assert_string_equal(small, "we\"");
	assert_int_equal(mig_xl_config_cinfo(json, "memory", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(mig_xl_config_cinfo("{\"b_info\": {}}", "name", out,
	    sizeof(out)), 0);
	assert_int_equal(mig_xl_config_cinfo("{\"c_info\": {\"name\": 7}}",
	    "name", out, sizeof(out)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_bytes),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_status_from_rc),
		cmocka_unit_test(test_banner_is_not_a_frame),
		cmocka_unit_test(test_config_cinfo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
