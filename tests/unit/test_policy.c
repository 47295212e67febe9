/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The receive policy (common/policy.c) on hand-made lists of what a
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

#include "mig/domcfg.h"
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

/* One item, and what the policy must say of it: 0, or 1 and (unless
 * NULL) why, whole. */
struct ruling {
	int		 kind;
	const char	*what;
	const char	*value;
	int		 refused;
	const char	*why;
};

/* Each item of RULINGS, alone, before policy P. */
static void
judge_all(const struct recv_policy *p, const struct ruling *r, size_t n)
{
	struct mig_domcfg	c;
	struct mig_err		err;
	char			why[512];
	size_t			i;
	int			rc;

	for (i = 0; i < n; i++) {
		memset(&c, 0, sizeof(c));
		assert_int_equal(mig_domcfg_add(&c, &err, r[i].kind, "k",
		    r[i].what, "%s", r[i].value), 0);
		why[0] = '\0';
		rc = policy_check(p, &c, why, sizeof(why));
		mig_domcfg_free(&c);
		if (rc != r[i].refused)
			fail_msg("%s \"%s\": %s", r[i].what, r[i].value,
			    rc ? why : "allowed");
		if (r[i].why != NULL)
			assert_string_equal(why, r[i].why);
	}
}

#define JUDGE(p, r)	judge_all((p), (r), sizeof(r) / sizeof((r)[0]))

static void
test_disk_paths(void **state)
{
	static const struct ruling listed[] = {
		{ MIG_DC_DISK, "phy", "/srv/xen/a.img", 0, NULL },
		{ MIG_DC_DISK, "", "/dev/vg0/web", 0, NULL },
		{ MIG_DC_DISK, "phy", "/dev/sdb", 0, NULL },
		{ MIG_DC_DISK, "phy", "/dev/vg0", 0, NULL },
		/* an empty CD-ROM drive opens nothing */
		{ MIG_DC_DISK, "phy", "", 0, NULL },
		/* a prefix is not a directory */
		{ MIG_DC_DISK, "phy", "/dev/vg01/web", 1, "k = "
		    "\"/dev/vg01/web\": not under any receive_disk_paths "
		    "entry" },
		{ MIG_DC_DISK, "phy", "/dev/sdb1", 1, NULL },
		/* nothing that leaves a directory, however spelt */
		{ MIG_DC_DISK, "phy", "/srv/xen/../../etc/shadow", 1, NULL },
		{ MIG_DC_DISK, "phy", "/srv/xen/./a", 1, NULL },
		{ MIG_DC_DISK, "phy", "/srv/xen//a", 1, NULL },
		{ MIG_DC_DISK, "qdisk", "web.img", 1, "k = \"web.img\": not "
		    "an absolute path without `.', `..' or `//'" },
		/* backends: libxl's choice, or a listed one */
		{ MIG_DC_DISK, "standalone", "/srv/xen/a.img", 1, "k = "
		    "\"/srv/xen/a.img\": the standalone disk backend is not "
		    "in receive_disk_backends" },
		{ MIG_DC_DISK, "9pfs", "/srv/xen", 0, NULL },
	};
	static const struct ruling root[] = {
		{ MIG_DC_DISK, "phy", "/dev/sda", 0, NULL },
	};
	/* none configured: storage is refused, naming the setting */
	static const struct ruling none[] = {
		{ MIG_DC_DISK, "phy", "/srv/xen/a.img", 1, "k = "
		    "\"/srv/xen/a.img\": no storage may be received here: add "
		    "its directory or volume group (/dev/VG) to "
		    "receive_disk_paths" },
	};
	struct relocd_conf	c;

	(void)state;
	conf(&c, "receive_disk_paths = [ \"/srv/xen/\", \"/dev/vg0\", "
	    "\"/dev/sdb\" ]\n");
	JUDGE(&c.recv, listed);
	config_free(&c);
	conf(&c, "receive_disk_paths = [ \"/\" ]\n");
	JUDGE(&c.recv, root);
	config_free(&c);
	conf(&c, "");
	JUDGE(&c.recv, none);
	config_free(&c);
}

static void
test_scripts_backends_named(void **state)
{
	static const struct ruling on[] = {
		{ MIG_DC_SCRIPT, "", "vif-bridge", 0, NULL },
		{ MIG_DC_SCRIPT, "", "/etc/xen/scripts/block", 0, NULL },
		{ MIG_DC_SCRIPT, "", "/etc/xen/scripts/../../../tmp/x", 1,
		    NULL },
		{ MIG_DC_SCRIPT, "", "../vif-bridge", 1, NULL },
		{ MIG_DC_SCRIPT, "", "/usr/local/bin/vif-bridge", 1, NULL },
		{ MIG_DC_SCRIPT, "", "vif-custom", 1, "k = \"vif-custom\": not "
		    "a hotplug script of /etc/xen/scripts named in "
		    "receive_hotplug_scripts" },
		{ MIG_DC_BACKEND, "", "netdom", 0, NULL },
		{ MIG_DC_BACKEND, "", "domid 3", 1, NULL },
		{ MIG_DC_NAMED, "pci", "0000:03:00.0", 0, NULL },
		{ MIG_DC_NAMED, "iomem", "ff000,16", 1, "k = \"ff000,16\": "
		    "iomem needs receive_allow to name it" },
	};
	/* Off: the operator has said an admitted peer is trusted. */
	static const struct ruling off[] = {
		{ MIG_DC_NAMED, "iomem", "ff000,16", 0, NULL },
		{ MIG_DC_DISK, "phy", "/dev/sda", 0, NULL },
		{ MIG_DC_SCRIPT, "", "/tmp/x", 0, NULL },
	};
	struct relocd_conf	c;

	(void)state;
	conf(&c, "receive_backend_domains = [ \"netdom\" ]\n"
	    "receive_allow = [ \"pci\" ]\n");
	JUDGE(&c.recv, on);
	config_free(&c);
	conf(&c, "receive_policy = 0\n");
	JUDGE(&c.recv, off);
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
/* storage_map: what relocd.conf accepts, and where a disk then goes. */
static void
test_storage_map(void **state)
{
	static const char *const bad[] = {
		"/dev/vg0", "/dev/vg0=", "=/dev/vg1", "dev/vg0=/dev/vg1",
		"/dev/vg0=/dev/vg1/", "/dev//vg0=/dev/vg1", "/=/srv",
		"/srv/../etc=/srv/x", "/srv=/",
	};
	/* A prefix is a whole component (/dev/vg01 is not under
	 * /dev/vg0); the first entry that matches wins. */
	static const char *const maps[][2] = {
		{ "/dev/vg0/web", "/dev/vg_guests/web" },
		{ "/dev/vg01/web", "/dev/vg01/web" },
		{ "/srv/xen/a/web.img", "/var/lib/xen/images/a/web.img" },
		{ "/srv/other.img", "/data/other.img" },
	};
	struct relocd_conf	 c;
	struct mig_err		 err;
	char			 text[256], out[PATH_MAX];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "storage_map = [ \"%s\" ]\n",
		    bad[i]);
		config_defaults(&c);
		if (config_load_data("t.conf", text, strlen(text), &c,
		    &err) != -1)
			fail_msg("storage_map %s accepted", bad[i]);
		assert_non_null(strstr(err.msg, "storage_map"));
		config_free(&c);
	}
	conf(&c, "storage_map = [ \"/dev/vg0=/dev/vg_guests\", "
	    "\"/srv/xen=/var/lib/xen/images\", \"/srv=/data\" ]\n");
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		assert_int_equal(storage_map_apply(&c.recv.storage_map,
		    maps[i][0], out, sizeof(out)), 0);
		assert_string_equal(out, maps[i][1]);
	}
	assert_int_equal(storage_map_apply(&c.recv.storage_map,
	    "/dev/vg0/web", out, 10), -1);
	config_free(&c);
}

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
		cmocka_unit_test(test_storage_map),
		cmocka_unit_test(test_first_refusal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
