/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * storage_map: where a disk that moves with its domain goes on this host.
 * Each entry is "FROM=TO", two absolute paths: a disk whose path at the
 * source is FROM, or under the directory FROM, goes to the same place
 * under TO ("/dev/vg0=/dev/vg1" moves /dev/vg0/web-disk to
 * /dev/vg1/web-disk, "/srv/xen=/var/lib/xen/images" moves image files).
 * The first entry that matches wins; with none, a disk keeps its path.
 * Where it lands is then judged by the receive policy like any disk
 * path (receive_disk_paths), so a map can never put a disk where the
 * policy would not let a configuration name one.
 */
#include <stdio.h>
#include <string.h>

#include "mig/error.h"
#include "reloc.h"

/* Splits "FROM=TO" in place of copies; 0 when well formed. */
static int
split(const char *e, char *from, char *to, size_t size)
{
	const char	*eq = strchr(e, '=');

	if (eq == NULL || (size_t)(eq - e) >= size || strlen(eq + 1) >= size)
		return -1;
	snprintf(from, size, "%.*s", (int)(eq - e), e);
	snprintf(to, size, "%s", eq + 1);
	return policy_path_plain(from) && policy_path_plain(to) &&
	    strcmp(from, "/") != 0 && strcmp(to, "/") != 0 ? 0 : -1;
}

int
storage_map_check(const char *file, const struct strlist *l,
    struct mig_err *err)
{
	char	from[PATH_MAX], to[PATH_MAX];
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (split(l->v[i], from, to, sizeof(from)) == -1)
			return mig_seterr(err, MIG_E_INVAL, "%s: storage_map: "
			    "`%s' is not FROM=TO, two absolute paths other than "
			    "/ without `.', `..' or `//'", file, l->v[i]);
	return 0;
}

int
storage_map_apply(const struct strlist *l, const char *path, char *out,
    size_t size)
{
	char	from[PATH_MAX], to[PATH_MAX];
	size_t	i, len;

	for (i = 0; i < l->n; i++) {
		if (split(l->v[i], from, to, sizeof(from)) == -1 ||
		    (len = policy_path_under(from, path)) == 0)
			continue;
		return snprintf(out, size, "%s%s", to, path + len) >=
		    (int)size ? -1 : 0;
	}
	return snprintf(out, size, "%s", path) >= (int)size ? -1 : 0;
}
