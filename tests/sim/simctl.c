/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * simctl: drives a simulated Xen host from shell tests.
 *
 *   simctl [-d HOSTDIR] COMMAND ...     (HOSTDIR defaults to $RELOCD_SIM_DIR)
 *
 * Prints results on stdout; on failure one line on stderr, exit 1
 * (2 for a usage error).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "hv_sim.h"

static const char	*dir;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: simctl [-d HOSTDIR] COMMAND ...\n"
	    "  init [--mem-mib N] [--xen MAJOR.MINOR]\n"
	    "  host [KEY VALUE]               show host facts, or set one\n"
	    "  create NAME --mem-mib N [--dirty-rate P] [--uuid U] "
	    "[--type pv|pvh|hvm]\n"
	    "  disk NAME|DOMID PATH           one more disk (an existing "
	    "file)\n"
	    "  list                           domid name state mem-MiB\n"
	    "  info NAME|DOMID\n"
	    "  checksum NAME|DOMID            SHA-256 of its memory\n"
	    "  set-rate NAME|DOMID P          pages dirtied per second\n"
	    "  set-cap NAME|DOMID C           credit cap, percent; 0 = none\n"
	    "  destroy NAME|DOMID\n"
	    "  shutdown NAME|DOMID REASON     the guest shuts down: poweroff\n"
	    "                                 reboot suspend crash watchdog "
	    "soft_reset\n"
	    "  set-action NAME|DOMID REASON ACTION   its on_REASON: destroy\n"
	    "                                 restart rename-restart preserve\n"
	    "                                 coredump-destroy coredump-restart "
	    "soft-reset\n"
	    "  fault KNOB VALUE               fail_suspend die_after die_mode\n"
	    "                                 stall_after restore_nomem "
	    "never_converge\n");
	exit(2);
}

static void __attribute__((noreturn))
die(const struct mig_err *e)
{
	fprintf(stderr, "simctl: %s\n", e->msg);
	exit(1);
}

static uint64_t
number(const char *what, const char *s)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0) {
		fprintf(stderr, "simctl: %s: \"%s\" is not a number\n", what,
		    s);
		exit(2);
	}
	return v;
}

static void
lookup(const char *spec, struct hv_sim_dom *d)
{
	struct mig_err	e;

	if (hv_sim_lookup(dir, spec, d, &e) == -1)
		die(&e);
}

static int
cmd_init(int argc, char **argv)
{
	static const struct option	 lo[] = {
		{ "mem-mib", required_argument, NULL, 'm' },
		{ "xen", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 }
	};
	struct mig_err			 e;
	uint64_t			 mem = 4096;
	int				 c, major = 4, minor = 17;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'm')
			mem = number("--mem-mib", optarg);
		else if (c == 'x') {
			if (sscanf(optarg, "%d.%d", &major, &minor) != 2 ||
			    major < 0 || minor < 0)
				usage();
		} else
			usage();
	}
	if (optind != argc)
		usage();
	if (hv_sim_init(dir, mem, major, minor, &e) == -1)
		die(&e);
	return 0;
}

static int
cmd_host(int argc, char **argv)
{
	struct mig_err	 e;
	char		 path[4096], line[512];
	FILE		*f;

	if (argc == 3) {
		if (hv_sim_host_set(dir, argv[1], argv[2], &e) == -1)
			die(&e);
		return 0;
	}
	if (argc != 1)
		usage();
	snprintf(path, sizeof(path), "%s/host", dir);
	if ((f = fopen(path, "re")) == NULL) {
		fprintf(stderr, "simctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "dom ", 4) != 0)
			fputs(line, stdout);
	fclose(f);
	return 0;
}

static int
cmd_create(int argc, char **argv)
{
	static const struct option	 lo[] = {
		{ "mem-mib", required_argument, NULL, 'm' },
		{ "dirty-rate", required_argument, NULL, 'r' },
		{ "uuid", required_argument, NULL, 'u' },
		{ "type", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	struct mig_err			 e;
	const char			*uuid = NULL, *type = NULL;
	uint64_t			 mem = 0, rate = 0;
	uint32_t			 domid;
	int				 c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'm')
			mem = number("--mem-mib", optarg);
		else if (c == 'r')
			rate = number("--dirty-rate", optarg);
		else if (c == 'u')
			uuid = optarg;
		else if (c == 't')
			type = optarg;
		else
			usage();
	}
	if (optind != argc - 1 || mem == 0)
		usage();
	if (hv_sim_create(dir, argv[optind], mem, rate, uuid, type, &domid,
	    &e) == -1)
		die(&e);
	printf("%" PRIu32 "\n", domid);
	return 0;
}

static int
cmd_list(int argc, char **argv)
{
	struct mig_hv_dominfo	*list;
	struct mig_hv		*hv;
	struct event_base	*base;
	struct hv_sim_conf	 conf = { dir };
	struct mig_err		 e;
	int			 i, n;

	if (argc != 1)
		usage();
	/* Through the backend: what relocd would see. */
	if ((base = event_base_new()) == NULL) {
		fprintf(stderr, "simctl: cannot create an event base\n");
		return 1;
	}
	if ((hv = mig_hv_open(&hv_sim_ops, &conf, base, &e)) == NULL ||
	    mig_hv_list(hv, &list, &n, &e) == -1)
		die(&e);
	for (i = 0; i < n; i++)
		printf("%" PRIu32 " %s %s %" PRIu64 "\n", list[i].domid,
		    list[i].name, mig_hv_domstate_name(list[i].state),
		    list[i].mem_kib / 1024);
	free(list);
	mig_hv_close(hv);
	event_base_free(base);
	return 0;
}

static int
cmd_info(int argc, char **argv)
{
	struct hv_sim_dom	d;
	char			u[37];

	if (argc != 2)
		usage();
	lookup(argv[1], &d);
	mig_hv_uuid_format(d.uuid, u);
	printf("domid: %" PRIu32 "\nname: %s\nuuid: %s\nstate: %s\n"
	    "type: %s\nmem_kib: %" PRIu64 "\nvcpus: %" PRIu32 "\n"
	    "dirty_rate: %" PRIu64 "\ncap: %d\n", d.domid, d.name, u,
	    mig_hv_domstate_name(d.state), mig_hv_domtype_name(d.type),
	    d.mem_kib, d.vcpus, d.dirty_rate, d.cap);
	if (d.state == MIG_HV_DOM_SHUTDOWN || d.state == MIG_HV_DOM_SUSPENDED)
		printf("shutdown_reason: %s\n",
		    mig_hv_shutdown_name(d.reason));
	return 0;
}

static int
reason_parse(const char *s)
{
	int	r;

	for (r = 0; r < MIG_HV_SHUTDOWN_UNKNOWN; r++)
		if (strcmp(s, mig_hv_shutdown_name(r)) == 0)
			return r;
	fprintf(stderr, "simctl: unknown shutdown reason %s\n", s);
	exit(2);
}

static int
cmd_shutdown(int argc, char **argv)
{
	struct hv_sim_dom	d;
	struct mig_err		e;

	if (argc != 3)
		usage();
	lookup(argv[1], &d);
	if (hv_sim_shutdown(dir, d.domid, reason_parse(argv[2]), &e) == -1)
		die(&e);
	return 0;
}

static int
cmd_set_action(int argc, char **argv)
{
	struct hv_sim_dom	d;
	struct mig_err		e;
	int			r, a;

	if (argc != 4)
		usage();
	lookup(argv[1], &d);
	r = reason_parse(argv[2]);
	if ((a = mig_hv_action_parse(argv[3])) == -1) {
		fprintf(stderr, "simctl: unknown action %s\n", argv[3]);
		return 2;
	}
	if (hv_sim_set_action(dir, d.domid, r, a, &e) == -1)
		die(&e);
	return 0;
}

static int
cmd_checksum(int argc, char **argv)
{
	struct hv_sim_dom	d;
	struct mig_err		e;
	char			hex[65];

	if (argc != 2)
		usage();
	lookup(argv[1], &d);
	if (hv_sim_checksum(dir, d.domid, hex, &e) == -1)
		die(&e);
	printf("%s\n", hex);
	return 0;
}

static int
cmd_set_rate(int argc, char **argv)
{
	struct hv_sim_dom	d;
	struct mig_err		e;

	if (argc != 3)
		usage();
	lookup(argv[1], &d);
	if (hv_sim_set_rate(dir, d.domid, number("rate", argv[2]), &e) == -1)
		die(&e);
	return 0;
}

static int
cmd_set_cap(int argc, char **argv)
{
	struct hv_sim_dom	d;
	struct mig_err		e;
	uint64_t		cap;

	if (argc != 3)
		usage();
	lookup(argv[1], &d);
	if ((cap = number("cap", argv[2])) > 100 * 512)
		usage();
	if (hv_sim_set_cap(dir, d.domid, (int)cap, &e) == -1)
		die(&e);
	return 0;
}

static int
cmd_destroy(int argc, char **argv)
{
	struct hv_sim_dom	d;
	struct mig_err		e;

	if (argc != 2)
		usage();
	lookup(argv[1], &d);
	if (hv_sim_destroy(dir, d.domid, &e) == -1)
		die(&e);
	return 0;
}

static int
cmd_fault(int argc, char **argv)
{
	struct mig_err	e;

	if (argc != 3)
		usage();
	if (hv_sim_fault(dir, argv[1], argv[2], &e) == -1)
		die(&e);
	return 0;
}

static int
cmd_disk(int argc, char **argv)
{
	struct mig_err	e;

	if (argc != 3)
		usage();
	if (hv_sim_add_disk(dir, argv[1], argv[2], &e) == -1)
		die(&e);
	return 0;
}

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
} cmds[] = {
	{ "init", cmd_init },
	{ "host", cmd_host },
	{ "create", cmd_create },
	{ "disk", cmd_disk },
	{ "list", cmd_list },
	{ "info", cmd_info },
	{ "checksum", cmd_checksum },
	{ "set-rate", cmd_set_rate },
	{ "set-cap", cmd_set_cap },
	{ "destroy", cmd_destroy },
	{ "shutdown", cmd_shutdown },
	{ "set-action", cmd_set_action },
	{ "fault", cmd_fault },
};

int
main(int argc, char **argv)
{
	size_t	i;
	int	c;

	dir = getenv(HV_SIM_ENV);
	while ((c = getopt(argc, argv, "+d:")) != -1) {
		if (c == 'd')
			dir = optarg;
		else
			usage();
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (dir == NULL || *dir == '\0') {
		fprintf(stderr, "simctl: no host directory: use -d HOSTDIR "
		    "or set %s\n", HV_SIM_ENV);
		return 2;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0) {
			optind = 0;	/* each command parses its own */
			return cmds[i].fn(argc, argv);
		}
	fprintf(stderr, "simctl: unknown command %s\n", argv[0]);
	return 2;
}
