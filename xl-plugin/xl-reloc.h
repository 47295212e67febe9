/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xl-reloc: the xl-style command.  A command table (cmdtable.c) and one
 * cmd-NAME.c per command, as xl and tmux are built; this header declares
 * each file's functions under its name.
 *
 * Every command's arguments are parsed by a NAME_parse() that does no I/O,
 * so the tests can feed it argv.  Commands return an exit status, which is
 * an enum ctl_status (ctl.h, xl-reloc(1) EXIT STATUS).
 */
#ifndef XL_RELOC_H
#define XL_RELOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mig/conn.h"
#include "ctl.h"
#include "mig/error.h"
#include "mig/proto.h"

#define XR_LINE_MAX	4096	/* one formatted line, JSON included */
/* Every --json object opens with its format's version: a consumer can
 * tell a change that breaks it (v 2) from an added key (still 1). */
#define XR_JSON_OPEN	"{\"v\":1,"
#define XR_PAGE_SIZE	4096	/* ctl_event counts x86 pages */

struct mig_hv_ops;

/* Options before the command name. */
struct xr_global {
	const char	*conf;		/* -c FILE */
	bool		 conf_given;	/* a missing -c FILE is an error */
	/* --direct's hypervisor: libxl, or the simulated host in tests. */
	const struct mig_hv_ops *hv_ops;
};

/* main.c: xl-reloc's main(), on the hypervisor backend given. */
int	 xlreloc_main(int, char **, const struct mig_hv_ops *);

/*
 * A command's options, declared once in its table entry (cmdtable.c): the
 * parser (args.c), "CMD --help", the man page and the bash completion all
 * follow the table, and tests/unit/test_xlargs.c checks that they do.
 */
enum xr_arg {
	XA_NONE,		/* a switch: sets and clears bits of the field */
	XA_STRING,		/* copied into a char array (1 to size-1 bytes) */
	XA_PORT,		/* 1 to 65535 */
	XA_RATE,		/* bytes per second, "100M" (relocd.conf's sizes) */
	XA_SIZE,		/* bytes, "4000M", min to max */
	XA_MS,			/* milliseconds, min to max */
	XA_COUNT,		/* a number, min to max */
	XA_FILE,		/* a path, made absolute */
};

struct xr_opt {
	const char	*name;		/* the long name, without "--" */
	char		 letter;	/* the short one, or 0 */
	enum xr_arg	 kind;
	const char	*arg;		/* the value's name in the help: "N" */
	const char	*help;		/* one line */
	size_t		 off;		/* the field it sets in the args struct */
	size_t		 size;		/* (XR_AT) */
	uint64_t	 set, clear;	/* XA_NONE: the bits */
	uint64_t	 min, max;	/* XA_MS, XA_COUNT: the range */
	/* When the value needs more than its kind checks: takes it instead
	 * of the field (what is its args struct). */
	int		(*take)(void *, const char *, struct mig_err *);
};
#define XR_AT(type, field)	.off = offsetof(type, field),		\
				.size = sizeof(((type *)0)->field)
/* The switches every command that has them spells the same way. */
#define XR_OPT_JSON(type, text)						\
	{ .name = "json", .set = 1, XR_AT(type, json), .help = text }
/* xl's --debug (restore's -d): every progress event, one line each. */
#define XR_OPT_DEBUG(type, l)						\
	{ .name = "debug", .letter = l, .set = 1, XR_AT(type, debug),	\
	  .help = "show every progress event (xl --debug)" }
#define XR_OPT_DIRECT(type, text)					\
	{ .name = "direct", .set = 1, XR_AT(type, direct), .help = text }
#define XR_OPTS_MAX	24	/* options in one table, --help aside */

/*
 * One command, as tmux keeps them: its entry says what it takes, and the
 * parser (args_parse) checks it once for all: options from opts, then
 * between min_args and max_args operands (max_args -1: no limit), named
 * by operands in the message ("migrate: expected DOMAIN and HOST, got 1
 * argument"); operands NULL leaves the count to the command.  exec gets
 * its own entry.
 */
struct xr_cmd {
	const char	*name;
	int		(*exec)(const struct xr_cmd *self,
			    const struct xr_global *, int, char **);
	const char	*synopsis;	/* what follows "xl-reloc NAME" */
	const char	*summary;	/* one line for "xl-reloc help" */
	const struct xr_opt *opts;	/* ends with a NULL name; --help aside */
	bool		 in_order;	/* options end at the first operand */
	int		 min_args;
	int		 max_args;
	const char	*operands;
};

/* cmdtable.c */
extern const struct xr_cmd xr_cmds[];
const struct xr_cmd	*cmd_find(const char *);
void			 cmd_usage(FILE *, const struct xr_cmd *);
/* Prints "xl-reloc: MSG" and the command's synopsis; returns CTL_ST_USAGE. */
int			 cmd_usage_error(const char *, const char *);
/*
 * After NAME_parse() returned rc: the usage error, or the help if *help,
 * as the command's exit status; -1 when the command is to run.
 */
int			 cmd_parsed(const struct xr_cmd *, int, const bool *,
			    const struct mig_err *);

/* args.c: option parsing shared by the commands */
struct option;
/*
 * getopt_long() with our own one-line messages: returns the option, -1 at
 * the end, or '?' with err filled ("CMD: unknown option '--x'",
 * "CMD: option '--port' needs a value").  Starts a fresh scan of argv.
 */
void	 args_begin(void);
int	 args_next(const char *, int, char **, const char *,
	    const struct option *, struct mig_err *);
/*
 * Sets the fields of a (the command's args struct, its defaults already
 * in) from argv's options, as c->opts declares them.  Returns the index of
 * the first operand, or -1 with err filled.  --help sets *help and ends the
 * scan, so that "CMD --help" works whatever else is wrong.
 */
int	 args_parse(const struct xr_cmd *, int, char **, void *, bool *,
	    struct mig_err *);
/* "  --port N            HOST's relocation port": the table's lines. */
void	 args_help(FILE *, const struct xr_opt *);
/* Value checks; what names it in the message: "migrate: --port". */
int	 args_uint(const char *, const char *, uint64_t, uint64_t,
	    uint64_t *, struct mig_err *);
int	 args_rate(const char *, const char *, uint64_t *, struct mig_err *);
int	 args_copy(const char *, const char *, char *, size_t,
	    struct mig_err *);
/* Makes path absolute (relocd does not share our working directory). */
int	 args_path(const char *, const char *, char *, size_t,
	    struct mig_err *);

/* client.c: the control socket */
struct xr_client {
	int	 fd;
	char	*path;		/* the control socket's path */
};

/* How a job is shown while it runs. */
enum view_mode {
	VIEW_TTY,		/* one progress line, redrawn in place */
	VIEW_LINES,		/* one line per phase change */
	VIEW_JSON,		/* one JSON object per message */
	VIEW_QUIET,		/* nothing (evacuate draws its own table) */
};

struct view {
	enum view_mode	 mode;
	FILE		*out;
	int		 last_phase;	/* -1 before the first event */
	bool		 every;		/* --debug: a line per event */
	bool		 drawn;		/* a TTY line is on screen */
	uint64_t	 drawn_ms;	/* when it was drawn (monotonic) */
};

/* A job being followed on its own control connection. */
struct job_watch {
	struct xr_client	 c;
	struct view		*view;
	const char		*what;		/* "migrate web1 to node2" */
	uint64_t		 job;		/* 0 until ACCEPTED */
	bool			 cancel_wanted;
	bool			 cancel_sent;
	bool			 done;
	int			 status;	/* exit status once done */
	struct ctl_result	 res;
	struct mig_err		 err;		/* of the last call */
	char			 why[CTL_TEXT_MAX + 512]; /* when status != 0 */
};

/*
 * The control socket's path: relocd.conf's control_socket.  The default
 * configuration file may be absent (relocd's defaults apply); a file given
 * with -c must exist.  Returns an exit status.
 */
struct relocd_conf;
int	 client_conf(const struct xr_global *, struct relocd_conf *,
	    struct mig_err *);
int	 client_socket_path(const struct xr_global *, char **,
	    struct mig_err *);
/* Connects; CTL_ST_NODAEMON with the "relocd is not running" message. */
int	 client_open(const struct xr_global *, struct xr_client *,
	    struct mig_err *);
void	 client_close(struct xr_client *);
/* relocd.conf's relocation_ssl: the transport when neither --tls nor
 * --plain is given.  TLS if the file cannot say. */
bool	 client_tls_default(const struct xr_global *);
/* One request, then answers until done(msg) says stop: for JOBS etc. */
int	 client_ask(struct xr_client *, const struct ctl_msg *,
	    int (*)(const struct ctl_msg *, void *), void *,
	    struct mig_err *);
/* Maps a status relocd sent to an exit status (unknown: UNDEFINED). */
int	 client_exit_status(uint16_t);
/*
 * Ctrl-C: the first SIGINT asks every watched job to cancel, and they
 * keep being followed to their RESULT; the default action is restored,
 * so a second Ctrl-C ends xl-reloc (relocd finishes the rollback).
 */
void	 client_sigint_setup(void);
void	 client_sigint_restore(void);
/* False once a Ctrl-C has been seen (and before setup). */
bool	 client_sigint_armed(void);
int	 watch_start(struct job_watch *, const struct xr_global *,
	    const struct ctl_msg *, struct view *, const char *);
/* Waits for input on the running watches and handles it; returns how
 * many are still running. */
size_t	 watch_poll(struct job_watch **, size_t);
/* Handles one message for a watch (exposed for the tests). */
void	 watch_handle(struct job_watch *, const struct ctl_msg *);
void	 watch_end(struct job_watch *);
/* Follows a single job from request to result, printing through view. */
int	 client_run_job(const struct xr_global *, const struct ctl_msg *,
	    struct view *, const char *);

/* progress.c: pure formatters (snprintf semantics), and the view */
int	 fmt_mib(char *, size_t, uint64_t);
int	 fmt_duration(char *, size_t, uint64_t);
int	 progress_line(char *, size_t, const struct ctl_event *);
int	 progress_phase_line(char *, size_t, const struct ctl_event *);
int	 progress_json_accepted(char *, size_t, uint64_t);
int	 progress_json_event(char *, size_t, const struct ctl_event *);
int	 progress_json_result(char *, size_t, const struct ctl_result *);
int	 progress_summary(char *, size_t, const struct ctl_result *);
/* "xl-reloc: WHAT: refused: TEXT; nothing moved" and the like. */
int	 progress_failure(char *, size_t, const char *,
	    const struct ctl_result *);
int	 json_string(char *, size_t, const char *);
void	 view_init(struct view *, FILE *, bool);
/* --debug: a line per event rather than per phase, even on a TTY. */
void	 view_debug(struct view *);
void	 view_accepted(struct view *, uint64_t);
void	 view_event(struct view *, const struct ctl_event *);
void	 view_result(struct view *, const char *, const struct ctl_result *);

/* format.c: --format FIELD[,FIELD...] of the commands that list */
#define XR_FORMAT_MAX	256
/* Every field of spec is one of names (NULL-ended); else err. */
int	 format_check(const char *, const char *, const char *const *,
	    struct mig_err *);
/* values[i] is names[i]'s: the fields of spec, tab-separated. */
void	 format_row(FILE *, const char *, const char *const *,
	    const char *const *);
#define XR_OPT_FORMAT(type)						\
	{ .name = "format", .kind = XA_STRING, .arg = "FIELDS",		\
	  XR_AT(type, format),						\
	  .help = "FIELDS (comma list), tab-separated, for scripts" }

/* cmd-migrate.c */
/* --tls or --plain, the last one given; neither: relocd.conf's
 * relocation_ssl (client_tls_default). */
#define XR_TLS		1
#define XR_PLAIN	2
struct migrate_args {
	struct ctl_migrate	req;
	uint8_t			transport;	/* 0, XR_TLS, XR_PLAIN */
	bool			json;
	bool			debug;
	bool			help;
};
int	 migrate_parse(const struct xr_cmd *, int, char **,
	    struct migrate_args *, struct mig_err *);
/* -s and -D: xl's, refused with the reason (and what to do instead). */
int	 migrate_take_ssh(void *, const char *, struct mig_err *);
int	 migrate_take_domid(void *, const char *, struct mig_err *);
int	 cmd_migrate(const struct xr_cmd *, const struct xr_global *, int,
	    char **);

/* cmd-save.c */
struct save_args {
	struct ctl_save	req;
	bool		json;
	bool		debug;		/* restore -d */
	bool		help;
	bool		direct;		/* in-process, without relocd */
};
int	 save_parse(const struct xr_cmd *, int, char **,
	    struct save_args *, struct mig_err *);
/* Sends a CTL_SAVE or CTL_RESTORE and follows the job. */
int	 save_run(const struct xr_global *, uint16_t, const struct save_args *,
	    const char *);
int	 cmd_save(const struct xr_cmd *, const struct xr_global *, int,
	    char **);

/* direct.c: save/restore in this process (relocd's file_job.c core). */
int	 direct_run(const struct xr_global *, uint16_t,
	    const struct save_args *, const char *);

/* cmd-restore.c */
int	 restore_parse(const struct xr_cmd *, int, char **,
	    struct save_args *, struct mig_err *);
int	 cmd_restore(const struct xr_cmd *, const struct xr_global *, int,
	    char **);

/* cmd-verify.c */
struct verify_args {
	char	path[CTL_PATH_MAX + 1];
	char	key[CTL_PATH_MAX + 1];
	bool	direct;		/* accepted; verify never needs relocd */
	bool	json;
	bool	help;
};
int	 verify_parse(const struct xr_cmd *, int, char **,
	    struct verify_args *, struct mig_err *);
/* The --json line: the summary, or (sum NULL) the error why. */
struct mig_image_summary;
int	 verify_json(char *, size_t, const char *,
	    const struct mig_image_summary *, const char *);
int	 cmd_verify(const struct xr_cmd *, const struct xr_global *, int,
	    char **);

/* cmd-jobs.c */
struct jobs_args {
	bool	json;
	bool	history;	/* finished jobs, from relocd's journal */
	char	format[XR_FORMAT_MAX];	/* "" = a table */
	bool	help;
};
/* A row's --format fields and their values (names: jobs_fields). */
extern const char *const jobs_fields[];
void	 jobs_values(const struct ctl_job *, char [][64], const char **);
int	 jobs_parse(const struct xr_cmd *, int, char **,
	    struct jobs_args *, struct mig_err *);
int	 jobs_header(char *, size_t, bool);
int	 jobs_row(char *, size_t, const struct ctl_job *);
int	 jobs_json_row(char *, size_t, const struct ctl_job *);
int	 cmd_jobs(const struct xr_cmd *, const struct xr_global *, int,
	    char **);

/* cmd-list.c */
struct list_args {
	bool	json;
	char	format[XR_FORMAT_MAX];	/* "" = a table */
	bool	help;
};
int	 list_parse(const struct xr_cmd *, int, char **,
	    struct list_args *, struct mig_err *);
int	 cmd_list(const struct xr_cmd *, const struct xr_global *, int,
	    char **);

/* cmd-cancel.c */
struct cancel_args {
	uint64_t	job;
	bool		json;
	bool		help;
};
int	 cancel_parse(const struct xr_cmd *, int, char **,
	    struct cancel_args *, struct mig_err *);
/* The --json line: delivered, or (why not NULL) failed with exit st. */
int	 cancel_json(char *, size_t, uint64_t, int, const char *);
int	 cmd_cancel(const struct xr_cmd *, const struct xr_global *, int,
	    char **);

/* cmd-evacuate.c */
#define EVAC_TARGETS_MAX	32
#define EVAC_PARALLEL_MAX	16
struct evacuate_args {
	char		 to[EVAC_TARGETS_MAX][CTL_HOST_MAX + 1];
	size_t		 nto;
	unsigned	 parallel;
	uint16_t	 port;
	uint8_t		 transport;	/* 0, XR_TLS, XR_PLAIN */
	bool		 plain;		/* the transport settled */
	bool		 dry_run;
	bool		 json;
	bool		 help;
	char		**domains;	/* borrowed from argv */
	size_t		 ndomains;
};
struct evac_dom {
	char		name[CTL_DOMAIN_MAX + 1];
	uint64_t	mem_kib;
	int		target;		/* index, or -1: fits nowhere */
};
struct evac_target {
	char		host[CTL_HOST_MAX + 1];
	uint64_t	free_kib;
};
int	 evacuate_parse(const struct xr_cmd *, int, char **,
	    struct evacuate_args *, struct mig_err *);
/* --to: adds the hosts of a comma list to the evacuate_args. */
int	 evacuate_take_to(void *, const char *, struct mig_err *);
/*
 * Largest domain first, each to the target with the most free memory that
 * still holds it (the first listed on a tie), whose free memory then
 * shrinks by it.  Returns how many fit nowhere (target -1).
 */
size_t	 evac_plan(struct evac_dom *, size_t, struct evac_target *, size_t);
int	 cmd_evacuate(const struct xr_cmd *, const struct xr_global *, int,
	    char **);

/* cmd-tunnel.c */
struct tunnel_args {
	bool		plain;
	uint16_t	port;
	const char	*host;
	uint16_t	xlflags;	/* MIG_XLT_F_* */
	char		name[MIG_NAME_MAX + 1];	/* --name, "" = xl's */
	bool		no_reasons;	/* --no-reasons */
	bool		help;
	/* Set by tunnel_handshake and tunnel_pump: */
	bool		reasons;	/* MIG_XLT_F_REASONS was sent */
	uint16_t	reply;		/* relocd's REFUSED or ERROR, or 0 */
};
int	 tunnel_parse(const struct xr_cmd *, int, char **,
	    struct tunnel_args *, struct mig_err *);
/* --name: a domain name, checked as relocd will, into the tunnel_args. */
int	 tunnel_take_name(void *, const char *, struct mig_err *);
/*
 * Preambles, HELLOs and XL_TUNNEL on c, then the first answer: an xl
 * banner (its first bytes are written to out) or a REFUSED/ERROR frame
 * (a->reply says which; err has its text, fit for a terminal).  A close
 * before relocd's HELLO is a refusal too (mig_greeting_refusal).
 * Returns an exit status.
 */
int	 tunnel_handshake(struct mig_conn *, struct tunnel_args *, int,
	    struct mig_err *);
/*
 * Copies in -> c and c -> out until relocd closes; with a->reasons, a
 * REFUSED or ERROR frame where xl's "ready" would be ends it as in
 * tunnel_handshake.  Returns an exit status.
 */
int	 tunnel_pump(struct mig_conn *, struct tunnel_args *, int, int,
	    struct mig_err *);
int	 cmd_tunnel(const struct xr_cmd *, const struct xr_global *, int,
	    char **);

/* cmd-help.c */
int	 cmd_help(const struct xr_cmd *, const struct xr_global *, int,
	    char **);
void	 help_list(FILE *);

#endif
