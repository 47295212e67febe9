/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Before a save pauses anything: will the image fit where it is going?
 * A save that runs out of room is undone safely (file_job.c: the writer
 * aborts, the guest resumes), but only after the guest was suspended for
 * the whole of what was written; on a USB stick that is many seconds of
 * downtime for nothing.  So file_save() asks first, from what statvfs(2),
 * statfs(2) and getrlimit(2) say of the destination, and refuses with the
 * file system, the sizes and the way out.
 *
 * The estimate (save_estimate) is what libxc and libxl write for the
 * guest's current allocation: every page (4 KiB), its pfn in the
 * PAGE_DATA record (8 bytes a page), the configuration, and 1 MiB for the
 * headers, the libxl records and the image's own header and trailer.  An
 * HVM-type guest's (PVH or HVM) save walks its whole pfn space, and every
 * pfn of it costs 8 bytes, a hole as much as memory: that space runs to
 * the special pages just below 4 GiB whatever the guest's size (a
 * 128 MiB PVH guest: 1044480 pfns, 32784 of them memory, so 8 MiB of
 * pfns for holes; its image 142.7 MB), and on past 4 GiB by what memory
 * was put above the MMIO hole: at most 4 GiB of pfns plus the guest's
 * largest size.
 * An HVM guest's device model adds its state (EMULATOR_CONTEXT: QEMU's
 * device registers; the guest's RAM is Xen's, not QEMU's); not measured
 * here (HVM does not boot in the lab), so a generous EMULATOR_MIB.  The
 * estimate is an upper bound for an uncompressed image (ballooned-out
 * pages are not written).  A compressed image's size depends on the guest's memory
 * and cannot be known before: such a save is never refused on size, only
 * warned about, and if it does fill the disk it is undone like any other.
 */
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <linux/magic.h>

#include "mig/image.h"
#include "mig/log.h"
#include "save_check.h"

#define MIB		(1024 * 1024)
#define FAT_MAX_FILE	UINT64_C(0xffffffff)	/* 4 GiB - 1 */
#define HVM_SPACE_PFNS	(UINT64_C(4) << 18)	/* 4 GiB of 4 KiB pfns */
#define EMULATOR_MIB	4

uint64_t
save_estimate(const struct mig_hv_dominfo *dom, size_t config_len)
{
	uint64_t	pfns = dom->mem_kib / 4, extra = 0, most;

	if (dom->type == MIG_HV_TYPE_PVH || dom->type == MIG_HV_TYPE_HVM) {
		most = dom->maxmem_kib > dom->mem_kib ? dom->maxmem_kib :
		    dom->mem_kib;
		pfns = HVM_SPACE_PFNS + most / 4;
	}
	if (dom->type == MIG_HV_TYPE_HVM)
		extra = EMULATOR_MIB * MIB;
	return dom->mem_kib * 1024 + pfns * 8 + config_len + MIB + extra;
}

int
save_fs_probe(const char *path, struct save_fs *fs, struct mig_err *err)
{
	struct statvfs	sv;
	struct statfs	sf;
	struct rlimit	rl;
	char		dir[PATH_MAX];

	memset(fs, 0, sizeof(*fs));
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return mig_seterr(err, MIG_E_INVAL, "%s: path too long", path);
	/* dirname() may rewrite its argument: dir is our copy. */
	snprintf(fs->dir, sizeof(fs->dir), "%s", dirname(dir));
	if (statvfs(fs->dir, &sv) == -1 || statfs(fs->dir, &sf) == -1)
		return mig_seterrno(err, MIG_E_IO, "%s", fs->dir);
	fs->free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
	fs->fs_type = sf.f_type;
	snprintf(fs->fs_name, sizeof(fs->fs_name), "%s", mig_fs_name(sf.f_type));
	fs->max_file = UINT64_MAX;
	if (sf.f_type == MSDOS_SUPER_MAGIC) {
		fs->max_file = FAT_MAX_FILE;
		snprintf(fs->max_why, sizeof(fs->max_why), "the largest file "
		    "FAT can hold (4 GiB - 1)");
		snprintf(fs->max_fix, sizeof(fs->max_fix), "save to a file "
		    "system without that limit (ext4, xfs, exfat)");
	}
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (uint64_t)rl.rlim_cur < fs->max_file) {
		fs->max_file = rl.rlim_cur;
		snprintf(fs->max_why, sizeof(fs->max_why), "this process's "
		    "file size limit (RLIMIT_FSIZE, ulimit -f)");
		snprintf(fs->max_fix, sizeof(fs->max_fix), "raise the limit "
		    "of the process that saves (relocd, or xl-reloc --direct)");
	}
	return 0;
}

/* MiB, rounded up, for messages. */
static uint64_t
mib(uint64_t bytes)
{
	return (bytes + MIB - 1) / MIB;
}

/*
 * An image that does not fit: refused, with the way out, or for a
 * compressed one (its size unknown) only a warning.
 */
static int __attribute__((format(printf, 5, 6)))
too_big(const struct save_fs *fs, int compressed, const char *fix,
    struct mig_err *err, const char *fmt, ...)
{
	char	what[MIG_ERRLEN];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (compressed) {
		mig_log_warnx("%s: %s (uncompressed); saving compressed", fs->dir,
		    what);
		return 0;
	}
	return mig_seterr(err, MIG_E_TOOBIG, "%s on %s: %s: %s, or try "
	    "--compress", fs->dir, fs->fs_name, what, fix);
}

int
save_fits(const struct save_fs *fs, uint64_t need, int compressed,
    uint64_t split, struct mig_err *err)
{
	char		fix[160];
	uint64_t	parts, part_max;

	/* The largest part that fits, in whole MiB, for the way out. */
	part_max = fs->max_file > MIG_IMAGE_PART_HDR + MIB ?
	    (fs->max_file - MIG_IMAGE_PART_HDR) / MIB : 0;
	if (split != 0 && split + MIG_IMAGE_PART_HDR > fs->max_file) {
		snprintf(fix, sizeof(fix), "%s%" PRIu64 "M or less", part_max ?
		    "--split " : "", part_max);
		return too_big(fs, 0, part_max ? fix : fs->max_fix, err,
		    "parts of %" PRIu64 " MiB (--split) are larger than %s, "
		    "%" PRIu64 " MiB", mib(split), fs->max_why,
		    fs->max_file / MIB);
	}
	parts = split != 0 ? (need + split - 1) / split : 1;
	if (parts > MIG_IMAGE_SPLIT_PARTS)
		return too_big(fs, compressed, "a larger --split", err, "the "
		    "image needs up to %" PRIu64 " MiB, more than %d parts of "
		    "%" PRIu64 " MiB", mib(need), MIG_IMAGE_SPLIT_PARTS,
		    mib(split));
	if (split == 0 && need > fs->max_file) {
		if (part_max > 0)
			snprintf(fix, sizeof(fix), "split it (--split %" PRIu64
			    "M), %s", part_max, fs->max_fix);
		else
			snprintf(fix, sizeof(fix), "%s", fs->max_fix);
		return too_big(fs, compressed, fix, err, "the image needs up "
		    "to %" PRIu64 " MiB, more than %s, %" PRIu64 " MiB",
		    mib(need), fs->max_why, fs->max_file / MIB);
	}
	if (split != 0)
		need += parts * MIG_IMAGE_PART_HDR;
	if (need > fs->free_bytes)
		return too_big(fs, compressed, "free some space or save "
		    "elsewhere", err, "%" PRIu64 " MiB free, the image needs "
		    "up to %" PRIu64 " MiB", fs->free_bytes / MIB, mib(need));
	return 0;
}
