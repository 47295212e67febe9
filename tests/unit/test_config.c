/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "relocd.h"

static int
load(const char *text, struct relocd_conf *c, struct mig_err *err)
{
	config_defaults(c);
	return config_load_data("t.conf", text, strlen(text), c, err);
}

/* Loads text that must be accepted, showing why if it is not. */
static void
load_ok(const char *text, struct relocd_conf *c)
{
	struct mig_err	err;

	if (load(text, c, &err) != 0)
		fail_msg("config refused: %s", err.msg);
}

static void
test_defaults(void **state)
{
	struct relocd_conf	c;

	load_ok("", &c);
	assert_false(c.plain_enabled);
	assert_int_equal(c.plain_port, 8002);
	assert_false(c.tls_enabled);
	assert_int_equal(c.tls_port, 8003);
	assert_true(c.tls_require_client_cert);
	assert_int_equal(c.hosts_allow.n, 0);
	assert_non_null(c.state_dir);
	assert_int_equal(c.max_downtime_ms, 0);
	assert_int_equal(c.downtime_rounds, CONVERGE_ROUNDS);
	/* The receive policy is on, and allows no storage. */
	assert_true(c.recv.enabled);
	assert_int_equal(c.recv.disk_paths.n, 0);
	assert_int_equal(c.recv.allow.n, 0);
	assert_int_equal(c.recv.backend_domains.n, 0);
	assert_int_equal(c.recv.disk_backends.n, 3);
	assert_int_equal(c.recv.hotplug_scripts.n, 5);
	config_free(&c);
}

/*
 * Jobs run from what config_print wrote (relocd.conf.running): it must
 * load back to the same configuration, and print the same again.
 */
static void
test_print_roundtrip(void **state)
{
	struct relocd_conf	 c, c2;
	char			*a = NULL, *b = NULL;
	size_t			 alen = 0, blen = 0;
	FILE			*f;
	const char		*text =
	    "relocation_address = [ \"192.0.2.1\", \"::1\" ]\n"
	    "relocation_hosts_allow = [ \"^10\\\\.0\\\\.0\\\\.[0-9]+$\",\n"
	    "    \"a \\\"quoted\\\" name\" ]\n"
	    "relocation_ssl_server = 1\n"
	    "tls_cert = \"/etc/xen/relocd/cert.pem\"\n"
	    "tls_key = \"/etc/xen/relocd/key.pem\"\n"
	    "tls_ca = \"/etc/xen/relocd/ca.pem\"\n"
	    "tls_peers_allow = [ \"node[0-9]+\" ]\n"
	    "bandwidth_limit = \"100M\"\n"
	    "max_downtime_ms = 300\nauto_converge = 1\ndowntime_abort = 1\n"
	    "downtime_rounds = 3\n";

	load_ok(text, &c);
	assert_non_null(f = open_memstream(&a, &alen));
	config_print(&c, f);
	fclose(f);
	load_ok(a, &c2);
	assert_non_null(f = open_memstream(&b, &blen));
	config_print(&c2, f);
	fclose(f);
	assert_string_equal(a, b);
	assert_int_equal(c2.hosts_allow.n, 2);
	assert_string_equal(c2.hosts_allow.v[0], "^10\\.0\\.0\\.[0-9]+$");
	assert_string_equal(c2.hosts_allow.v[1], "a \"quoted\" name");
	assert_int_equal(c2.downtime_rounds, 3);
	assert_true(c2.downtime_abort);
	assert_true(c2.bandwidth_limit == 100ULL << 20);
	free(a);
	free(b);
	config_free(&c);
	config_free(&c2);
}

static void
test_full_config(void **state)
{
	struct relocd_conf	c;
	const char		*text =
	    "# comment\n"
	    "relocation_port = 9002\n"
	    "relocation_address = [ \"192.0.2.1\", \"::1\" ]\n"
	    "relocation_hosts_allow = [ \"^10\\\\.0\\\\.0\\\\.[0-9]+$\",\n"
	    "    \"node[0-9]+\\\\.example\\\\.org\" ]\n"
	    "relocation_ssl_server = \"yes\"\n"
	    "tls_cert = \"/etc/xen/relocd/cert.pem\"\n"
	    "tls_key = \"/etc/xen/relocd/key.pem\"\n"
	    "tls_ca = \"/etc/xen/relocd/ca.pem\"\n"
	    "bandwidth_limit = \"100M\"\n"
	    "max_downtime_ms = 300; auto_converge = 1\n";

	load_ok(text, &c);
	assert_int_equal(c.plain_port, 9002);
	assert_int_equal(c.listen.n, 2);
	assert_string_equal(c.listen.v[1], "::1");
	assert_int_equal(c.hosts_allow.n, 2);
	assert_string_equal(c.hosts_allow.v[0], "^10\\.0\\.0\\.[0-9]+$");
	assert_true(c.tls_enabled);
	assert_string_equal(c.tls_ca, "/etc/xen/relocd/ca.pem");
	assert_true(c.bandwidth_limit == 100ULL << 20);
	assert_int_equal(c.max_downtime_ms, 300);
	/* A second setting on the same line is parsed by libxlutil; the
	 * pre-scan only sees line starts, so it is not type-checked by name
	 * but is still read through the table. */
	config_free(&c);
}

static void
test_xend_aliases(void **state)
{
	struct relocd_conf	c;
	const char		*text =
	    "xend-relocation-port = 8102\n"
	    "xend-relocation-hosts-allow = '^localhost$ ^.*\\\\.example\\\\.org$'\n"
	    "xend-relocation-server = \"no\"\n";

	load_ok(text, &c);
	assert_int_equal(c.plain_port, 8102);
	assert_false(c.plain_enabled);
	assert_int_equal(c.hosts_allow.n, 2);
	assert_string_equal(c.hosts_allow.v[0], "^localhost$");
	assert_string_equal(c.hosts_allow.v[1], "^.*\\.example\\.org$");
	assert_true(c.tls_client);
	config_free(&c);

	/* xend's ssl files relative to /etc/xen, as xend took them; the
	 * client's transport (xend-relocation-ssl) understood */
	load_ok("xend-relocation-server-ssl-key-file = \"xmlrpc.key\"\n"
	    "xend-relocation-server-ssl-cert-file = \"/srv/pki/a.crt\"\n"
	    "xend-relocation-ssl = \"no\"\n", &c);
	assert_string_equal(c.tls_key, "/etc/xen/xmlrpc.key");
	assert_string_equal(c.tls_cert, "/srv/pki/a.crt");
	assert_false(c.tls_client);
	config_free(&c);
	load_ok("relocation_ssl = 0\n", &c);
	assert_false(c.tls_client);
	config_free(&c);
}

struct bad {
	const char	*text;
	const char	*msg;	/* expected message, whole */
};

static void
test_bad_values(void **state)
{
	static const struct bad bad[] = {
		{ "\nrelocation_port = 70000\n", "t.conf:2: relocation_port: "
		    "`70000' is not a number from 1 to 65535" },
		{ "relocation_port = \"80x\"\n", "t.conf:1: relocation_port: "
		    "`80x' is not a number from 1 to 65535" },
		{ "relocation_port = [ 1 ]\n", "t.conf:1: relocation_port: "
		    "expected a single value, not a list" },
		{ "relocation_hosts_alow = [ \"x\" ]\n",
		    "t.conf:1: unknown key `relocation_hosts_alow'" },
		{ "compression = maybe\n", NULL },	/* not a valid token */
		{ "compression = \"maybe\"\n", "t.conf:1: compression: "
		    "`maybe' is not a boolean (0/1, yes/no)" },
		{ "downtime_rounds = 0\n", "t.conf:1: downtime_rounds: "
		    "`0' is not a number from 1 to 5" },
		{ "bandwidth_limit = \"fast\"\n", "t.conf:1: bandwidth_limit: "
		    "`fast' is not a size (e.g. 0, 512K, 100M, 1G)" },
		{ "state_dir = \"var/lib\"\n", "t.conf:1: state_dir: "
		    "`var/lib' is not an absolute path" },
		{ "(xend-relocation-port 8002)\n", "t.conf:1: this looks like "
		    "xend-config.sxp; relocd.conf uses xl.conf syntax: "
		    "key = value (relocd --import-xend t.conf converts it)" },
		{ "relocation_ssl_server = 1\n", "t.conf: relocation_ssl_server "
		    "needs tls_cert, tls_key and tls_ca" },
		{ "relocation_server = 1\n"
		    "relocation_ssl_port = 8002\nrelocation_ssl_server = 1\n"
		    "tls_cert=\"/a\"\ntls_key=\"/b\"\ntls_ca=\"/c\"\n",
		    "t.conf: relocation_port and relocation_ssl_port are both "
		    "8002" },
		{ "receive_disk_paths = [ \"/srv/../dev\" ]\n", "t.conf: "
		    "receive_disk_paths: `/srv/../dev' is not an absolute path "
		    "without `.', `..' or `//'" },
		{ "receive_disk_paths = [ \"images\" ]\n", "t.conf: "
		    "receive_disk_paths: `images' is not an absolute path "
		    "without `.', `..' or `//'" },
		{ "receive_hotplug_scripts = [ \"/tmp/x\" ]\n", "t.conf: "
		    "receive_hotplug_scripts: `/tmp/x' is not a script name "
		    "(scripts live in /etc/xen/scripts)" },
		{ "receive_allow = [ \"pci\", \"everything\" ]\n", "t.conf: "
		    "receive_allow: unknown `everything' (pci, usb, dtdev, "
		    "iomem, ioports, irqs, device_model, serial, channel, "
		    "colo)" },
		{ "relocation_port = = 3\n", NULL },
		{ "a = \"unterminated\n", NULL },
	};
	struct relocd_conf	c;
	struct mig_err		err;
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mig_clearerr(&err);
		assert_int_equal(load(bad[i].text, &c, &err), -1);
		assert_int_equal(err.code, MIG_E_INVAL);
		if (bad[i].msg != NULL)
			assert_string_equal(err.msg, bad[i].msg);
		else	/* libxlutil's own syntax message, with the line */
			assert_non_null(strstr(err.msg, "t.conf:1:"));
		assert_null(strchr(err.msg, '\n'));
		config_free(&c);
	}
}

/* The example shipped in conf/ must load as it is. */
static void
test_shipped_example(void **state)
{
	struct relocd_conf	c;
	struct mig_err		err;

	config_defaults(&c);
	if (config_load(CONF_EXAMPLE, &c, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(c.plain_port, 8002);
	assert_false(c.tls_enabled);
	config_free(&c);
}

static void
test_parse_size(void **state)
{
	uint64_t	v;

	assert_int_equal(parse_size("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(parse_size("512K", &v), 0);
	assert_true(v == 512 * 1024);
	assert_int_equal(parse_size("100MB/s", &v), 0);
	assert_true(v == 100ULL << 20);
	assert_int_equal(parse_size("2g", &v), 0);
	assert_true(v == 2ULL << 30);
	assert_int_equal(parse_size("", &v), -1);
	assert_int_equal(parse_size("-1", &v), -1);
	assert_int_equal(parse_size("1X", &v), -1);
	assert_int_equal(parse_size("99999999999999999999", &v), -1);
	assert_int_equal(parse_size("17179869184G", &v), -1);
}

static void
test_file_errors(void **state)
{
	struct relocd_conf	c;
	struct mig_err		err;
	char			path[] = "/tmp/relocd-conf-XXXXXX";
	int			fd;

	config_defaults(&c);
	assert_int_equal(config_load("/nonexistent/relocd.conf", &c, &err), -1);
	assert_int_equal(err.code, MIG_E_NOTFOUND);
	assert_string_equal(err.msg,
	    "/nonexistent/relocd.conf: No such file or directory");
	assert_int_equal(config_load("/tmp", &c, &err), -1);
	assert_int_equal(err.code, MIG_E_INVAL);

	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, "relocation_port = 1234\n", 23), 23);
	close(fd);
	assert_int_equal(config_load(path, &c, &err), 0);
	assert_int_equal(c.plain_port, 1234);
	unlink(path);
	config_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_print_roundtrip),
		cmocka_unit_test(test_xend_aliases),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_shipped_example),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_file_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
