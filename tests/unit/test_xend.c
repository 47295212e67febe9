/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relocd --import-xend: the relocation section of xend's shipped example
 * xend-config.sxp, and an SSL one, each converted to exactly the
 * relocd.conf beside it (tests/unit/data/xend), which relocd then loads
 * with the settings xend had; and the files it must refuse, each with a
 * line naming what is wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "relocd.h"

#define DATA	TOP_SRCDIR "/tests/unit/data/xend/"

static char *
slurp(const char *path)
{
	FILE	*f = fopen(path, "r");
	char	*buf;
	long	 n;

	if (f == NULL)
		fail_msg("%s: cannot open", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	assert_true((n = ftell(f)) >= 0);
	rewind(f);
	assert_non_null(buf = malloc((size_t)n + 1));
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* xend_convert(name, text) into a string; -1 and err on a refusal. */
static int
convert(const char *name, const char *text, char **out,
    struct mig_err *err)
{
	FILE	*f;
	size_t	 len;
	int	 rc;

	assert_non_null(f = open_memstream(out, &len));
	rc = xend_convert(name, text, f, err);
	assert_int_equal(fclose(f), 0);
	return rc;
}

/* Converts DATA/name and compares with DATA/name.conf; returns the
 * text, which the caller frees. */
static char *
converts_to_its_conf(const char *name)
{
	char		 path[512], *sxp, *want, *got;
	struct mig_err	 err;

	snprintf(path, sizeof(path), DATA "%s", name);
	sxp = slurp(path);
	snprintf(path, sizeof(path), DATA "%s.conf", name);
	want = slurp(path);
	if (convert(name, sxp, &got, &err) != 0)
		fail_msg("%s: %s", name, err.msg);
	assert_string_equal(got, want);
	free(sxp);
	free(want);
	return got;
}

static void
test_shipped_example(void **state)
{
	struct relocd_conf	 c;
	struct mig_err		 err;
	char			*conf = converts_to_its_conf("xend-config.sxp");

	(void)state;
	config_defaults(&c);
	if (config_load_data("out.conf", conf, strlen(conf), &c, &err) != 0)
		fail_msg("the converted file does not load: %s", err.msg);
	assert_true(c.plain_enabled);
	assert_int_equal(c.plain_port, 8002);
	assert_false(c.tls_enabled);
	assert_true(c.tls_client);
	assert_int_equal(c.listen.n, 0);
	assert_int_equal(c.hosts_allow.n, 2);
	assert_string_equal(c.hosts_allow.v[0], "^localhost$");
	assert_string_equal(c.hosts_allow.v[1], "^localhost\\.localdomain$");
	config_free(&c);
	free(conf);
}

static void
test_ssl(void **state)
{
	struct relocd_conf	 c;
	struct mig_err		 err;
	char			*conf = converts_to_its_conf("ssl.sxp"), *full;

	(void)state;
	/* relocd's TLS needs the CA xend never asked for */
	config_defaults(&c);
	assert_int_equal(config_load_data("out.conf", conf, strlen(conf), &c,
	    &err), -1);
	assert_non_null(strstr(err.msg, "needs tls_cert, tls_key and tls_ca"));
	config_free(&c);
	assert_true(asprintf(&full, "%stls_ca = \"/etc/xen/ca.pem\"\n",
	    conf) > 0);
	config_defaults(&c);
	if (config_load_data("out.conf", full, strlen(full), &c, &err) != 0)
		fail_msg("the converted file does not load: %s", err.msg);
	assert_false(c.plain_enabled);
	assert_true(c.tls_enabled);
	assert_int_equal(c.tls_port, 8443);
	assert_string_equal(c.tls_key, "/etc/xen/xmlrpc.key");
	assert_string_equal(c.tls_cert, "/etc/pki/xen/node1.crt");
	assert_true(c.tls_client);
	assert_int_equal(c.listen.n, 1);
	assert_string_equal(c.listen.v[0], "192.0.2.10");
	assert_int_equal(c.hosts_allow.n, 0);
	config_free(&c);
	free(full);
	free(conf);
}

static void
test_refused(void **state)
{
	static const struct {
		const char	*text;
		const char	*msg;
	} bad[] = {
		{ "(xend-relocation-port 80000)\n",
		  "t.sxp:1: xend-relocation-port: `80000' is not a port" },
		{ "\n(xend-relocation-server maybe)\n",
		  "t.sxp:2: xend-relocation-server: `maybe' is not yes or no" },
		{ "(xend-relocation-hosts-allow '^a$\n",
		  "t.sxp:1: a string that is not closed" },
		{ "xend-relocation-port = 8002\n",
		  "t.sxp:1: expected \"(name value)\", found `x'" },
		{ "(xend-relocation-port 8002 8003)\n",
		  "t.sxp:1: xend-relocation-port: expected one value and `)'" },
		{ "(xend-relocation-port 8002)\n#\n(xend-relocation-port 8004)\n",
		  "t.sxp:3: xend-relocation-port a second time (line 1)" },
		{ "(xend-relocation-server-ssl-key-file '')\n",
		  "t.sxp:1: xend-relocation-server-ssl-key-file: an empty "
		  "file name" },
		{ "(xend-relocation-port 8002",
		  "t.sxp:1: xend-relocation-port: expected one value and `)'" },
	};
	struct mig_err	err;
	char		*out;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (convert("t.sxp", bad[i].text, &out, &err) != -1)
			fail_msg("accepted: %s", bad[i].text);
		assert_string_equal(err.msg, bad[i].msg);
		free(out);
	}
	assert_int_equal(xend_import(DATA "nonexistent.sxp", stdout, &err),
	    -1);
	assert_int_equal(err.code, MIG_E_NOTFOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_example),
		cmocka_unit_test(test_ssl),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
