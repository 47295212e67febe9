/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xl-reloc's option parser (args.c) on a table of every argument kind, the
 * real commands' tables, and the drift check: every option of every
 * command's table must be in "xl-reloc help CMD", in the man page's
 * SYNOPSIS for CMD and in CMD's bash completion, and those two may offer
 * no option the table does not have.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "xl-reloc.h"

#define ARGC(a)	((int)(sizeof(a) / sizeof((a)[0])))

/* --- the parser, on a table with one option of each kind --- */

struct t_args {
	uint32_t	flags;
	bool		on;
	char		str[8];
	uint16_t	port;
	uint64_t	rate;
	uint32_t	ms;
	unsigned	count;
	char		file[64];
	int		taken;
	bool		help;
};

static int
t_take(void *args, const char *v, struct mig_err *err)
{
	struct t_args	*a = args;

	if (strcmp(v, "bad") == 0)
		return mig_seterr(err, MIG_E_INVAL, "t: --take: not that");
	a->taken++;
	return 0;
}

#define T	struct t_args
static const struct xr_opt t_opts[] = {
	{ .name = "on", .letter = 'o', .set = 1, XR_AT(T, on), .help = "on" },
	{ .name = "bit", .letter = 'b', .set = 4, XR_AT(T, flags),
	  .help = "bit 2" },
	{ .name = "no-one", .clear = 1, XR_AT(T, flags), .help = "no bit 0" },
	{ .name = "str", .letter = 's', .kind = XA_STRING, .arg = "S",
	  XR_AT(T, str), .help = "a string" },
	{ .name = "port", .kind = XA_PORT, .arg = "N", XR_AT(T, port),
	  .help = "a port" },
	{ .name = "rate", .kind = XA_RATE, .arg = "RATE", XR_AT(T, rate),
	  .help = "a rate" },
	{ .name = "ms", .kind = XA_MS, .arg = "MS", XR_AT(T, ms), .min = 1,
	  .max = 1000, .help = "a time" },
	{ .name = "count", .letter = 'n', .kind = XA_COUNT, .arg = "N",
	  XR_AT(T, count), .min = 2, .max = 5, .help = "a count" },
	{ .name = "file", .kind = XA_FILE, .arg = "FILE", XR_AT(T, file),
	  .help = "a file" },
	{ .name = "take", .kind = XA_STRING, .arg = "X", .take = t_take,
	  .help = "a hook" },
	{ .name = NULL }
};
#undef T
static const struct xr_cmd t_cmd = { "t", NULL, "[options] ARG...",
    "a test", t_opts, false, 0, -1, NULL };
static const struct xr_cmd t_ordered = { "t", NULL, "[options] ARG...",
    "a test", t_opts, true, 0, -1, NULL };

static int
t_parse(const struct xr_cmd *c, int argc, char **argv, struct t_args *a,
    struct mig_err *err)
{
	memset(a, 0, sizeof(*a));
	a->flags = 1;
	return args_parse(c, argc, argv, a, &a->help, err);
}

static void
test_every_kind(void **state)
{
	char *argv[] = { "t", "--on", "--bit", "--no-one", "--str", "abc",
	    "--port", "65535", "--rate", "1G", "--ms", "1000", "--count", "2",
	    "--file", "/x/y", "--take", "v", "--take", "w", "op1", "op2" };
	char *shorts[] = { "t", "-bo", "-s", "xyz", "-n5", "op" };
	struct t_args	a;
	struct mig_err	err;

	assert_int_equal(t_parse(&t_cmd, ARGC(argv), argv, &a, &err), 20);
	assert_true(a.on);
	assert_int_equal(a.flags, 4);
	assert_string_equal(a.str, "abc");
	assert_int_equal(a.port, 65535);
	assert_true(a.rate == 1ULL << 30);
	assert_int_equal(a.ms, 1000);
	assert_int_equal(a.count, 2);
	assert_string_equal(a.file, "/x/y");
	assert_int_equal(a.taken, 2);
	assert_false(a.help);
	assert_string_equal(argv[20], "op1");

	/* short letters, bundled, and a value stuck to its letter */
	assert_int_equal(t_parse(&t_cmd, ARGC(shorts), shorts, &a, &err), 5);
	assert_true(a.on);
	assert_int_equal(a.flags, 5);
	assert_string_equal(a.str, "xyz");
	assert_int_equal(a.count, 5);
}

static void
test_defaults_and_repeats(void **state)
{
	char *none[] = { "t" };
	char *twice[] = { "t", "--port", "1", "--port", "2", "--bit",
	    "--no-one", "--bit" };
	struct t_args	a;
	struct mig_err	err;

	/* nothing given: what the caller put in stays */
	assert_int_equal(t_parse(&t_cmd, ARGC(none), none, &a, &err), 1);
	assert_int_equal(a.flags, 1);
	assert_int_equal(a.port, 0);
	/* the last value wins; switches add up */
	assert_int_equal(t_parse(&t_cmd, ARGC(twice), twice, &a, &err),
	    ARGC(twice));
	assert_int_equal(a.port, 2);
	assert_int_equal(a.flags, 4);
}

static void
test_relative_file(void **state)
{
	char *argv[] = { "t", "--file", "k" };
	struct t_args	a;
	struct mig_err	err;
	char		cwd[PATH_MAX], want[PATH_MAX + 4];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "%s/k", cwd);
	assert_int_equal(t_parse(&t_cmd, ARGC(argv), argv, &a, &err), 3);
	assert_string_equal(a.file, want);
}

/* Parses argv with t_cmd and expects exactly the error want. */
#define BAD(want, ...) do {						\
	char *argv_[] = { "t", __VA_ARGS__ };				\
	struct t_args a_;						\
	struct mig_err e_;						\
	assert_int_equal(t_parse(&t_cmd, ARGC(argv_), argv_, &a_, &e_),	\
	    -1);							\
	assert_string_equal(e_.msg, want);				\
} while (0)

static void
test_missing_value(void **state)
{
	BAD("t: option '--port' needs a value", "--port");
	BAD("t: option '--take' needs a value", "--on", "--take");
	BAD("t: option '-s' needs a value", "-s");
}

static void
test_unknown_option(void **state)
{
	BAD("t: unknown option '--nope'", "--nope");
	BAD("t: unknown option '-z'", "-z");
	BAD("t: unknown option '-z'", "-oz");
	/* a switch takes no value */
	BAD("t: unknown option '--on=1'", "--on=1");
}

static void
test_out_of_range(void **state)
{
	BAD("t: --port: '0' is not a number from 1 to 65535", "--port", "0");
	BAD("t: --port: '65536' is not a number from 1 to 65535", "--port",
	    "65536");
	BAD("t: --port: '-1' is not a number from 1 to 65535", "--port", "-1");
	BAD("t: --port: '8o' is not a number from 1 to 65535", "--port", "8o");
	BAD("t: --port: '' is not a number from 1 to 65535", "--port", "");
	BAD("t: --ms: '0' is not a number from 1 to 1000", "--ms", "0");
	BAD("t: --ms: '1001' is not a number from 1 to 1000", "--ms", "1001");
	BAD("t: --count: '1' is not a number from 2 to 5", "--count", "1");
	BAD("t: --count: '6' is not a number from 2 to 5", "-n6");
	BAD("t: --count: '99999999999999999999' is not a number from 2 to 5",
	    "--count", "99999999999999999999");
	BAD("t: --rate: 'abc' is not a rate (e.g. 100M)", "--rate", "abc");
	BAD("t: --rate: '0' is not a rate (e.g. 100M)", "--rate", "0");
	BAD("t: --str: '12345678' must be 1 to 7 bytes", "--str", "12345678");
	BAD("t: --str: '' must be 1 to 7 bytes", "--str", "");
	BAD("t: --file: empty file name", "--file", "");
	BAD("t: --take: not that", "--take", "bad");
}

static void
test_double_dash(void **state)
{
	char *argv[] = { "t", "--on", "--", "--port", "x" };
	char *mixed[] = { "t", "a", "--on", "b", "--", "-n" };
	char *ordered[] = { "t", "a", "--on" };
	struct t_args	a;
	struct mig_err	err;

	/* after "--" everything is an operand */
	assert_int_equal(t_parse(&t_cmd, ARGC(argv), argv, &a, &err), 3);
	assert_true(a.on);
	assert_int_equal(a.port, 0);
	assert_string_equal(argv[3], "--port");
	/* options may follow operands, which are gathered after them */
	assert_int_equal(t_parse(&t_cmd, ARGC(mixed), mixed, &a, &err), 3);
	assert_true(a.on);
	assert_string_equal(mixed[3], "a");
	assert_string_equal(mixed[4], "b");
	assert_string_equal(mixed[5], "-n");
	/* unless the command takes its options first only */
	assert_int_equal(t_parse(&t_ordered, ARGC(ordered), ordered, &a, &err),
	    1);
	assert_false(a.on);
}

static void
test_help(void **state)
{
	char *argv[] = { "t", "--on", "--help", "--port", "0", "--nope" };
	char *late[] = { "t", "--port", "0", "--help" };
	struct t_args	a;
	struct mig_err	err;
	char		*text;
	size_t		 len;
	FILE		*f;

	/* --help ends the scan: what follows cannot spoil it */
	assert_int_equal(t_parse(&t_cmd, ARGC(argv), argv, &a, &err),
	    ARGC(argv));
	assert_true(a.help);
	assert_int_equal(t_parse(&t_cmd, ARGC(late), late, &a, &err), -1);
	assert_false(a.help);

	assert_non_null(f = open_memstream(&text, &len));
	args_help(f, t_opts);
	fclose(f);
	assert_string_equal(text,
	    "  -o, --on            on\n"
	    "  -b, --bit           bit 2\n"
	    "  --no-one            no bit 0\n"
	    "  -s, --str S         a string\n"
	    "  --port N            a port\n"
	    "  --rate RATE         a rate\n"
	    "  --ms MS             a time\n"
	    "  -n, --count N       a count\n"
	    "  --file FILE         a file\n"
	    "  --take X            a hook\n");
	free(text);
}

static void
test_table_too_long(void **state)
{
	struct xr_opt	opts[XR_OPTS_MAX + 2];
	struct xr_cmd	c = { "t", NULL, "", "", opts, false, 0, -1, NULL };
	char		*argv[] = { "t" };
	struct t_args	a;
	struct mig_err	err;
	size_t		i;

	memset(opts, 0, sizeof(opts));
	for (i = 0; i < XR_OPTS_MAX + 1; i++) {
		opts[i].name = "x";
		opts[i].set = 1;
		opts[i].off = offsetof(struct t_args, on);
		opts[i].size = 1;
	}
	assert_int_equal(args_parse(&c, ARGC(argv), argv, &a, &a.help, &err),
	    -1);
	assert_string_equal(err.msg, "t: more than 24 options");
	opts[XR_OPTS_MAX].name = NULL;
	assert_int_equal(args_parse(&c, ARGC(argv), argv, &a, &a.help, &err),
	    1);
}

/* --- the real tables --- */

static void
test_tables_sane(void **state)
{
	const struct xr_cmd	*c;
	const struct xr_opt	*o, *p;
	union {
		struct migrate_args	m;
		struct save_args	s;
		struct verify_args	v;
		struct jobs_args	j;
		struct cancel_args	c;
		struct evacuate_args	e;
		struct tunnel_args	t;
	} a;
	char			*argv[] = { NULL, "--help" };
	struct mig_err		 err;
	bool			 help;

/* A table entry that breaks a rule is named in the failure. */
#define RULE(cond, what) do {						\
	if (!(cond))							\
		fail_msg("%s --%s: %s", c->name, o->name, what);	\
} while (0)
	for (c = xr_cmds; c->name != NULL; c++) {
		/* every table fits the parser */
		argv[0] = (char *)c->name;
		assert_int_equal(args_parse(c, 2, argv, &a, &help, &err), 2);
		assert_true(help);
		for (o = c->opts; o != NULL && o->name != NULL; o++) {
			RULE(o->help != NULL && o->name[0] != '-' &&
			    strcmp(o->name, "help") != 0, "bad name or help");
			RULE((o->arg != NULL) == (o->kind != XA_NONE),
			    "the help must name a value exactly when there "
			    "is one");
			RULE(o->take != NULL || o->off + o->size <= sizeof(a),
			    "field outside the args struct");
			RULE(o->kind != XA_PORT || o->size == 2,
			    "a port's field is a uint16_t");
			RULE(o->kind != XA_RATE || o->size == 8,
			    "a rate's field is a uint64_t");
			RULE(o->take != NULL || o->kind == XA_STRING ||
			    o->kind == XA_FILE || o->size == 1 ||
			    o->size == 2 || o->size == 4 || o->size == 8,
			    "an integer field is of 1, 2, 4 or 8 bytes");
			RULE(o->kind == XA_STRING || o->kind == XA_FILE ||
			    o->size == 8 || (o->size < 8 && ((o->set |
			    o->clear | o->max) >> (8 * o->size)) == 0),
			    "the field is too small for its values");
			RULE(o->kind != XA_SIZE || o->size == 8,
			    "a size's field is a uint64_t");
			RULE((o->kind != XA_MS && o->kind != XA_COUNT &&
			    o->kind != XA_SIZE) || (o->min >= 1 && o->min <= o->max), "bad range");
			for (p = c->opts; p != o; p++)
				RULE(strcmp(p->name, o->name) != 0 &&
				    (o->letter == 0 || p->letter != o->letter),
				    "given twice");
		}
	}
#undef RULE
}

/* --- drift: the help, the man page and the bash completion --- */

static char *
slurp(const char *rel)
{
	char	 path[PATH_MAX], *text;
	size_t	 len;
	FILE	*in, *out;
	int	 ch;

	snprintf(path, sizeof(path), "%s/%s", TOP_SRCDIR, rel);
	if ((in = fopen(path, "r")) == NULL)
		fail_msg("%s: cannot read", path);
	assert_non_null(out = open_memstream(&text, &len));
	while ((ch = getc(in)) != EOF)
		putc(ch, out);
	fclose(in);
	fclose(out);
	return text;
}

/* [start, end) of the text from the first from (after after) to the
 * first until past it, or NULL. */
static const char *
span(const char *text, const char *after, const char *from,
    const char *until, const char **end)
{
	const char	*s;

	if (after != NULL && (text = strstr(text, after)) == NULL)
		return NULL;
	if ((s = strstr(text, from)) == NULL)
		return NULL;
	*end = strstr(s + strlen(from), until);
	if (*end == NULL)
		*end = s + strlen(s);
	return s;
}

/*
 * The options written in [s, end): "--NAME" in the completion, "\-NAME"
 * (with "\-" for every '-' of NAME) in the man page; each after white
 * space.  Returns how many, into names.
 */
static size_t
options_in(const char *s, const char *end, bool man, char names[][32],
    size_t max)
{
	const char	*dash = man ? "\\-" : "--";
	size_t		 n = 0, k;

	for (; s < end && n < max; s++) {
		/* after white space, or in the completion a quote */
		if (!(isspace((unsigned char)*s) || (!man && (*s == '\'' ||
		    *s == '"'))) || strncmp(s + 1, dash, strlen(dash)) != 0)
			continue;
		s += 1 + strlen(dash);
		for (k = 0; s < end && k < 31; ) {
			if (isalnum((unsigned char)*s))
				names[n][k++] = *s++;
			else if (man && strncmp(s, "\\-", 2) == 0 &&
			    isalnum((unsigned char)s[2])) {
				names[n][k++] = '-';
				s += 2;
			} else if (!man && *s == '-' &&
			    isalnum((unsigned char)s[1]))
				names[n][k++] = *s++;
			else
				break;
		}
		names[n][k] = '\0';
		if (k > 0)
			n++;
		s--;
	}
	return n;
}

/* The options an arm of the completion offers: in its "compgen -W '...'"
 * lists (it may run commands with other options). */
static size_t
offered(const char *s, const char *end, char names[][32], size_t max)
{
	const char	*q, *qend;
	size_t		 n = 0;

	while ((q = strstr(s, "compgen -W '")) != NULL && q < end) {
		q += strlen("compgen -W ");
		if ((qend = strchr(q + 1, '\'')) == NULL || qend > end)
			break;
		n += options_in(q, qend, false, names + n, max - n);
		s = qend + 1;
	}
	return n;
}

/* Whether word stands in [s, end) between quotes or white space. */
static bool
has_word(const char *s, const char *end, const char *word)
{
	size_t	n = strlen(word);

	for (; s + n + 1 <= end; s++)
		if (strchr(" \t\n'", *s) != NULL &&
		    strncmp(s + 1, word, n) == 0 &&
		    strchr(" \t\n'", s[n + 1]) != NULL)
			return true;
	return false;
}

static bool
listed(char names[][32], size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

static bool
in_table(const struct xr_cmd *c, const char *name)
{
	const struct xr_opt	*o;

	if (strcmp(name, "help") == 0)
		return true;
	for (o = c->opts; o != NULL && o->name != NULL; o++)
		if (strcmp(o->name, name) == 0)
			return true;
	return false;
}

/* Every option of c's table in names, and nothing else; --help too in
 * the completion (the man page says once that every command has it). */
static void
same_options(const struct xr_cmd *c, const char *where, char names[][32],
    size_t n, bool with_help)
{
	const struct xr_opt	*o;
	size_t			 i;

	for (o = c->opts; o != NULL && o->name != NULL; o++)
		if (!listed(names, n, o->name))
			fail_msg("%s: no --%s for %s", where, o->name,
			    c->name);
	if (with_help && !listed(names, n, "help"))
		fail_msg("%s: no --help for %s", where, c->name);
	for (i = 0; i < n; i++)
		if (!in_table(c, names[i]))
			fail_msg("%s: --%s for %s, which has no such option",
			    where, names[i], c->name);
}

static void
test_help_lists_every_option(void **state)
{
	const struct xr_cmd	*c;
	const struct xr_opt	*o;
	char			*argv[2], *text, want[64], letter[8];
	size_t			 len;
	FILE			*out;
	int			 saved;

	for (c = xr_cmds; c->name != NULL; c++) {
		/* "xl-reloc help CMD", as a user runs it */
		argv[0] = "help";
		argv[1] = (char *)c->name;
		assert_non_null(out = tmpfile());
		fflush(stdout);
		saved = dup(STDOUT_FILENO);
		dup2(fileno(out), STDOUT_FILENO);
		assert_int_equal(cmd_help(cmd_find("help"), NULL, 2, argv),
		    CTL_ST_OK);
		fflush(stdout);
		dup2(saved, STDOUT_FILENO);
		close(saved);
		len = (size_t)ftell(out);
		rewind(out);
		assert_non_null(text = calloc(1, len + 1));
		assert_int_equal(fread(text, 1, len, out), len);
		fclose(out);
		for (o = c->opts; o != NULL && o->name != NULL; o++) {
			/* "  -p, --paused " or "  --port N " */
			snprintf(letter, sizeof(letter), "-%c, ", o->letter);
			snprintf(want, sizeof(want), "  %s--%s%s%s ",
			    o->letter != 0 ? letter : "", o->name,
			    o->arg != NULL ? " " : "", o->arg != NULL ?
			    o->arg : "");
			if (strstr(text, want) == NULL)
				fail_msg("xl-reloc help %s: no '%s'", c->name,
				    want);
		}
		assert_non_null(strstr(text, "  --help "));
		free(text);
	}
}

static void
test_man_page_lists_every_option(void **state)
{
	const struct xr_cmd	*c;
	char			*man = slurp("doc/xl-reloc.1");
	char			 names[64][32], cm[64];
	const char		*s, *end;

	for (c = xr_cmds; c->name != NULL; c++) {
		snprintf(cm, sizeof(cm), "\n.Cm %s\n", c->name);
		/* from ".Cm CMD" in SYNOPSIS to the next ".Nm" */
		if ((s = span(man, ".Sh SYNOPSIS", cm, "\n.Nm", &end)) ==
		    NULL || (strstr(man, ".Sh DESCRIPTION") != NULL &&
		    s > strstr(man, ".Sh DESCRIPTION")))
			fail_msg("doc/xl-reloc.1: no %s in SYNOPSIS", c->name);
		same_options(c, "doc/xl-reloc.1 SYNOPSIS", names,
		    options_in(s, end, true, names, 64), false);
	}
	free(man);
}

static void
test_completion_lists_every_option(void **state)
{
	const struct xr_cmd	*c;
	const struct xr_opt	*o;
	char			*bc = slurp("conf/xl-reloc.bash-completion");
	char			 names[64][32], vals[64][32], arm[64];
	const char		*s, *end = NULL, *prev, *prev_end = NULL, *list;
	const char		*list_end = NULL;
	size_t			 n;

	/* the options that take a value, whose value is not completed as
	 * a domain: "case $prev in ... esac" */
	if ((prev = span(bc, NULL, "case $prev in", "esac", &prev_end)) ==
	    NULL)
		fail_msg("bash completion: no 'case $prev in'");
	n = options_in(prev, prev_end, false, vals, 64);
	for (c = xr_cmds; c->name != NULL; c++) {
		for (o = c->opts; o != NULL && o->name != NULL; o++)
			if (o->kind != XA_NONE && !listed(vals, n, o->name))
				fail_msg("bash completion: --%s takes a value "
				    "but is not under 'case $prev in'", o->name);
		/* the command itself, in the list of commands */
		if ((list = span(bc, "else", "compgen -W 'migrate ", "'",
		    &list_end)) == NULL)
			fail_msg("bash completion: no list of commands");
		if (!has_word(list + strlen("compgen -W "), list_end, c->name))
			fail_msg("bash completion: no %s in the commands",
			    c->name);
		/* from "\tCMD)" in "case $cmd in" to its ";;" */
		snprintf(arm, sizeof(arm), "\n\t%s)\n", c->name);
		if ((s = span(bc, "case $cmd in", arm, ";;", &end)) == NULL)
			fail_msg("bash completion: no %s) under 'case $cmd "
			    "in'", c->name);
		same_options(c, "bash completion", names,
		    offered(s, end, names, 64), true);
	}
	free(bc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind),
		cmocka_unit_test(test_defaults_and_repeats),
		cmocka_unit_test(test_relative_file),
		cmocka_unit_test(test_missing_value),
		cmocka_unit_test(test_unknown_option),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_double_dash),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_table_too_long),
		cmocka_unit_test(test_tables_sane),
		cmocka_unit_test(test_help_lists_every_option),
		cmocka_unit_test(test_man_page_lists_every_option),
		cmocka_unit_test(test_completion_lists_every_option),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
