/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The list of what a domain configuration asks of its host (domcfg.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/domcfg.h"
#include "mig/error.h"

int
mig_domcfg_add(struct mig_domcfg *c, struct mig_err *err, int kind,
    const char *where, const char *what, const char *fmt, ...)
{
	struct mig_domcfg_item	*v, *it;
	va_list			 ap;
	char			*s;
	int			 rc;

	va_start(ap, fmt);
	rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (rc == -1)
		return mig_seterrno(err, MIG_E_NOMEM, "domain configuration");
	if ((v = reallocarray(c->items, c->n + 1, sizeof(*v))) == NULL) {
		free(s);
		return mig_seterrno(err, MIG_E_NOMEM, "domain configuration");
	}
	c->items = v;
	it = &v[c->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	snprintf(it->where, sizeof(it->where), "%s", where);
	snprintf(it->what, sizeof(it->what), "%s", what);
	it->value = s;
	return 0;
}

void
mig_domcfg_free(struct mig_domcfg *c)
{
	size_t	i;

	for (i = 0; i < c->n; i++)
		free(c->items[i].value);
	free(c->items);
	free(c->name);
	memset(c, 0, sizeof(*c));
}
