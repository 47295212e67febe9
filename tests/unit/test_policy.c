/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The receive policy (relocd/policy.c) on hand-made lists of what a
 * configuration asks: the rules at their edges, without any parser.
 * What libxl's parser makes of real configurations is test_hv_libxl's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "domcfg.h"
#include "relocd.h"

static const uint8_t	uuid[16] = { 0x7e, 0x57, 1, 2, 3, 4, 5, 6, 7, 8, 9,
				    10, 11, 12, 13, 14 };

/* The policy of relocd.conf TEXT (defaults first). */
static void
conf(struct relocd_conf *c, const char *text)
{
	struct mig_err	err;

	config_defaults(c);
	if (config_load_data("t.conf", text, strlen(text), c, &err) == -1)
		fail_msg("%s", err.msg);
}

/* 0 when one item (KIND, WHAT, VALUE) passes policy P, else 1 and why. */
static int
judge(const struct recv_policy *p, int kind, const char *what,
    const char *value, char *why, size_t size)
{
	struct mig_domcfg	c;
	struct mig_err		err;
	int			rc;

	memset(&c, 0, sizeof(c));
	assert_int_equal(mig_domcfg_add(&c, &err, kind, "k", what, "%s",
	    value), 0);
	why[0] = '\0';
	rc = policy_check(p, &c, why, size);
	mig_domcfg_free(&c);
	return rc;
}

static void
test_disk_paths(void **state)
{
	struct relocd_conf	c;
	char			why[512];

	(void)state;
	conf(&c, "receive_disk_paths = [ \"/srv/xen/\", \"/dev/vg0\", "
	    "\"/dev/sdb\" ]\n");
	assert_int_equal(judge(&c.recv, MIG_DC_DISK, "phy", "/srv/xen/a.img",
	    why, sizeof(why)), 0);
	assert_int_equal(judge(&c.recv, MIG_DC_DISK, "", "/dev/vg0/web",
	    why, sizeof(why)), 0);
	assert_int_equal(judge(&c.recv, MIG_DC_DISK, "phy", "/dev/sdb",
	    why, sizeof(why)), 0);
	/* an empty CD-ROM drive opens nothing */
	assert_int_equal(judge(&c.recv, MIG_DC_DISK, "phy", "", why,
	    sizeof(why)), 0);
	/* a prefix is not a directory */
	assert_int_equal(judge(&c.recv, MIG_DC_DISK, "phy", "/dev/vg01/web",
	    why, sizeof(why)), 1);
	assert_string_equal(why, "k = \"/dev/vg01/web\": not under any "
	    "receive_disk_paths entry");
	assert_int_equal(judge(&c.recv, MIG_DC_DISK, "phy", "/dev/sdb1",
	    why, sizeof(why)), 1);
	assert_int_equal(judge(&c.recv, MIG_DC_DISK, "phy", "/dev/vg0",
	    why, sizeof(why)), 0);
	/* nothing that leaves a directory, however spelt */
	assert_int_equal(judge(&c.recv, MIG_DC_DISK, "phy",
	    "/srv/xen/../../etc/shadow", why, sizeof(why)), 1);
	assert_int_equal(judge(&c.recv, MIG_DC_DISK, "phy", "/srv/xen/./a",
	    why, sizeof(why)), 1);
	assert_int_equal(judge(&c.recv, MIG_DC_DISK, "phy", "/srv/xen//a",
	    why, sizeof(why)), 1);
	assert_int_equal(judge(&c.recv, MIG_DC_DISK, "qdisk", "web.img",
	    why, sizeof(why)), 1);
	assert_string_equal(why, "k = \"web.img\": not an absolute path "
	    "without `.', `..' or `//'");
	/* backends: libxl's choice, or a listed one */
	assert_int_equal(judge(&c.recv, MIG_DC_DISK, "standalone",
	    "/srv/xen/a.img", why, sizeof(why)), 1);
	assert_string_equal(why, "k = \"/srv/xen/a.img\": the standalone "
	    "disk backend is not in receive_disk_backends");
	assert_int_equal(judge(&c.recv, MIG_DC_DISK, "9pfs", "/srv/xen",
	    why, sizeof(why)), 0);
	config_free(&c);

	conf(&c, "receive_disk_paths = [ \"/\" ]\n");
	assert_int_equal(judge(&c.recv, MIG_DC_DISK, "phy", "/dev/sda", why,
	    sizeof(why)), 0);
	config_free(&c);

	/* none configured: storage is refused, naming the setting */
	conf(&c, "");
	assert_int_equal(judge(&c.recv, MIG_DC_DISK, "phy", "/srv/xen/a.img",
	    why, sizeof(why)), 1);
	assert_non_null(strstr(why, "to receive_disk_paths"));
	config_free(&c);
}

static void
test_scripts_backends_named(void **state)
{
	struct relocd_conf	c;
	char			why[512];

	(void)state;
	conf(&c, "receive_backend_domains = [ \"netdom\" ]\n"
	    "receive_allow = [ \"pci\" ]\n");
	assert_int_equal(judge(&c.recv, MIG_DC_SCRIPT, "", "vif-bridge", why,
	    sizeof(why)), 0);
	assert_int_equal(judge(&c.recv, MIG_DC_SCRIPT, "",
	    "/etc/xen/scripts/block", why, sizeof(why)), 0);
	assert_int_equal(judge(&c.recv, MIG_DC_SCRIPT, "",
	    "/etc/xen/scripts/../../../tmp/x", why, sizeof(why)), 1);
	assert_int_equal(judge(&c.recv, MIG_DC_SCRIPT, "", "../vif-bridge",
	    why, sizeof(why)), 1);
	assert_int_equal(judge(&c.recv, MIG_DC_SCRIPT, "",
	    "/usr/local/bin/vif-bridge", why, sizeof(why)), 1);
	assert_int_equal(judge(&c.recv, MIG_DC_SCRIPT, "", "vif-custom",
	    why, sizeof(why)), 1);
	assert_string_equal(why, "k = \"vif-custom\": not a hotplug script "
	    "of /etc/xen/scripts named in receive_hotplug_scripts");
	assert_int_equal(judge(&c.recv, MIG_DC_BACKEND, "", "netdom", why,
	    sizeof(why)), 0);
	assert_int_equal(judge(&c.recv, MIG_DC_BACKEND, "", "domid 3", why,
	    sizeof(why)), 1);
	assert_int_equal(judge(&c.recv, MIG_DC_NAMED, "pci", "0000:03:00.0",
	    why, sizeof(why)), 0);
	assert_int_equal(judge(&c.recv, MIG_DC_NAMED, "iomem", "ff000,16",
	    why, sizeof(why)), 1);
	assert_string_equal(why, "k = \"ff000,16\": iomem needs receive_allow "
	    "to name it");
	config_free(&c);

	/* Off: the operator has said an admitted peer is trusted. */
	conf(&c, "receive_policy = 0\n");
	assert_int_equal(judge(&c.recv, MIG_DC_NAMED, "iomem", "ff000,16",
	    why, sizeof(why)), 0);
	assert_int_equal(judge(&c.recv, MIG_DC_DISK, "phy", "/dev/sda", why,
	    sizeof(why)), 0);
	config_free(&c);
}

static void
test_names(void **state)
{
	static const char *const bad[] = {
		"", "../../x", "a/b", "web 1", "-x", ".x", "12345",
		"6a7f0e1c-3b7e-4c8e-9d1a-2b3c4d5e6f70", "Domain-0", "domain-0",
		"web--incoming", "web--migratedaway", "caf\xc3\xa9",
		"a123456789012345678901234567890"
		    "1234567890123456789012345678901234",
	};
	static const char *const good[] = {
		"web", "web1", "web-1.example", "a_b+c:d@e", "1web", "7x",
		"a123456789012345678901234567890"
		    "123456789012345678901234567890123",
	};
	char	why[256];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (policy_name(bad[i], why, sizeof(why)) != 1)
			fail_msg("name \"%s\" accepted", bad[i]);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (policy_name(good[i], why, sizeof(why)) != 0)
			fail_msg("name \"%s\" refused: %s", good[i], why);
	assert_int_equal(policy_name("../../x", why, sizeof(why)), 1);
	assert_string_equal(why, "domain name \"../../x\": only letters, "
	    "digits and . _ + : @ - are accepted");
}

static void
test_identity(void **state)
{
	struct mig_domcfg	c;
	char			why[256];

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(policy_identity(&c, uuid, why, sizeof(why)), 1);
	assert_string_equal(why, "c_info.uuid: the configuration has none, "
	    "the domain is 7e570102-0304-0506-0708-090a0b0c0d0e");
	c.has_uuid = 1;
	memcpy(c.uuid, uuid, 16);
	assert_int_equal(policy_identity(&c, uuid, why, sizeof(why)), 0);
	c.uuid[15] ^= 1;
	assert_int_equal(policy_identity(&c, uuid, why, sizeof(why)), 1);
	assert_string_equal(why, "c_info.uuid = "
	    "\"7e570102-0304-0506-0708-090a0b0c0d0f\": not the domain's uuid "
	    "7e570102-0304-0506-0708-090a0b0c0d0e");
}

/* Several items: the first refused one is reported. */
static void
test_first_refusal(void **state)
{
	struct relocd_conf	c;
	struct mig_domcfg	d;
	struct mig_err		err;
	char			why[512];

	(void)state;
	conf(&c, "receive_disk_paths = [ \"/srv/xen\" ]\n");
	memset(&d, 0, sizeof(d));
	assert_int_equal(mig_domcfg_add(&d, &err, MIG_DC_DISK,
	    "disks[0].pdev_path", "phy", "/srv/xen/a"), 0);
	assert_int_equal(mig_domcfg_add(&d, &err, MIG_DC_NAMED,
	    "b_info.irqs[0]", "irqs", "%u", 9), 0);
	assert_int_equal(mig_domcfg_add(&d, &err, MIG_DC_NAMED,
	    "pcidevs[0]", "pci", "0000:01:00.0"), 0);
	assert_int_equal(policy_check(&c.recv, &d, why, sizeof(why)), 1);
	assert_string_equal(why, "b_info.irqs[0] = \"9\": irqs needs "
	    "receive_allow to name it");
	mig_domcfg_free(&d);
	config_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disk_paths),
		cmocka_unit_test(test_scripts_backends_named),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_first_refusal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
