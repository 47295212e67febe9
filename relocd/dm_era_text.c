/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The text dm_era.c reads and writes: its journal record, and the output
 * of dmsetup status and era_invalidate.  Strict: a record or an output
 * that is not exactly what is expected is an error naming what was
 * wrong, never a guess (a guessed block list would lose writes).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm_era_int.h"

#define REC_MAGIC	"relocd-dm-era 1"
#define ERA_SUFFIX_MAX	sizeof("-relocd-orig")

int
era_name_ok(const char *name)
{
	const char	*p;

	if (name[0] == '\0' || name[0] == '-' || name[0] == '.' ||
	    strlen(name) + ERA_SUFFIX_MAX > ERA_NAME_MAX)
		return -1;
	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("+_.-", *p) == NULL)
			return -1;
	return 0;
}

/* A table's lines: printable, each ending \n, none empty. */
static int
table_ok(const char *t)
{
	const char	*p;

	if (t[0] == '\0' || t[strlen(t) - 1] != '\n')
		return -1;
	for (p = t; *p != '\0'; p++) {
		if (*p == '\n' && (p == t || p[-1] == '\n'))
			return -1;
		if (*p != '\n' && !isprint((unsigned char)*p))
			return -1;
	}
	return 0;
}

int
era_table_has(const char *table, const char *type)
{
	const char	*l, *p;
	size_t		 n = strlen(type);
	int		 f;

	for (l = table; *l != '\0'; l = *p == '\n' ? p + 1 : p) {
		/* START LENGTH TYPE ARGS... */
		for (p = l, f = 0; f < 2; f++) {
			p += strcspn(p, " \n");
			p += strspn(p, " ");
		}
		if (strncmp(p, type, n) == 0 && (p[n] == ' ' || p[n] == '\n' ||
		    p[n] == '\0'))
			return 1;
		p += strcspn(p, "\n");
	}
	return 0;
}

int
era_rec_format(const struct era_rec *r, char *buf, size_t size)
{
	const char	*l, *e;
	size_t		 len;
	int		 n;

	if (era_name_ok(r->name) == -1 || table_ok(r->table) == -1)
		return -1;
	n = snprintf(buf, size, REC_MAGIC "\nname %s\n", r->name);
	if (n < 0 || (size_t)n >= size)
		return -1;
	len = (size_t)n;
	for (l = r->table; *l != '\0'; l = e + 1) {
		e = strchr(l, '\n');
		n = snprintf(buf + len, size - len, "table %.*s\n",
		    (int)(e - l), l);
		if (n < 0 || (size_t)n >= size - len)
			return -1;
		len += (size_t)n;
	}
	n = snprintf(buf + len, size - len, "end\n");
	if (n < 0 || (size_t)n >= size - len)
		return -1;
	return (int)(len + (size_t)n);
}

int
era_rec_parse(const char *s, struct era_rec *r, char *why, size_t size)
{
	const char	*l, *e;
	size_t		 len, tl = 0;
	int		 line, ended = 0;

	memset(r, 0, sizeof(*r));
	for (l = s, line = 1; *l != '\0' && !ended; l = e + 1, line++) {
		if ((e = strchr(l, '\n')) == NULL)
			return snprintf(why, size, "line %d is cut short", line),
			    -1;
		len = (size_t)(e - l);
		if (line == 1) {
			if (len != strlen(REC_MAGIC) ||
			    strncmp(l, REC_MAGIC, len) != 0)
				return snprintf(why, size, "not a dm-era record "
				    "(line 1 is not `" REC_MAGIC "')"), -1;
		} else if (line == 2) {
			if (len < 6 || strncmp(l, "name ", 5) != 0 ||
			    len - 5 >= sizeof(r->name))
				return snprintf(why, size, "line 2 is not "
				    "`name NAME'"), -1;
			memcpy(r->name, l + 5, len - 5);
			if (era_name_ok(r->name) == -1)
				return snprintf(why, size, "`%s' is not a "
				    "volume's name", r->name), -1;
		} else if (len == 3 && strncmp(l, "end", 3) == 0) {
			ended = 1;
		} else if (len > 6 && strncmp(l, "table ", 6) == 0) {
			if (tl + len - 6 + 1 >= sizeof(r->table))
				return snprintf(why, size, "its table is too "
				    "long"), -1;
			memcpy(r->table + tl, l + 6, len - 6);
			tl += len - 6;
			r->table[tl++] = '\n';
		} else
			return snprintf(why, size, "line %d is not `table "
			    "LINE' or `end'", line), -1;
	}
	if (!ended)
		return snprintf(why, size, "no `end' line: the record is cut "
		    "short"), -1;
	if (*l != '\0')
		return snprintf(why, size, "text after `end'"), -1;
	if (table_ok(r->table) == -1)
		return snprintf(why, size, "no table, or a table with control "
		    "characters"), -1;
	return 0;
}

/* --- era_invalidate's output ---------------------------------------- */

static const char *
skip_ws(const char *p)
{
	return p + strspn(p, " \t\r\n");
}

static int
lit(const char **pp, const char *s)
{
	size_t	n = strlen(s);

	if (strncmp(*pp, s, n) != 0)
		return -1;
	*pp += n;
	return 0;
}

/* NAME = "DIGITS", with space allowed around the = (era_invalidate
 * 0.9 writes `end = "E"'). */
static int
attr(const char **pp, const char *name, uint64_t *v)
{
	const char	*p = skip_ws(*pp);
	char		*end;

	if (p == *pp || lit(&p, name) == -1)
		return -1;
	p = skip_ws(p);
	if (lit(&p, "=") == -1)
		return -1;
	p = skip_ws(p);
	if (lit(&p, "\"") == -1 || !isdigit((unsigned char)*p))
		return -1;
	errno = 0;
	*v = strtoull(p, &end, 10);
	if (errno != 0 || *v > UINT32_MAX || *end != '"')
		return -1;
	*pp = end + 1;
	return 0;
}

int
era_blocks_parse(const char *xml, uint32_t bb, uint64_t size,
    struct extents *out, char *why, size_t wsize)
{
	const char	*p = skip_ws(xml), *at;
	uint64_t	 nblocks, b, e, off, end;

	if (bb == 0 || out->n != 0)
		return snprintf(why, wsize, "internal: no block size, or a "
		    "list not empty"), -1;
	nblocks = size / bb + (size % bb != 0);
	if (lit(&p, "<blocks/>") == 0)
		goto done;
	if (lit(&p, "<blocks>") == -1)
		return snprintf(why, wsize, "does not begin with <blocks>"), -1;
	for (;;) {
		at = p = skip_ws(p);
		if (lit(&p, "</blocks>") == 0)
			break;
		if (lit(&p, "<block") == 0) {
			if (attr(&p, "block", &b) == -1)
				goto bad;
			e = b + 1;
		} else if (lit(&p, "<range") == 0) {
			if (attr(&p, "begin", &b) == -1 ||
			    attr(&p, "end", &e) == -1 || e <= b)
				goto bad;
		} else
			goto bad;
		p = skip_ws(p);
		if (lit(&p, "/>") == -1)
			goto bad;
		if (e > nblocks) {
			snprintf(why, wsize, "block %" PRIu64 " is past the "
			    "device's %" PRIu64 " blocks", e - 1, nblocks);
			goto fail;
		}
		off = b * bb;
		end = e * bb < size ? e * bb : size;
		if (extents_add(out, off, end - off) == -1) {
			snprintf(why, wsize, errno == EINVAL ? "blocks not in "
			    "ascending order at `%.32s'" : "out of memory at "
			    "`%.32s'", at);
			goto fail;
		}
	}
 done:
	if (*skip_ws(p) != '\0') {
		snprintf(why, wsize, "text after the block list");
		goto fail;
	}
	return 0;
 bad:
	snprintf(why, wsize, "not a <block block=\"N\"/> or <range begin=\"N\" "
	    "end=\"M\"/> at `%.32s'", at);
 fail:
	extents_free(out);
	return -1;
}

int
era_status_parse(const char *s, uint32_t *era, char *why, size_t size)
{
	char		 buf[256], *tok[8], *save, *end;
	unsigned	 n = 0;
	uint64_t	 v;

	snprintf(buf, sizeof(buf), "%s", s);
	buf[strcspn(buf, "\n")] = '\0';
	while (n < 8 && (tok[n] = strtok_r(n == 0 ? buf : NULL, " ",
	    &save)) != NULL)
		n++;
	/* START LENGTH era MD_BLOCK_SIZE USED/TOTAL ERA HELD_ROOT */
	if (n >= 4 && strcmp(tok[2], "era") == 0 && strcmp(tok[3], "Fail") == 0)
		return snprintf(why, size, "dm-era reports its metadata failed"),
		    -1;
	if (n != 7 || strcmp(tok[2], "era") != 0 ||
	    strchr(tok[4], '/') == NULL || !isdigit((unsigned char)*tok[5]))
		return snprintf(why, size, "not an era target's status: "
		    "`%.60s'", s), -1;
	errno = 0;
	v = strtoull(tok[5], &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return snprintf(why, size, "era `%.20s' is not a number",
		    tok[5]), -1;
	*era = (uint32_t)v;
	return 0;
}
