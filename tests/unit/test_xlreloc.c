/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xl-reloc without relocd: argument parsing of every command, the exact
 * text of progress lines, JSON events and summaries, the evacuate planner,
 * exit statuses, job following against a fake control socket (Ctrl-C
 * included), and the tunnel against a fake relocd on a socketpair.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "mig/image.h"
#include "mig/proto.h"
#include "mig/xlcompat.h"
#include "xl-reloc.h"

#define ARGC(a)	((int)(sizeof(a) / sizeof((a)[0])))
#define MiB_KIB	1024ULL

/* --- parsing --- */

static void
test_migrate_parse_all_options(void **state)
{
	char *argv[] = { "migrate", "--plain", "--port", "8002",
	    "--bandwidth", "100M", "--max-downtime", "300", "--auto-converge",
	    "--downtime-abort", "--compress", "--paused", "--non-live",
	    "--localhost", "--json", "web1", "node2.example.org" };
	struct migrate_args	a;
	struct mig_err		err;

	assert_int_equal(migrate_parse(cmd_find("migrate"), ARGC(argv), argv,
	    &a, &err), 0);
	assert_string_equal(a.req.domain, "web1");
	assert_string_equal(a.req.host, "node2.example.org");
	assert_int_equal(a.req.port, 8002);
	assert_true(a.req.bandwidth == 100ULL << 20);
	assert_int_equal(a.req.max_downtime_ms, 300);
	assert_int_equal(a.req.flags, CTL_MF_AUTO_CONVERGE |
	    CTL_MF_DOWNTIME_ABORT | CTL_MF_COMPRESS | CTL_MF_PAUSED |
	    CTL_MF_LOCALHOST);
	assert_true(a.json);
	assert_false(a.help);
}

static void
test_migrate_parse_defaults(void **state)
{
	char *argv[] = { "migrate", "web1", "node2" };
	char *help[] = { "migrate", "--help" };
	struct migrate_args	a;
	struct mig_err		err;

	assert_int_equal(migrate_parse(cmd_find("migrate"), ARGC(argv), argv,
	    &a, &err), 0);
	/* TLS and live unless asked otherwise */
	assert_int_equal(a.req.flags, CTL_MF_TLS | CTL_MF_LIVE);
	assert_int_equal(a.req.port, 0);
	assert_true(a.req.bandwidth == 0);
	assert_int_equal(migrate_parse(cmd_find("migrate"), ARGC(help), help,
	    &a, &err), 0);
	assert_true(a.help);
}

/* What xl's and xm's users type: xl migrate -p and --live, xl save -c,
 * xl restore -p. */
static void
test_xl_forms(void **state)
{
	char *mig[] = { "migrate", "-p", "--live", "web1", "node2" };
	char *nonlive[] = { "migrate", "--non-live", "web1", "node2" };
	char *save[] = { "save", "-c", "web1", "/srv/web1.xl" };
	char *restore[] = { "restore", "-p", "/srv/web1.xl" };
	struct migrate_args	m;
	struct save_args	s;
	struct mig_err		err;

	assert_int_equal(migrate_parse(cmd_find("migrate"), ARGC(mig), mig, &m,
	    &err), 0);
	assert_int_equal(m.req.flags, CTL_MF_TLS | CTL_MF_LIVE |
	    CTL_MF_PAUSED);
	assert_int_equal(migrate_parse(cmd_find("migrate"),
	    ARGC(nonlive), nonlive, &m, &err), 0);
	assert_int_equal(m.req.flags, CTL_MF_TLS);
	assert_int_equal(save_parse(cmd_find("save"), ARGC(save), save, &s,
	    &err), 0);
	assert_true(s.req.flags & CTL_SF_KEEP_RUNNING);
	assert_int_equal(restore_parse(cmd_find("restore"),
	    ARGC(restore), restore, &s, &err), 0);
	assert_true(s.req.flags & CTL_SF_PAUSED);
}

/* The rest of xl's forms: xl migrate [-s -e -C -p -D --debug --live],
 * xl save [-c] [-p] dom file [cfg], xl restore [-p] [-e] [-d] [cfg] file.
 * Relative files are made absolute against the working directory. */
static void
test_xl_forms_all(void **state)
{
	char *mig[] = { "migrate", "-e", "-C", "/etc/xen/web1.json",
	    "--debug", "--live", "-p", "web1", "node2" };
	char *save[] = { "save", "-p", "web1", "/srv/web1.xl",
	    "/etc/xen/other.json" };
	char *restore[] = { "restore", "-p", "-e", "-d", "/etc/xen/b.json",
	    "/srv/web1.xl" };
	char *restore1[] = { "restore", "-d", "/srv/web1.xl" };
	char *rel[] = { "migrate", "-C", "web1.json", "web1", "node2" };
	struct migrate_args	m;
	struct save_args	s;
	struct mig_err		err;
	char			cwd[PATH_MAX], want[PATH_MAX + 16];

	assert_int_equal(migrate_parse(cmd_find("migrate"), ARGC(mig), mig, &m,
	    &err), 0);
	assert_int_equal(m.req.flags, CTL_MF_TLS | CTL_MF_LIVE |
	    CTL_MF_PAUSED | CTL_MF_NO_ADOPT);
	assert_string_equal(m.req.config, "/etc/xen/web1.json");
	assert_true(m.debug);
	assert_string_equal(m.req.domain, "web1");
	assert_string_equal(m.req.host, "node2");

	assert_int_equal(save_parse(cmd_find("save"), ARGC(save), save, &s,
	    &err), 0);
	assert_int_equal(s.req.flags, CTL_SF_PAUSED);
	assert_string_equal(s.req.path, "/srv/web1.xl");
	assert_string_equal(s.req.config, "/etc/xen/other.json");

	/* xl's order: the configuration before the image */
	assert_int_equal(restore_parse(cmd_find("restore"),
	    ARGC(restore), restore, &s, &err), 0);
	assert_int_equal(s.req.flags, CTL_SF_PAUSED | CTL_SF_NO_ADOPT);
	assert_true(s.debug);
	assert_string_equal(s.req.config, "/etc/xen/b.json");
	assert_string_equal(s.req.path, "/srv/web1.xl");
	assert_int_equal(restore_parse(cmd_find("restore"),
	    ARGC(restore1), restore1, &s, &err),
	    0);
	assert_string_equal(s.req.config, "");
	assert_string_equal(s.req.path, "/srv/web1.xl");

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "%s/web1.json",
	    strcmp(cwd, "/") == 0 ? "" : cwd);
	assert_int_equal(migrate_parse(cmd_find("migrate"), ARGC(rel), rel, &m,
	    &err), 0);
	assert_string_equal(m.req.config, want);
}

/* Parses argv with fn and expects a usage error saying exactly want. */
#define BAD(fn, type, want, ...) do {					\
	char *argv_[] = { __VA_ARGS__ };				\
	type a_;							\
	struct mig_err e_;						\
	assert_int_equal(fn(cmd_find(argv_[0]), ARGC(argv_), argv_, &a_,	\
	    &e_), -1);						\
	assert_string_equal(e_.msg, want);				\
} while (0)

static void
test_migrate_parse_errors(void **state)
{
	BAD(migrate_parse, struct migrate_args,
	    "migrate: unknown option '--bogus'",
	    "migrate", "--bogus", "a", "b");
	BAD(migrate_parse, struct migrate_args,
	    "migrate: unknown option '-x'", "migrate", "-x", "a", "b");
	BAD(migrate_parse, struct migrate_args,
	    "migrate: option '--port' needs a value", "migrate", "--port");
	BAD(migrate_parse, struct migrate_args,
	    "migrate: --port: '0' is not a number from 1 to 65535",
	    "migrate", "--port", "0", "a", "b");
	BAD(migrate_parse, struct migrate_args,
	    "migrate: --port: '65536' is not a number from 1 to 65535",
	    "migrate", "--port", "65536", "a", "b");
	BAD(migrate_parse, struct migrate_args,
	    "migrate: --port: '80x' is not a number from 1 to 65535",
	    "migrate", "--port", "80x", "a", "b");
	BAD(migrate_parse, struct migrate_args,
	    "migrate: --bandwidth: '12Q' is not a rate (e.g. 100M)",
	    "migrate", "--bandwidth", "12Q", "a", "b");
	BAD(migrate_parse, struct migrate_args,
	    "migrate: --bandwidth: '0' is not a rate (e.g. 100M)",
	    "migrate", "--bandwidth", "0", "a", "b");
	BAD(migrate_parse, struct migrate_args,
	    "migrate: --bandwidth: '-5M' is not a rate (e.g. 100M)",
	    "migrate", "--bandwidth", "-5M", "a", "b");
	BAD(migrate_parse, struct migrate_args,
	    "migrate: --max-downtime: '0' is not a number from 1 to 600000",
	    "migrate", "--max-downtime", "0", "a", "b");
	BAD(migrate_parse, struct migrate_args,
	    "migrate: expected DOMAIN and HOST, got 1 argument",
	    "migrate", "web1");
	/* xl's options relocd cannot honour say why, and what instead */
	BAD(migrate_parse, struct migrate_args,
	    "migrate: -s ssh -l root: relocd carries the stream itself; for "
	    "xl's own migration through relocd, run: xl migrate -s "
	    "\"xl-reloc tunnel\" DOMAIN HOST",
	    "migrate", "-s", "ssh -l root", "a", "b");
	BAD(migrate_parse, struct migrate_args,
	    "migrate: -D: relocd cannot keep the domain id; the domain gets "
	    "the id HOST gives it (its name and uuid stay)",
	    "migrate", "-D", "a", "b");
	BAD(migrate_parse, struct migrate_args,
	    "migrate: option '-C' needs a value", "migrate", "a", "b", "-C");
	BAD(save_parse, struct save_args,
	    "save: expected DOMAIN, FILE and maybe CONFIG, got 4 arguments",
	    "save", "a", "b", "c", "d");
	BAD(restore_parse, struct save_args,
	    "restore: expected FILE or CONFIG FILE, got 3 arguments",
	    "restore", "a", "b", "c");
	BAD(restore_parse, struct save_args,
	    "restore: CONFIG: empty file name", "restore", "", "b");
	BAD(migrate_parse, struct migrate_args,
	    "migrate: expected DOMAIN and HOST, got 3 arguments",
	    "migrate", "a", "b", "c");
	BAD(migrate_parse, struct migrate_args,
	    "migrate: unknown option '--json=1'", "migrate", "--json=1",
	    "a", "b");
}

static void
test_save_restore_parse(void **state)
{
	char *save[] = { "save", "--compress", "--encrypt-key", "/k/key",
	    "--keep-running", "--sha256", "db", "img.xl" };
	char *rest[] = { "restore", "--paused", "--key", "key", "--direct",
	    "/x/img.xl" };
	struct save_args	a;
	struct mig_err		err;
	char			cwd[PATH_MAX], want[PATH_MAX + 16];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(save_parse(cmd_find("save"), ARGC(save), save, &a,
	    &err), 0);
	assert_string_equal(a.req.domain, "db");
	assert_string_equal(a.req.key, "/k/key");
	/* relocd has another working directory: paths go absolute */
	snprintf(want, sizeof(want), "%s/img.xl", cwd);
	assert_string_equal(a.req.path, want);
	assert_int_equal(a.req.flags, CTL_SF_COMPRESS | CTL_SF_KEEP_RUNNING |
	    CTL_SF_SHA256);
	assert_false(a.direct);

	assert_int_equal(restore_parse(cmd_find("restore"), ARGC(rest), rest,
	    &a, &err), 0);
	assert_string_equal(a.req.path, "/x/img.xl");
	snprintf(want, sizeof(want), "%s/key", cwd);
	assert_string_equal(a.req.key, want);
	assert_string_equal(a.req.domain, "");
	assert_int_equal(a.req.flags, CTL_SF_PAUSED);
	assert_true(a.direct);

	BAD(save_parse, struct save_args,
	    "save: expected DOMAIN, FILE and maybe CONFIG, got 1 argument",
	    "save", "db");
	BAD(save_parse, struct save_args,
	    "save: option '--encrypt-key' needs a value", "save",
	    "--encrypt-key");
	BAD(save_parse, struct save_args, "save: unknown option '--key'",
	    "save", "--key", "k", "a", "b");
	BAD(restore_parse, struct save_args,
	    "restore: unknown option '--keep-running'", "restore",
	    "--keep-running", "a");
	BAD(restore_parse, struct save_args, "restore: empty file name",
	    "restore", "");
}

static void
test_jobs_cancel_parse(void **state)
{
	char *jobs[] = { "jobs", "--json" };
	char *cancel[] = { "cancel", "42" };
	struct jobs_args	j;
	struct cancel_args	c;
	struct mig_err		err;

	assert_int_equal(jobs_parse(cmd_find("jobs"),
	    ARGC(jobs), jobs, &j, &err), 0);
	assert_true(j.json);
	assert_int_equal(cancel_parse(cmd_find("cancel"),
	    ARGC(cancel), cancel, &c, &err), 0);
	assert_true(c.job == 42);
	BAD(jobs_parse, struct jobs_args, "jobs: unexpected argument 'x'",
	    "jobs", "x");
	BAD(cancel_parse, struct cancel_args,
	    "cancel: JOB: '0' is not a number from 1 to 18446744073709551615",
	    "cancel", "0");
	BAD(cancel_parse, struct cancel_args,
	    "cancel: JOB: 'abc' is not a number from 1 to 18446744073709551615",
	    "cancel", "abc");
	BAD(cancel_parse, struct cancel_args,
	    "cancel: expected one JOB number, got 0 arguments", "cancel");
}

/* --format: the fields asked for, in that order, tab-separated. */
static void
test_format(void **state)
{
	char *ok[] = { "jobs", "--format", "domain,job,phase" };
	char *both[] = { "jobs", "--json", "--format", "job" };
	char *bad[] = { "list", "--format", "domain,uid" };
	struct jobs_args	j;
	struct list_args	l;
	struct ctl_job		row;
	struct mig_err		err;
	char			num[5][64], *buf = NULL;
	const char		*v[10];
	size_t			len = 0;
	FILE			*f;

	assert_int_equal(jobs_parse(cmd_find("jobs"),
	    ARGC(ok), ok, &j, &err), 0);
	assert_string_equal(j.format, "domain,job,phase");
	assert_int_equal(jobs_parse(cmd_find("jobs"),
	    ARGC(both), both, &j, &err), -1);
	assert_string_equal(err.msg, "jobs: --json or --format, not both");
	assert_int_equal(list_parse(cmd_find("list"),
	    ARGC(bad), bad, &l, &err), -1);
	assert_string_equal(err.msg, "list: --format: no field 'uid' "
	    "(fields: domain domid uuid state)");

	memset(&row, 0, sizeof(row));
	row.job = 7;
	row.kind = CTL_JOB_SAVE;
	row.phase = MIG_PHASE_PRECOPY;
	strcpy(row.domain, "web1");
	strcpy(row.peer, "/srv/a\tb.xl");
	row.pid = 42;
	jobs_values(&row, num, v);
	assert_non_null(f = open_memstream(&buf, &len));
	format_row(f, "domain,job,phase", jobs_fields, v);
	format_row(f, "peer,pid,kind,outcome", jobs_fields, v);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "web1\t7\tpre-copy\n"
	    "/srv/a\\tb.xl\t42\tsave\t\n");
	free(buf);
}

/* verify --json and cancel --json: their one object, either way. */
static void
test_verify_cancel_json(void **state)
{
	char *cancel[] = { "cancel", "--json", "42" };
	char *verify[] = { "verify", "--json", "/srv/a\"b.xl" };
	struct cancel_args		c;
	struct verify_args		v;
	struct mig_image_summary	sum;
	struct mig_err			err;
	char				b[2 * XR_LINE_MAX];

	assert_int_equal(cancel_parse(cmd_find("cancel"),
	    ARGC(cancel), cancel, &c, &err), 0);
	assert_true(c.json && c.job == 42);
	cancel_json(b, sizeof(b), 42, CTL_ST_OK, NULL);
	assert_string_equal(b, "{\"v\":1,\"job\":42,\"cancel\":\"delivered\"}");
	cancel_json(b, sizeof(b), 42, CTL_ST_REFUSED, "job 42: past commit");
	assert_string_equal(b, "{\"v\":1,\"job\":42,\"cancel\":\"failed\","
	    "\"exit\":3,\"error\":\"job 42: past commit\"}");

	assert_int_equal(verify_parse(cmd_find("verify"),
	    ARGC(verify), verify, &v, &err), 0);
	assert_true(v.json);
	memset(&sum, 0, sizeof(sum));
	strcpy(sum.name, "web1");
	strcpy(sum.type, "pvh");
	sum.pages = 4096;
	sum.file_bytes = 16781312;
	sum.compressed = true;
	verify_json(b, sizeof(b), v.path, &sum, NULL);
	assert_string_equal(b, "{\"v\":1,\"file\":\"/srv/a\\\"b.xl\","
	    "\"ok\":true,\"domain\":\"web1\",\"type\":\"pvh\",\"pages\":4096,"
	    "\"bytes\":16781312,\"compressed\":true,\"encrypted\":false,"
	    "\"trailer\":false,\"digest\":null,\"note\":\"\"}");
	verify_json(b, sizeof(b), v.path, NULL, "image corrupted: bad trailer");
	assert_string_equal(b, "{\"v\":1,\"file\":\"/srv/a\\\"b.xl\","
	    "\"ok\":false,\"error\":\"image corrupted: bad trailer\"}");
}

static void
test_evacuate_parse(void **state)
{
	char *argv[] = { "evacuate", "--to", "n1,n2", "--to", "n3",
	    "--parallel", "3", "--dry-run", "--plain", "web1", "db" };
	struct evacuate_args	a;
	struct mig_err		err;

	assert_int_equal(evacuate_parse(cmd_find("evacuate"),
	    ARGC(argv), argv, &a, &err), 0);
	assert_int_equal(a.nto, 3);
	assert_string_equal(a.to[0], "n1");
	assert_string_equal(a.to[1], "n2");
	assert_string_equal(a.to[2], "n3");
	assert_int_equal(a.parallel, 3);
	assert_true(a.dry_run && a.plain && !a.json);
	assert_int_equal(a.ndomains, 2);
	assert_string_equal(a.domains[0], "web1");
	assert_string_equal(a.domains[1], "db");

	BAD(evacuate_parse, struct evacuate_args,
	    "evacuate: --to HOST[,HOST...] is required", "evacuate", "web1");
	BAD(evacuate_parse, struct evacuate_args,
	    "evacuate: bad --to list 'n1,,n2'", "evacuate", "--to", "n1,,n2");
	BAD(evacuate_parse, struct evacuate_args,
	    "evacuate: --parallel: '17' is not a number from 1 to 16",
	    "evacuate", "--to", "n1", "--parallel", "17");
}

static void
test_tunnel_parse(void **state)
{
	/* exactly what xl 4.17 runs for: xl migrate -s "xl-reloc tunnel
	 * --plain" -p DOM node2, from a terminal, with -vv */
	char *argv[] = { "tunnel", "--plain", "--port", "9000", "node2", "xl",
	    "-t", "-vv", "migrate-receive", "-e", "-p" };
	char *debug[] = { "tunnel", "--no-reasons", "node2", "xl",
	    "migrate-receive", "-d" };
	struct tunnel_args	a;
	struct mig_err		err;

	assert_int_equal(tunnel_parse(cmd_find("tunnel"),
	    ARGC(argv), argv, &a, &err), 0);
	assert_true(a.plain);
	assert_int_equal(a.port, 9000);
	assert_string_equal(a.host, "node2");
	assert_int_equal(a.xlflags, MIG_XLT_F_PAUSED);
	assert_false(a.no_reasons);
	assert_int_equal(tunnel_parse(cmd_find("tunnel"),
	    ARGC(debug), debug, &a, &err), 0);
	assert_false(a.plain);
	assert_true(a.no_reasons);
	assert_int_equal(a.xlflags, MIG_XLT_F_DEBUG);

	BAD(tunnel_parse, struct tunnel_args, "tunnel: expected HOST",
	    "tunnel", "--plain");
	BAD(tunnel_parse, struct tunnel_args,
	    "tunnel: expected 'xl ... migrate-receive' after HOST (xl migrate "
	    "-s \"xl-reloc tunnel\" writes it)", "tunnel", "node2");
	BAD(tunnel_parse, struct tunnel_args,
	    "tunnel: xl option '-r' is not supported", "tunnel", "node2", "xl",
	    "migrate-receive", "-r");
	BAD(tunnel_parse, struct tunnel_args,
	    "tunnel: no 'migrate-receive' after 'xl'", "tunnel", "node2", "xl",
	    "-t");
	BAD(tunnel_parse, struct tunnel_args,
	    "tunnel: unexpected argument 'foo'", "tunnel", "node2", "xl",
	    "migrate-receive", "foo");
}

/* --- formatting --- */

static void
sample_event(struct ctl_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->job = 42;
	ev->phase = MIG_PHASE_PRECOPY;
	ev->round = 3;
	ev->pages_sent = 65536;		/* 256 MiB */
	ev->pages_total = 262144;	/* 1 GiB */
	ev->dirty_left = 120;
	ev->bytes_wire = 268435456;
	ev->rate = 104857600;		/* 100 MiB/s */
	ev->downtime_ms = 40;
	ev->elapsed_ms = 2500;
}

static void
sample_result(struct ctl_result *r)
{
	memset(r, 0, sizeof(*r));
	r->job = 42;
	r->status = CTL_ST_OK;
	r->domid = 12;
	r->total_ms = 4000;
	r->paused_ms = 120;
	r->bytes_wire = 123456789;
	r->bytes_stream = 223456789;
	r->rounds = 5;
}

static void
test_durations(void **state)
{
	char	b[32];

	fmt_duration(b, sizeof(b), 850);
	assert_string_equal(b, "850ms");
	fmt_duration(b, sizeof(b), 12345);
	assert_string_equal(b, "12.3s");
	fmt_duration(b, sizeof(b), 125000);
	assert_string_equal(b, "2m05s");
	fmt_duration(b, sizeof(b), 3720000);
	assert_string_equal(b, "1h02m");
	fmt_mib(b, sizeof(b), 1572864);
	assert_string_equal(b, "1.5");
}

static void
test_progress_line(void **state)
{
	struct ctl_event	ev;
	char			b[XR_LINE_MAX];

	sample_event(&ev);
	progress_line(b, sizeof(b), &ev);
	/* 768 MiB left at 100 MiB/s: 7.68 s, shown rounded up */
	assert_string_equal(b, "pre-copy      round 3  [#####---------------]"
	    "  256.0/1024.0 MiB  100.0 MiB/s  dirty 120  ETA 0:08");

	/* later rounds: past the total, what is dirty is what is left */
	ev.phase = MIG_PHASE_STOPCOPY;
	ev.pages_sent = 300000;
	ev.dirty_left = 25600;		/* 100 MiB */
	ev.rate = 0;
	progress_line(b, sizeof(b), &ev);
	assert_string_equal(b, "stop-and-copy round 3  [####################]"
	    "  1171.9/1024.0 MiB  0.0 MiB/s  dirty 25600  ETA --:--");
	ev.rate = 3700;		/* a stream's first moments: no estimate */
	progress_line(b, sizeof(b), &ev);
	assert_string_equal(b, "stop-and-copy round 3  [####################]"
	    "  1171.9/1024.0 MiB  0.0 MiB/s  dirty 25600  ETA --:--");
	ev.rate = 1048576;
	progress_line(b, sizeof(b), &ev);
	assert_string_equal(b, "stop-and-copy round 3  [####################]"
	    "  1171.9/1024.0 MiB  1.0 MiB/s  dirty 25600  ETA 1:40");

	/* nothing known yet */
	memset(&ev, 0, sizeof(ev));
	progress_line(b, sizeof(b), &ev);
	assert_string_equal(b, "pre-migration round 0  [--------------------]"
	    "  0.0/0.0 MiB  0.0 MiB/s  dirty 0  ETA --:--");
}

static void
test_phase_line(void **state)
{
	struct ctl_event	ev;
	char			b[XR_LINE_MAX];

	sample_event(&ev);
	progress_phase_line(b, sizeof(b), &ev);
	assert_string_equal(b, "[2.5s] pre-copy: round 3, 256.0/1024.0 MiB, "
	    "100.0 MiB/s");
	strcpy(ev.text, "target reserved 1024 MiB");
	progress_phase_line(b, sizeof(b), &ev);
	assert_string_equal(b, "[2.5s] pre-copy: round 3, 256.0/1024.0 MiB, "
	    "100.0 MiB/s: target reserved 1024 MiB");
}

static void
test_json_lines(void **state)
{
	struct ctl_event	ev;
	char			b[XR_LINE_MAX];

	progress_json_accepted(b, sizeof(b), 42);
	assert_string_equal(b, "{\"v\":1,\"event\":\"accepted\",\"job\":42}");

	sample_event(&ev);
	strcpy(ev.text, "say \"hi\" \\o/");
	progress_json_event(b, sizeof(b), &ev);
	assert_string_equal(b, "{\"v\":1,\"event\":\"progress\",\"job\":42,"
	    "\"phase\":\"pre-copy\",\"phase_id\":2,\"round\":3,"
	    "\"pages_sent\":65536,\"pages_total\":262144,\"dirty_left\":120,"
	    "\"bytes_wire\":268435456,\"rate\":104857600,\"downtime_ms\":40,"
	    "\"elapsed_ms\":2500,\"text\":\"say \\\"hi\\\" \\\\o/\","
	    "\"bytes_disk\":0}");
}

static void
test_json_result(void **state)
{
	struct ctl_result	r;
	char			b[XR_LINE_MAX], want[XR_LINE_MAX];

	sample_result(&r);
	r.status = CTL_ST_REFUSED;
	r.code = MIG_E_DENIED;
	strcpy(r.text, "no-memory: 512 MiB free");
	progress_json_result(b, sizeof(b), &r);
	snprintf(want, sizeof(want), "{\"v\":1,\"event\":\"result\",\"job\":42,"
	    "\"status\":\"refused\",\"exit\":3,\"code\":\"%s\","
	    "\"text\":\"no-memory: 512 MiB free\",\"domid\":12,"
	    "\"total_ms\":4000,\"paused_ms\":120,\"bytes_wire\":123456789,"
	    "\"bytes_stream\":223456789,\"rounds\":5,\"bytes_disk\":0,"
	    "\"disk_passes\":0,\"disk_last_bytes\":0}",
	    mig_errcode_name(MIG_E_DENIED));
	assert_string_equal(b, want);

	json_string(b, sizeof(b), "a\tb");
	assert_string_equal(b, "\"a\\u0009b\"");
	/* truncation keeps snprintf's promise: the would-be length */
	assert_int_equal(json_string(b, 4, "abcdef"), 8);
	assert_string_equal(b, "\"ab");
}

static void
test_summary_and_failures(void **state)
{
	struct ctl_result	r;
	char			b[XR_LINE_MAX];

	sample_result(&r);
	progress_summary(b, sizeof(b), &r);
	assert_string_equal(b, "done in 4.0s: guest paused 120ms, 117.7 MiB on "
	    "the wire (213.1 MiB of stream), 5 rounds");
	r.rounds = 0;		/* a restore has no rounds */
	progress_summary(b, sizeof(b), &r);
	assert_string_equal(b, "done in 4.0s: guest paused 120ms, 117.7 MiB on "
	    "the wire (213.1 MiB of stream)");
	/* A live disk copy: its delta passes and the paused one's size. */
	r.bytes_disk = 3u << 30;
	r.disk_passes = 3;
	r.disk_last = 5u << 20;
	progress_summary(b, sizeof(b), &r);
	assert_string_equal(b, "done in 4.0s: guest paused 120ms, 117.7 MiB on "
	    "the wire (213.1 MiB of stream and 3072.0 MiB of disks), disks in "
	    "3 delta passes, the paused one 5.0 MiB");
	r.bytes_disk = r.disk_passes = r.disk_last = 0;

	strcpy(r.text, "no-memory: 512 MiB free");
	r.status = CTL_ST_REFUSED;
	progress_failure(b, sizeof(b), "migrate web1 to node2", &r);
	assert_string_equal(b, "xl-reloc: migrate web1 to node2: refused: "
	    "no-memory: 512 MiB free; nothing moved");
	r.status = CTL_ST_FAILED;
	progress_failure(b, sizeof(b), "migrate web1 to node2", &r);
	assert_string_equal(b, "xl-reloc: migrate web1 to node2: failed: "
	    "no-memory: 512 MiB free; the domain runs where it was");
	r.status = CTL_ST_CANCELLED;
	progress_failure(b, sizeof(b), "migrate web1 to node2", &r);
	assert_string_equal(b, "xl-reloc: migrate web1 to node2: cancelled; "
	    "the domain runs where it was");
	r.status = CTL_ST_NOTFOUND;
	strcpy(r.text, "domain web1: no such domain");
	progress_failure(b, sizeof(b), "migrate web1 to node2", &r);
	assert_string_equal(b, "xl-reloc: migrate web1 to node2: not found: "
	    "domain web1: no such domain");
	r.status = 99;		/* unknown: treated as undefined */
	strcpy(r.text, "commit in doubt");
	progress_failure(b, sizeof(b), "migrate web1 to node2", &r);
	assert_string_equal(b, "xl-reloc: migrate web1 to node2: UNDEFINED "
	    "STATE: commit in doubt; check 'xl list' on both hosts for the "
	    "domain, NAME--incoming and NAME--migratedaway, and relocd's log, "
	    "and keep exactly one copy running");
}

static void
test_jobs_rows(void **state)
{
	struct ctl_job	j;
	char		b[XR_LINE_MAX];

	memset(&j, 0, sizeof(j));
	j.job = 7;
	j.kind = CTL_JOB_MIGRATE_OUT;
	j.phase = MIG_PHASE_PRECOPY;
	strcpy(j.domain, "web1");
	strcpy(j.peer, "node2:8003");
	j.elapsed_ms = 125000;
	j.bytes_wire = 1572864;
	j.pid = 4242;
	jobs_header(b, sizeof(b), false);
	assert_string_equal(b, "JOB    KIND         DOMAIN           PEER"
	    "                     PHASE          ELAPSED       MiB");
	jobs_row(b, sizeof(b), &j);
	assert_string_equal(b, "7      migrate-out  web1             node2:8003"
	    "               pre-copy         2m05s       1.5");
	jobs_json_row(b, sizeof(b), &j);
	assert_string_equal(b, "{\"v\":1,\"job\":7,\"kind\":\"migrate-out\","
	    "\"domain\":\"web1\",\"peer\":\"node2:8003\","
	    "\"phase\":\"pre-copy\","
	    "\"elapsed_ms\":125000,\"bytes_wire\":1572864,\"pid\":4242}");

	/* --history: how and when it ended, in local time (TZ=UTC here) */
	setenv("TZ", "UTC", 1);
	tzset();
	strcpy(j.outcome, "aborted");
	j.ended_ms = 1796515200123ULL;	/* 2026-12-06 00:00:00.123 UTC */
	jobs_header(b, sizeof(b), true);
	assert_string_equal(b, "JOB    KIND         DOMAIN           PEER"
	    "                     OUTCOME  ENDED");
	jobs_row(b, sizeof(b), &j);
	assert_string_equal(b, "7      migrate-out  web1             node2:8003"
	    "               aborted  2026-12-06 00:00:00");
	jobs_json_row(b, sizeof(b), &j);
	assert_string_equal(b, "{\"v\":1,\"job\":7,\"kind\":\"migrate-out\","
	    "\"domain\":\"web1\",\"peer\":\"node2:8003\","
	    "\"outcome\":\"aborted\",\"ended_ms\":1796515200123}");
}

/* --- evacuate's planner --- */

static void
test_evac_plan(void **state)
{
	struct evac_dom		d[5] = {
		{ "d1", 4096 * MiB_KIB, 0 },
		{ "d2", 3072 * MiB_KIB, 0 },
		{ "d3", 2048 * MiB_KIB, 0 },
		{ "d4", 2048 * MiB_KIB, 0 },
		{ "d5", 5120 * MiB_KIB, 0 },
	};
	struct evac_target	t[2] = {
		{ "A", 8192 * MiB_KIB },
		{ "B", 6144 * MiB_KIB },
	};

	/* 16 GiB of domains, 14 GiB free: one must stay */
	assert_int_equal(evac_plan(d, 5, t, 2), 1);
	assert_int_equal(d[4].target, 0);	/* d5 5G -> A (8G, most) */
	assert_int_equal(d[0].target, 1);	/* d1 4G -> B (6G vs A 3G) */
	assert_int_equal(d[1].target, 0);	/* d2 3G -> A, exactly */
	assert_int_equal(d[2].target, 1);	/* d3 2G -> B, exactly */
	assert_int_equal(d[3].target, -1);	/* d4: nothing left */
	assert_true(t[0].free_kib == 0);
	assert_true(t[1].free_kib == 0);
}

static void
test_evac_plan_edges(void **state)
{
	struct evac_dom		d[2] = {
		{ "small", 1024, 0 },
		{ "huge", 1ULL << 40, 0 },
	};
	struct evac_target	t[2] = {
		{ "down", 0 },		/* unreachable: probed as 0 */
		{ "up", 4096 },
	};

	assert_int_equal(evac_plan(d, 2, t, 2), 1);
	assert_int_equal(d[0].target, 1);
	assert_int_equal(d[1].target, -1);
	assert_true(t[1].free_kib == 3072);
	/* no targets, no domains */
	assert_int_equal(evac_plan(d, 2, t, 0), 2);
	assert_int_equal(evac_plan(d, 0, t, 2), 0);
}

/* --- exit statuses and job following --- */

static void
test_exit_status(void **state)
{
	uint16_t	s;

	for (s = 0; s < CTL_ST__MAX; s++)
		assert_int_equal(client_exit_status(s), s);
	assert_int_equal(client_exit_status(CTL_ST__MAX), CTL_ST_UNDEFINED);
	assert_int_equal(client_exit_status(0xffff), CTL_ST_UNDEFINED);
	assert_int_equal(CTL_ST_USAGE, 1);
	assert_int_equal(CTL_ST_NOTFOUND, 2);
	assert_int_equal(CTL_ST_REFUSED, 3);
	assert_int_equal(CTL_ST_FAILED, 4);
	assert_int_equal(CTL_ST_CANCELLED, 5);
	assert_int_equal(CTL_ST_NODAEMON, 6);
	assert_int_equal(CTL_ST_UNDEFINED, 7);
}

static void
test_watch_handle(void **state)
{
	struct view		quiet = { .mode = VIEW_QUIET, .last_phase = -1 };
	struct job_watch	w;
	struct ctl_msg		m;

	memset(&w, 0, sizeof(w));
	w.view = &quiet;
	w.what = "migrate web1 to node2";
	memset(&m, 0, sizeof(m));
	m.type = CTL_ACCEPTED;
	m.u.job = 9;
	watch_handle(&w, &m);
	assert_true(w.job == 9);
	/* a refused cancel leaves the job running */
	memset(&m, 0, sizeof(m));
	m.type = CTL_ERROR;
	m.u.error.status = CTL_ST_REFUSED;
	strcpy(m.u.error.text, "job 9: past commit");
	watch_handle(&w, &m);
	assert_false(w.done);
	memset(&m, 0, sizeof(m));
	m.type = CTL_RESULT;
	m.u.result.job = 9;
	m.u.result.status = CTL_ST_FAILED;
	strcpy(m.u.result.text, "target stopped answering");
	watch_handle(&w, &m);
	assert_true(w.done);
	assert_int_equal(w.status, CTL_ST_FAILED);
	assert_string_equal(w.why, "target stopped answering");

	/* refused before any job: the ERROR's status is the exit status */
	memset(&w, 0, sizeof(w));
	w.view = &quiet;
	w.what = "save web1 to /x";
	memset(&m, 0, sizeof(m));
	m.type = CTL_ERROR;
	m.u.error.status = CTL_ST_NOTFOUND;
	strcpy(m.u.error.text, "domain web1: no such domain");
	watch_handle(&w, &m);
	assert_true(w.done);
	assert_int_equal(w.status, CTL_ST_NOTFOUND);
	assert_string_equal(w.why, "save web1 to /x: domain web1: no such "
	    "domain");
}

/* A fake relocd on a UNIX socket, with relocd.conf pointing at it. */
struct fake {
	char		dir[64];
	char		sock[128];
	char		conf[128];
	int		lfd;
	pthread_t	thread;
	pthread_t	client;
	bool		interrupt;	/* send the client SIGINT mid-job */
	struct ctl_msg	req;		/* what the client asked */
	bool		cancelled;	/* a CANCEL came */
};

static void
fake_send(int fd, struct ctl_msg *m)
{
	assert_int_equal(ctl_send(fd, m, NULL), 0);
}

static void *
fake_relocd(void *arg)
{
	struct fake	*f = arg;
	struct ctl_msg	 m;
	int		 fd;

	fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ctl_recv(fd, &f->req, NULL), 0);
	memset(&m, 0, sizeof(m));
	m.type = CTL_ACCEPTED;
	m.u.job = 77;
	fake_send(fd, &m);
	memset(&m, 0, sizeof(m));
	m.type = CTL_EVENT;
	m.u.event.job = 77;
	m.u.event.phase = MIG_PHASE_PRECOPY;
	m.u.event.round = 1;
	m.u.event.elapsed_ms = 100;
	fake_send(fd, &m);
	fake_send(fd, &m);	/* same phase: no second line */
	memset(&m, 0, sizeof(m));
	m.type = CTL_RESULT;
	m.u.result.job = 77;
	m.u.result.total_ms = 1500;
	m.u.result.bytes_wire = 1048576;
	m.u.result.bytes_stream = 2097152;
	m.u.result.rounds = 2;
	if (f->interrupt) {
		pthread_kill(f->client, SIGINT);
		assert_int_equal(ctl_recv(fd, &m, NULL), 0);
		assert_int_equal(m.type, CTL_CANCEL);
		assert_true(m.u.job == 77);
		f->cancelled = true;
		m.type = CTL_ACCEPTED;	/* cancel delivered */
		fake_send(fd, &m);
		memset(&m, 0, sizeof(m));
		m.type = CTL_RESULT;
		m.u.result.job = 77;
		m.u.result.status = CTL_ST_CANCELLED;
		m.u.result.total_ms = 900;
	}
	fake_send(fd, &m);
	close(fd);
	return NULL;
}

static void
fake_start(struct fake *f, bool interrupt, void *(*serve)(void *))
{
	struct sockaddr_un	sun;
	FILE			*c;

	memset(f, 0, sizeof(*f));
	strcpy(f->dir, "/tmp/xlreloc-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/relocd.sock", f->dir);
	snprintf(f->conf, sizeof(f->conf), "%s/relocd.conf", f->dir);
	assert_non_null(c = fopen(f->conf, "w"));
	fprintf(c, "control_socket = \"%s\"\n", f->sock);
	fclose(c);
	f->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, f->sock);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(f->lfd, 1), 0);
	f->interrupt = interrupt;
	f->client = pthread_self();
	assert_int_equal(pthread_create(&f->thread, NULL, serve, f), 0);
}

static void
fake_stop(struct fake *f)
{
	pthread_join(f->thread, NULL);
	close(f->lfd);
	unlink(f->sock);
	unlink(f->conf);
	rmdir(f->dir);
}

static void
test_run_job_lines(void **state)
{
	struct fake		f;
	struct xr_global	g;
	struct ctl_msg		m;
	struct view		v;
	FILE			*out;
	char			text[1024];
	size_t			n;

	fake_start(&f, false, fake_relocd);
	g.conf = f.conf;
	g.conf_given = true;
	memset(&m, 0, sizeof(m));
	m.type = CTL_MIGRATE;
	strcpy(m.u.migrate.domain, "web1");
	strcpy(m.u.migrate.host, "node2");
	assert_non_null(out = tmpfile());
	view_init(&v, out, false);
	assert_int_equal(v.mode, VIEW_LINES);
	assert_int_equal(client_run_job(&g, &m, &v, "migrate web1 to node2"),
	    CTL_ST_OK);
	fake_stop(&f);
	assert_int_equal(f.req.type, CTL_MIGRATE);
	assert_string_equal(f.req.u.migrate.domain, "web1");
	rewind(out);
	n = fread(text, 1, sizeof(text) - 1, out);
	text[n] = '\0';
	fclose(out);
	assert_string_equal(text, "job 77 started\n"
	    "[100ms] pre-copy: round 1, 0.0/0.0 MiB, 0.0 MiB/s\n"
	    "migrate web1 to node2: done in 1.5s: guest paused 0ms, 1.0 MiB "
	    "on the wire (2.0 MiB of stream), 2 rounds\n");
}

static void
test_run_job_ctrl_c_cancels(void **state)
{
	struct fake		f;
	struct xr_global	g;
	struct ctl_msg		m;
	struct view		v;
	FILE			*out;

	fake_start(&f, true, fake_relocd);
	g.conf = f.conf;
	g.conf_given = true;
	memset(&m, 0, sizeof(m));
	m.type = CTL_SAVE;
	strcpy(m.u.save.domain, "web1");
	strcpy(m.u.save.path, "/x/web1.xl");
	assert_non_null(out = tmpfile());
	view_init(&v, out, true);
	assert_int_equal(client_run_job(&g, &m, &v, "save web1 to /x/web1.xl"),
	    CTL_ST_CANCELLED);
	fake_stop(&f);
	assert_true(f.cancelled);
	fclose(out);
	/* Ctrl-C is back to its default once the job has ended */
	assert_false(client_sigint_armed());
}

static void
test_no_relocd(void **state)
{
	struct xr_global	g = { "/nonexistent/relocd.conf", true, NULL };
	struct xr_client	cl;
	struct mig_err		err;
	char			dir[] = "/tmp/xlreloc-test.XXXXXX";
	char			conf[64], want[256];
	FILE			*c;

	/* a missing -c FILE is a usage error */
	assert_int_equal(client_open(&g, &cl, &err), CTL_ST_USAGE);
	assert_string_equal(err.msg, "/nonexistent/relocd.conf: No such file "
	    "or directory");
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/relocd.conf", dir);
	assert_non_null(c = fopen(conf, "w"));
	fprintf(c, "control_socket = \"%s/none.sock\"\n", dir);
	fclose(c);
	g.conf = conf;
	assert_int_equal(client_open(&g, &cl, &err), CTL_ST_NODAEMON);
	snprintf(want, sizeof(want), "relocd is not running (no %s/none.sock): "
	    "start it with 'systemctl start relocd' or 'relocd'", dir);
	assert_string_equal(err.msg, want);
	assert_int_equal(cl.fd, -1);
	unlink(conf);
	rmdir(dir);
}

/* A relocd that answers evacuate's questions: three connections, the
 * first asking DOMAINS and PROBEs, each other one MIGRATE. */
static void
evac_answer(int fd, const struct ctl_msg *q)
{
	static const struct { const char *name; uint32_t domid;
	    uint64_t mib; uint16_t state; } doms[] = {
		{ "Domain-0", 0, 4096, CTL_DS_RUNNING },
		{ "web1", 3, 2048, CTL_DS_RUNNING },
		{ "db", 4, 4096, CTL_DS_PAUSED },
		{ "old", 5, 1024, CTL_DS_SHUTDOWN },
	};
	struct ctl_msg	m;
	size_t		i;

	memset(&m, 0, sizeof(m));
	switch (q->type) {
	case CTL_DOMAINS:
		for (i = 0; i < sizeof(doms) / sizeof(doms[0]); i++) {
			memset(&m, 0, sizeof(m));
			m.type = CTL_DOMAIN;
			strcpy(m.u.domain.name, doms[i].name);
			m.u.domain.domid = doms[i].domid;
			m.u.domain.mem_kib = doms[i].mib * MiB_KIB;
			m.u.domain.state = doms[i].state;
			fake_send(fd, &m);
		}
		memset(&m, 0, sizeof(m));
		m.type = CTL_DOMAINS_END;
		fake_send(fd, &m);
		break;
	case CTL_PROBE:
		assert_int_equal(q->u.probe.flags, CTL_PF_TLS);
		m.type = CTL_PROBED;
		strcpy(m.u.probed.host, q->u.probe.host);
		if (strcmp(q->u.probe.host, "down") == 0) {
			m.u.probed.status = CTL_ST_FAILED;
			strcpy(m.u.probed.text, "connect: Connection refused");
		} else
			m.u.probed.mem_free_kib = m.u.probed.mem_total_kib =
			    (strcmp(q->u.probe.host, "n1") == 0 ? 5120 : 2048) *
			    MiB_KIB;
		fake_send(fd, &m);
		break;
	case CTL_MIGRATE:
		m.type = CTL_ACCEPTED;
		m.u.job = q->u.migrate.domain[0];
		fake_send(fd, &m);
		memset(&m, 0, sizeof(m));
		m.type = CTL_RESULT;
		m.u.result.job = q->u.migrate.domain[0];
		m.u.result.total_ms = 2000;
		/* db goes to n1 (most memory) and fails there */
		if (strcmp(q->u.migrate.host, "n1") == 0) {
			m.u.result.status = CTL_ST_FAILED;
			strcpy(m.u.result.text, "target stopped answering");
		}
		fake_send(fd, &m);
		break;
	default:
		fail_msg("unexpected %s", ctl_type_name(q->type));
	}
}

static void *
fake_evac_relocd(void *arg)
{
	struct fake	*f = arg;
	struct ctl_msg	 q;
	int		 fd, n;

	for (n = 0; n < 3; n++) {
		fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
		assert_true(fd >= 0);
		while (ctl_recv(fd, &q, NULL) == 0)
			evac_answer(fd, &q);
		close(fd);
	}
	return NULL;
}

static void
test_evacuate_against_fake_relocd(void **state)
{
	char *argv[] = { "evacuate", "--to", "n1,n2,down", "--parallel", "2" };
	struct fake		f;
	struct xr_global	g;
	FILE			*out;
	char			text[4096];
	size_t			n;
	int			saved, st;

	fake_start(&f, false, fake_evac_relocd);
	g.conf = f.conf;
	g.conf_given = true;
	assert_non_null(out = tmpfile());
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fileno(out), STDOUT_FILENO);
	st = cmd_evacuate(cmd_find("evacuate"), &g, ARGC(argv), argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	fake_stop(&f);
	rewind(out);
	n = fread(text, 1, sizeof(text) - 1, out);
	text[n] = '\0';
	fclose(out);
	/* the worst outcome: db failed (old was skipped: refused, 3) */
	assert_int_equal(st, CTL_ST_FAILED);
	assert_non_null(strstr(text,
	    "db                           4096.0  n1\n"));
	assert_non_null(strstr(text,
	    "web1                         2048.0  n2\n"));
	assert_null(strstr(text, "Domain-0"));
	assert_null(strstr(text, "old"));
	assert_non_null(strstr(text, "db                       n1"
	    "                       failed, source resumed         2.0s  "
	    "target stopped answering\n"));
	assert_non_null(strstr(text, "web1                     n2"
	    "                       ok                             2.0s  \n"));
}

/* --- the tunnel against a fake relocd --- */

struct fake_peer {
	int		fd;
	bool		refuse;
	bool		door;		/* close before greeting */
	bool		reasons;	/* offer MIG_FEAT_XL_REASONS */
	const char	*late;		/* REFUSED this after the banner */
	bool		ready;		/* "ready" after the banner */
	uint16_t	xlflags;	/* what XL_TUNNEL carried */
	char		echoed[256];
	size_t		nechoed;
};

static void
peer_read_frame(int fd, struct mig_msg *m, uint8_t *body, size_t cap)
{
	uint8_t			hdrb[MIG_FRAME_HDR_LEN];
	struct mig_frame_hdr	hdr;

	assert_int_equal(recv(fd, hdrb, sizeof(hdrb), MSG_WAITALL),
	    sizeof(hdrb));
	assert_int_equal(mig_frame_hdr_decode(hdrb, &hdr, NULL), 0);
	assert_true(hdr.len <= cap);
	assert_int_equal(recv(fd, body, hdr.len, MSG_WAITALL), hdr.len);
	assert_int_equal(mig_msg_decode(&hdr, body, m, NULL), 0);
}

static void
peer_write_msg(int fd, const struct mig_msg *m)
{
	uint8_t	buf[2048];
	size_t	len;

	assert_int_equal(mig_msg_encode(m, buf, sizeof(buf), &len, NULL), 0);
	assert_int_equal(write(fd, buf, len), len);
}

static void *
fake_peer(void *arg)
{
	struct fake_peer	*p = arg;
	uint8_t			 pre[MIG_PREAMBLE_LEN], body[4096];
	struct mig_preamble	 pp;
	struct mig_msg		 m;
	ssize_t			 n;

	if (p->door) {	/* as relocd's host-allow list does: not a word */
		close(p->fd);
		return NULL;
	}
	mig_preamble_encode(pre);
	assert_int_equal(write(p->fd, pre, sizeof(pre)), sizeof(pre));
	memset(&m, 0, sizeof(m));
	m.type = MIG_MSG_HELLO;
	strcpy(m.u.hello.version, "xen-relocd 0.1.0");
	strcpy(m.u.hello.hostname, "node2");
	strcpy(m.u.hello.arch, "x86_64");
	m.u.hello.xen_major = 4;
	m.u.hello.xen_minor = 17;
	m.u.hello.page_size = 4096;
	m.u.hello.features = MIG_FEAT_XL_TUNNEL |
	    (p->reasons ? MIG_FEAT_XL_REASONS : 0);
	m.u.hello.max_data_frame = MIG_FRAME_DATA_MAX;
	peer_write_msg(p->fd, &m);
	assert_int_equal(recv(p->fd, pre, sizeof(pre), MSG_WAITALL),
	    sizeof(pre));
	assert_int_equal(mig_preamble_decode(pre, &pp, NULL), 0);
	peer_read_frame(p->fd, &m, body, sizeof(body));
	assert_int_equal(m.type, MIG_MSG_HELLO);
	peer_read_frame(p->fd, &m, body, sizeof(body));
	assert_int_equal(m.type, MIG_MSG_XL_TUNNEL);
	p->xlflags = m.u.xl_tunnel.flags;
	if (p->refuse) {
		memset(&m, 0, sizeof(m));
		m.type = MIG_MSG_REFUSED;
		m.u.refused.reason = MIG_REFUSE_BUSY;
		strcpy(m.u.refused.text, "4 incoming migrations already");
		peer_write_msg(p->fd, &m);
		close(p->fd);
		return NULL;
	}
	assert_int_equal(write(p->fd, MIG_XL_BANNER, MIG_XL_BANNER_LEN),
	    MIG_XL_BANNER_LEN);
	if (p->late != NULL || p->ready) {
		/* As relocd in xl mode: it reads xl's header first. */
		assert_true(recv(p->fd, body, 8, MSG_WAITALL) == 8);
		memset(&m, 0, sizeof(m));
		m.type = MIG_MSG_REFUSED;
		m.u.refused.reason = MIG_REFUSE_NO_MEMORY;
		if (p->late != NULL) {
			snprintf(m.u.refused.text, sizeof(m.u.refused.text),
			    "%s", p->late);
			peer_write_msg(p->fd, &m);
		} else {
			const uint8_t	*r;
			size_t		 len;

			r = mig_xl_msg_bytes(MIG_XL_MSG_READY, &len);
			assert_int_equal(write(p->fd, r, len), len);
		}
		shutdown(p->fd, SHUT_WR);
		while (read(p->fd, body, sizeof(body)) > 0)
			;
		close(p->fd);
		return NULL;
	}
	/* Echo until the tunnel's stdin ends, then close. */
	while ((n = read(p->fd, body, sizeof(body))) > 0) {
		assert_true(p->nechoed + (size_t)n <= sizeof(p->echoed));
		memcpy(p->echoed + p->nechoed, body, (size_t)n);
		p->nechoed += (size_t)n;
		assert_int_equal(write(p->fd, body, (size_t)n), n);
	}
	close(p->fd);
	return NULL;
}

static void
test_tunnel_pump(void **state)
{
	static const char	 payload[] =
	    "Xen saved domain, xl format\n \0 \r...stream bytes...";
	struct tunnel_args	 a;
	struct fake_peer	 p;
	struct mig_conn		*c;
	struct mig_err		 err;
	pthread_t		 th;
	int			 sv[2], in[2], out[2];
	char			 got[512];
	ssize_t			 n;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	memset(&p, 0, sizeof(p));
	p.fd = sv[1];
	assert_non_null(c = mig_conn_new(sv[0], &err));
	assert_int_equal(pthread_create(&th, NULL, fake_peer, &p), 0);
	memset(&a, 0, sizeof(a));
	a.host = "node2";
	a.xlflags = MIG_XLT_F_PAUSED;

	/* xl's side: the whole stream, then EOF */
	assert_int_equal(write(in[1], payload, sizeof(payload)),
	    sizeof(payload));
	close(in[1]);
	assert_int_equal(tunnel_handshake(c, &a, out[1], &err), CTL_ST_OK);
	assert_false(a.reasons);	/* not offered: an older relocd */
	assert_int_equal(tunnel_pump(c, &a, in[0], out[1], &err), CTL_ST_OK);
	pthread_join(th, NULL);
	close(out[1]);
	n = read(out[0], got, sizeof(got));
	/* xl sees the banner, then relocd's answers (here the echo) */
	assert_int_equal(n, MIG_XL_BANNER_LEN + sizeof(payload));
	assert_memory_equal(got, MIG_XL_BANNER, MIG_XL_BANNER_LEN);
	assert_memory_equal(got + MIG_XL_BANNER_LEN, payload, sizeof(payload));
	assert_int_equal(p.nechoed, sizeof(payload));
	assert_memory_equal(p.echoed, payload, sizeof(payload));
	assert_int_equal(p.xlflags, MIG_XLT_F_PAUSED);
	mig_conn_close(c);
	close(in[0]);
	close(out[0]);
}

static void
test_tunnel_refused(void **state)
{
	struct tunnel_args	 a;
	struct fake_peer	 p;
	struct mig_conn		*c;
	struct mig_err		 err;
	pthread_t		 th;
	int			 sv[2], out[2];
	char			 got[64];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC | O_NONBLOCK), 0);
	memset(&p, 0, sizeof(p));
	p.fd = sv[1];
	p.refuse = true;
	assert_non_null(c = mig_conn_new(sv[0], &err));
	assert_int_equal(pthread_create(&th, NULL, fake_peer, &p), 0);
	memset(&a, 0, sizeof(a));
	a.host = "node2";
	assert_int_equal(tunnel_handshake(c, &a, out[1], &err),
	    CTL_ST_REFUSED);
	assert_string_equal(err.msg, "busy: 4 incoming migrations already");
	assert_int_equal(a.reply, MIG_MSG_REFUSED);
	pthread_join(th, NULL);
	/* nothing reached xl: it sees EOF where the banner should be */
	assert_int_equal(read(out[0], got, sizeof(got)), -1);
	mig_conn_close(c);
	close(out[0]);
	close(out[1]);
}

/* Runs the tunnel against p until it ends; what reached xl in got. */
static int
tunnel_against(struct fake_peer *p, struct tunnel_args *a,
    struct mig_err *err, char *got, size_t size, ssize_t *ngot)
{
	static const char	 xlhdr[] = "Xen save";
	struct mig_conn		*c;
	pthread_t		 th;
	int			 sv[2], in[2], out[2], st;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	p->fd = sv[1];
	assert_non_null(c = mig_conn_new(sv[0], err));
	assert_int_equal(pthread_create(&th, NULL, fake_peer, p), 0);
	a->host = "node2";
	/* xl's side: the start of its header, and it keeps its pipe open */
	assert_int_equal(write(in[1], xlhdr, 8), 8);
	if ((st = tunnel_handshake(c, a, out[1], err)) == CTL_ST_OK)
		st = tunnel_pump(c, a, in[0], out[1], err);
	mig_conn_close(c);	/* the fake relocd reads until we go */
	pthread_join(th, NULL);
	close(out[1]);
	*ngot = read(out[0], got, size);
	close(in[0]);
	close(in[1]);
	close(out[0]);
	return st;
}

/* A relocd that offers reasons: the tunnel asks, and passes "ready" on. */
static void
test_tunnel_reasons_ready(void **state)
{
	struct tunnel_args	a;
	struct fake_peer	p;
	struct mig_err		err;
	char			got[256];
	ssize_t			n;
	size_t			rlen;
	const uint8_t		*r = mig_xl_msg_bytes(MIG_XL_MSG_READY, &rlen);

	memset(&p, 0, sizeof(p));
	memset(&a, 0, sizeof(a));
	p.reasons = p.ready = true;
	assert_int_equal(tunnel_against(&p, &a, &err, got, sizeof(got), &n),
	    CTL_ST_OK);
	assert_true(a.reasons);
	assert_int_equal(p.xlflags, MIG_XLT_F_REASONS);
	assert_int_equal(a.reply, 0);
	assert_int_equal(n, MIG_XL_BANNER_LEN + rlen);
	assert_memory_equal(got, MIG_XL_BANNER, MIG_XL_BANNER_LEN);
	assert_memory_equal(got + MIG_XL_BANNER_LEN, r, rlen);
}

/* A refusal after xl's header: its text for the user, nothing for xl. */
static void
test_tunnel_reasons_refused(void **state)
{
	struct tunnel_args	a;
	struct fake_peer	p;
	struct mig_err		err;
	char			got[256];
	ssize_t			n;

	memset(&p, 0, sizeof(p));
	memset(&a, 0, sizeof(a));
	p.reasons = true;
	p.late = "not enough memory (32768 KiB needed, 8192 KiB free)";
	assert_int_equal(tunnel_against(&p, &a, &err, got, sizeof(got), &n),
	    CTL_ST_REFUSED);
	assert_int_equal(a.reply, MIG_MSG_REFUSED);
	assert_string_equal(err.msg, "no-memory: not enough memory (32768 "
	    "KiB needed, 8192 KiB free)");
	/* xl saw the banner and then EOF, as from a receiver that quits */
	assert_int_equal(n, MIG_XL_BANNER_LEN);
}

/* --no-reasons (or an older tunnel): the flag stays clear. */
static void
test_tunnel_no_reasons(void **state)
{
	struct tunnel_args	a;
	struct fake_peer	p;
	struct mig_err		err;
	char			got[256];
	ssize_t			n;
	size_t			rlen;

	(void)mig_xl_msg_bytes(MIG_XL_MSG_READY, &rlen);
	memset(&p, 0, sizeof(p));
	memset(&a, 0, sizeof(a));
	p.reasons = p.ready = true;
	a.no_reasons = true;
	assert_int_equal(tunnel_against(&p, &a, &err, got, sizeof(got), &n),
	    CTL_ST_OK);
	assert_false(a.reasons);
	assert_int_equal(p.xlflags, 0);
	assert_int_equal(n, MIG_XL_BANNER_LEN + rlen);
}

/* A host refused at the door: closed before relocd's greeting. */
static void
test_tunnel_door(void **state)
{
	struct tunnel_args	a;
	struct fake_peer	p;
	struct mig_err		err;
	char			got[64];
	ssize_t			n;

	memset(&p, 0, sizeof(p));
	memset(&a, 0, sizeof(a));
	p.door = true;
	assert_int_equal(tunnel_against(&p, &a, &err, got, sizeof(got), &n),
	    CTL_ST_REFUSED);
	assert_int_equal(a.reply, 0);	/* relocd said nothing */
	assert_int_equal(err.code, MIG_E_DENIED);
	assert_non_null(strstr(err.msg, "closed the connection before "
	    "greeting us: its relocation_hosts_allow does not admit"));
	assert_int_equal(n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_parse_all_options),
		cmocka_unit_test(test_migrate_parse_defaults),
		cmocka_unit_test(test_xl_forms),
		cmocka_unit_test(test_xl_forms_all),
		cmocka_unit_test(test_migrate_parse_errors),
		cmocka_unit_test(test_save_restore_parse),
		cmocka_unit_test(test_jobs_cancel_parse),
		cmocka_unit_test(test_verify_cancel_json),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_evacuate_parse),
		cmocka_unit_test(test_tunnel_parse),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_progress_line),
		cmocka_unit_test(test_phase_line),
		cmocka_unit_test(test_json_lines),
		cmocka_unit_test(test_json_result),
		cmocka_unit_test(test_summary_and_failures),
		cmocka_unit_test(test_jobs_rows),
		cmocka_unit_test(test_evac_plan),
		cmocka_unit_test(test_evac_plan_edges),
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_watch_handle),
		cmocka_unit_test(test_run_job_lines),
		cmocka_unit_test(test_run_job_ctrl_c_cancels),
		cmocka_unit_test(test_no_relocd),
		cmocka_unit_test(test_evacuate_against_fake_relocd),
		cmocka_unit_test(test_tunnel_pump),
		cmocka_unit_test(test_tunnel_refused),
		cmocka_unit_test(test_tunnel_reasons_ready),
		cmocka_unit_test(test_tunnel_reasons_refused),
		cmocka_unit_test(test_tunnel_no_reasons),
		cmocka_unit_test(test_tunnel_door),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
