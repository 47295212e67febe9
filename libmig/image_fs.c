/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The file system under an image, for messages.  Where an image goes
 * decides what a failure means: EIO on a local disk is the disk, on NFS
 * it is as often a server that stopped answering a soft mount, and
 * ESTALE only happens on a network file system (the file, or the export,
 * changed under the client).  So every I/O error of an image names the
 * file system, and for those two says what it likely means there.
 */
#include <sys/stat.h>
#include <sys/statfs.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <linux/magic.h>

#include "mig/image.h"
#include "image_file.h"

#define NTFS_MAGIC	0x5346544e	/* "NTFS": not in linux/magic.h */
#define CIFS_MAGIC	0xff534d42	/* cifs; SMB2_MAGIC_NUMBER is smb3's */
#define SMB2_MAGIC	0xfe534d42

/* The file systems an image is likely to meet, by statfs(2) f_type. */
static const struct {
	long		 type;
	const char	*name;
} fs_names[] = {
	{ MSDOS_SUPER_MAGIC,	"vfat (FAT)" },
	{ EXFAT_SUPER_MAGIC,	"exfat" },
	{ NFS_SUPER_MAGIC,	"nfs" },
	{ CIFS_MAGIC,		"cifs" },
	{ SMB2_MAGIC,		"smb3" },
	{ EXT4_SUPER_MAGIC,	"ext2/3/4" },
	{ XFS_SUPER_MAGIC,	"xfs" },
	{ BTRFS_SUPER_MAGIC,	"btrfs" },
	{ TMPFS_MAGIC,		"tmpfs" },
	{ NTFS_MAGIC,		"ntfs" },
	{ FUSE_SUPER_MAGIC,	"fuse" },
};

const char *
mig_fs_name(long type)
{
	size_t	i;

	for (i = 0; i < sizeof(fs_names) / sizeof(fs_names[0]); i++)
		if (fs_names[i].type == type)
			return fs_names[i].name;
	return "a file system";
}

static bool
network_fs(long type)
{
	return type == NFS_SUPER_MAGIC || type == CIFS_MAGIC ||
	    type == SMB2_MAGIC;
}

long
img_fs_type(int fd)
{
	struct statfs	sf;
	struct stat	st;

	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    fstatfs(fd, &sf) == -1)
		return 0;
	return (long)sf.f_type;
}

int
img_io_err(struct mig_err *err, long fs_type, const char *fmt, ...)
{
	char		 what[MIG_ERRLEN];
	const char	*hint = "";
	int		 e = errno;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (e == ESTALE)
		hint = " (the file or its directory was removed or "
		    "re-exported on the server)";
	else if (network_fs(fs_type) && (e == EIO || e == ETIMEDOUT))
		hint = " (the server stopped answering, or failed the "
		    "request)";
	mig_seterr(err, MIG_E_IO, "%s%s%s: %s%s", what, fs_type ? " on " : "",
	    fs_type ? mig_fs_name(fs_type) : "", strerror(e), hint);
	errno = e;
	return -1;
}
