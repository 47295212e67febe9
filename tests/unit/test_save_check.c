/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whether a save's image fits, decided before the guest pauses: the
 * estimate, a FAT stick's 4 GiB file limit, a full disk, a compressed
 * save that is only warned about, and what the probe reads of a real
 * directory and of RLIMIT_FSIZE.
 */
#include <sys/resource.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mig/error.h"
#include "mig/hv.h"
#include "save_check.h"

#define MIB	(UINT64_C(1) << 20)
#define GIB	(UINT64_C(1) << 30)

static struct save_fs
fs_of(const char *name, uint64_t free_bytes, uint64_t max_file)
{
	struct save_fs	fs;

	memset(&fs, 0, sizeof(fs));
	snprintf(fs.dir, sizeof(fs.dir), "/media/usb");
	snprintf(fs.fs_name, sizeof(fs.fs_name), "%s", name);
	fs.free_bytes = free_bytes;
	fs.max_file = max_file;
	snprintf(fs.max_why, sizeof(fs.max_why), "the largest file FAT can "
	    "hold (4 GiB - 1)");
	snprintf(fs.max_fix, sizeof(fs.max_fix), "save to a file system "
	    "without that limit (ext4, xfs, exfat)");
	return fs;
}

static struct mig_hv_dominfo
dom_of(int type, uint64_t mem_kib, uint64_t maxmem_kib)
{
	struct mig_hv_dominfo	d;

	memset(&d, 0, sizeof(d));
	d.type = type;
	d.mem_kib = mem_kib;
	d.maxmem_kib = maxmem_kib;
	return d;
}

/* A PV guest: every page, 8 bytes of pfn for each, the config and 1 MiB;
 * a type we cannot tell is priced as PV. */
static void
test_estimate(void **state)
{
	struct mig_hv_dominfo	d = dom_of(MIG_HV_TYPE_PV, 16384, 16384);

	(void)state;
	assert_int_equal(save_estimate(&d, 100), 16 * MIB + 4096 * 8 + 100 +
	    MIB);
	d.type = MIG_HV_TYPE_UNKNOWN;
	assert_int_equal(save_estimate(&d, 100), 16 * MIB + 4096 * 8 + 100 +
	    MIB);
	d = dom_of(MIG_HV_TYPE_PV, 6 * 1024 * 1024, 6 * 1024 * 1024);
	assert_true(save_estimate(&d, 3000) > 6 * GIB);
}

/*
 * An HVM-type guest's image carries a pfn for every page of its pfn
 * space, holes too, up to the special pages below 4 GiB.  A real one:
 * xl-reloc save of the lab's 128 MiB PVH witness (Xen 4.17, pvh-relocd),
 * PVH_REAL_BYTES; priced as PV, it would be 7 MiB short.
 */
#define PVH_REAL_BYTES	UINT64_C(142660758)

static void
test_estimate_hvm_types(void **state)
{
	struct mig_hv_dominfo	d = dom_of(MIG_HV_TYPE_PVH, 131072, 131072);
	uint64_t		pvh, hvm;

	(void)state;
	pvh = save_estimate(&d, 3000);
	assert_true(pvh >= PVH_REAL_BYTES);
	assert_true(pvh < PVH_REAL_BYTES + 4 * MIB);	/* a bound, not a guess */
	d.type = MIG_HV_TYPE_PV;
	assert_true(save_estimate(&d, 3000) < PVH_REAL_BYTES);
	/* HVM: the same space, and its device model's state */
	d.type = MIG_HV_TYPE_HVM;
	hvm = save_estimate(&d, 3000);
	assert_true(hvm >= pvh + 4 * MIB);
	/* Memory above the MMIO hole moves the end of the space past 4 GiB
	 * by what did not fit below: for a 6 GiB guest, whatever the hole
	 * (all of the 4 GiB at worst), no further than 4 + 6 GiB. */
	d = dom_of(MIG_HV_TYPE_PVH, 6 * 1024 * 1024, 6 * 1024 * 1024);
	assert_true(save_estimate(&d, 3000) >= 6 * GIB + (4 * GIB + 6 * GIB) /
	    4096 * 8);
	/* A guest ballooned down to 1 GiB of 4 keeps the space of 4: its
	 * pfns are priced at the largest size, its pages at the current. */
	d = dom_of(MIG_HV_TYPE_PVH, 1024 * 1024, 4 * 1024 * 1024);
	pvh = save_estimate(&d, 3000);
	assert_true(pvh >= GIB + (4 * GIB + 4 * GIB) / 4096 * 8);
	assert_true(pvh < 2 * GIB);
}

/* A 6 GiB guest onto a FAT32 stick with room to spare: refused, with
 * the file system, both sizes and the way out. */
static void
test_fat_limit(void **state)
{
	struct save_fs		fs = fs_of("vfat (FAT)", 30 * GIB, 0xffffffff);
	struct mig_hv_dominfo	d = dom_of(MIG_HV_TYPE_PV, 6 * 1024 * 1024,
				    6 * 1024 * 1024);
	struct mig_err		err;

	(void)state;
	assert_int_equal(save_fits(&fs, save_estimate(&d, 3000), 0, 0, &err),
	    -1);
	assert_int_equal(err.code, MIG_E_TOOBIG);
	assert_non_null(strstr(err.msg, "/media/usb on vfat (FAT)"));
	assert_non_null(strstr(err.msg, "needs up to 6158 MiB"));
	assert_non_null(strstr(err.msg, "4 GiB - 1), 4095 MiB"));
	assert_non_null(strstr(err.msg, "4095 MiB: split it (--split 4095M), "
	    "save to a file system without that limit (ext4, xfs, exfat), "
	    "or try --compress"));
	/* a 2 GiB guest fits */
	d.mem_kib = d.maxmem_kib = 2 * 1024 * 1024;
	assert_int_equal(save_fits(&fs, save_estimate(&d, 3000), 0, 0, &err),
	    0);
}

/* Split, it fits, if its parts do (and there are not too many). */
static void
test_fat_split(void **state)
{
	struct save_fs		fs = fs_of("vfat (FAT)", 30 * GIB, 0xffffffff);
	struct mig_hv_dominfo	d = dom_of(MIG_HV_TYPE_PV, 6 * 1024 * 1024,
				    6 * 1024 * 1024);
	uint64_t		need = save_estimate(&d, 3000);
	struct mig_err		err;

	(void)state;
	assert_int_equal(save_fits(&fs, need, 0, 4000 * MIB, &err), 0);
	assert_int_equal(save_fits(&fs, need, 0, 4095 * MIB, &err), 0);
	assert_int_equal(save_fits(&fs, need, 0, 4 * GIB, &err), -1);
	assert_non_null(strstr(err.msg, "parts of 4096 MiB (--split) are "
	    "larger than the largest file FAT can hold (4 GiB - 1), 4095 MiB: "
	    "--split 4095M or less"));
	assert_int_equal(save_fits(&fs, need, 0, 4 * MIB, &err), -1);
	assert_non_null(strstr(err.msg, "needs up to 6158 MiB, more than "
	    "1000 parts of 4 MiB: a larger --split"));
	/* the parts need room too */
	fs.free_bytes = 5 * GIB;
	assert_int_equal(save_fits(&fs, need, 0, 4000 * MIB, &err), -1);
	assert_non_null(strstr(err.msg, "5120 MiB free, the image needs up "
	    "to 6158 MiB"));
}

static void
test_full_disk(void **state)
{
	struct save_fs	fs = fs_of("ext2/3/4", 100 * MIB, UINT64_MAX);
	struct mig_err	err;

	(void)state;
	assert_int_equal(save_fits(&fs, 200 * MIB, 0, 0, &err), -1);
	assert_int_equal(err.code, MIG_E_TOOBIG);
	assert_non_null(strstr(err.msg, "100 MiB free, the image needs up "
	    "to 200 MiB"));
	assert_int_equal(save_fits(&fs, 99 * MIB, 0, 0, &err), 0);
}

/* Its size unknown, a compressed image is never refused on size. */
static void
test_compressed_only_warns(void **state)
{
	struct save_fs	fs = fs_of("vfat (FAT)", 100 * MIB, 0xffffffff);
	struct mig_err	err;

	(void)state;
	assert_int_equal(save_fits(&fs, 6 * GIB, 1, 0, &err), 0);
}

/* A real directory, and this process's file size limit as the largest
 * file when it is the smaller. */
static void
test_probe(void **state)
{
	struct save_fs	fs;
	struct mig_err	err;
	struct rlimit	old, rl;
	char		dir[] = "/tmp/test_save_check.XXXXXX", path[64];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dom.xl", dir);
	assert_int_equal(save_fs_probe(path, &fs, &err), 0);
	assert_string_equal(fs.dir, dir);
	assert_true(fs.free_bytes > 0);
	assert_true(fs.fs_name[0] != '\0');
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	rl = old;
	rl.rlim_cur = 64 * MIB;	/* well above what this test writes */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	assert_int_equal(save_fs_probe(path, &fs, &err), 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(fs.max_file, 64 * MIB);
	assert_non_null(strstr(fs.max_why, "RLIMIT_FSIZE"));
	assert_int_equal(save_fs_probe("/nonexistent/dir/dom.xl", &fs, &err),
	    -1);
	assert_non_null(strstr(err.msg, "/nonexistent/dir"));
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_estimate),
		cmocka_unit_test(test_estimate_hvm_types),
		cmocka_unit_test(test_fat_limit),
		cmocka_unit_test(test_fat_split),
		cmocka_unit_test(test_full_disk),
		cmocka_unit_test(test_compressed_only_warns),
		cmocka_unit_test(test_probe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
