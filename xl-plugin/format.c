/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --format FIELD[,FIELD...]: the fields asked for, tab-separated, one line
 * per row, no header: what a shell script reads with "read -r", without
 * parsing JSON with sed.  A tab, newline or backslash in a value is
 * written as \t, \n or \\, so a line is always one row.
 */
#include <stdio.h>
#include <string.h>

#include "xl-reloc.h"

static int
field_index(const char *const *names, const char *name, size_t len)
{
	int	i;

	for (i = 0; names[i] != NULL; i++)
		if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0)
			return i;
	return -1;
}

int
format_check(const char *cmd, const char *spec, const char *const *names,
    struct mig_err *err)
{
	const char	*p = spec;
	size_t		 len;
	char		 all[256];
	int		 i, o = 0;

	do {
		len = strcspn(p, ",");
		if (field_index(names, p, len) == -1) {
			for (i = 0; names[i] != NULL; i++)
				o += snprintf(all + o, sizeof(all) - (size_t)o,
				    "%s%s", i ? " " : "", names[i]);
			return mig_seterr(err, MIG_E_INVAL, "%s: --format: no "
			    "field '%.*s' (fields: %s)", cmd, (int)len, p, all);
		}
		p += len;
	} while (*p++ == ',');
	return 0;
}

void
format_row(FILE *out, const char *spec, const char *const *names,
    const char *const *values)
{
	const char	*p = spec, *v;
	size_t		 len;
	int		 first = 1;

	do {
		len = strcspn(p, ",");
		if (!first)
			fputc('\t', out);
		first = 0;
		for (v = values[field_index(names, p, len)]; *v != '\0'; v++) {
			if (*v == '\t')
				fputs("\\t", out);
			else if (*v == '\n')
				fputs("\\n", out);
			else if (*v == '\\')
				fputs("\\\\", out);
			else
				fputc(*v, out);
		}
		p += len;
	} while (*p++ == ',');
	fputc('\n', out);
}
