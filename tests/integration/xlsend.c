/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xlsend: plays stock xl's sender side of "xl migrate -s CMD DOMAIN HOST"
 * (Xen 4.17, tools/xl/xl_migrate.c migrate_domain) byte for byte, on a
 * simulated host ($RELOCD_SIM_DIR), so that tests can drive relocd through
 * the real "xl-reloc tunnel" as xl would:
 *
 *   run "exec CMD HOST xl migrate-receive [-p]" under /bin/sh, on pipes
 *   read the 54-byte banner            (mismatch or EOF: fail, untouched)
 *   write the xl save header + config JSON, then the libxl v2 stream
 *   read "domain received, ready..."   (failure: resume, fail)
 *   rename to NAME--migratedaway, write "domain is yours..."
 *   read the report and status byte    (failure: "undefined", exit 3)
 *   status 0: destroy our copy; else read the permission back, rename
 *   back, resume
 *
 * usage: xlsend [-n] [-p] [-c FILE] [-s CMD] DOMAIN HOST
 *   -c  send FILE as the domain's configuration (one a receiver should
 *       refuse, say), not the domain's own
 *   -n  never send the go-ahead: wait for the receiver to give up (it
 *       must report a failure and hand the domain back), then resume
 *   -p  ask the receiver to leave the domain paused (xl migrate -p)
 * Exit: 0 migrated, 1 failed and the domain runs here again, 2 usage,
 * 3 undefined state (as xl's "failed_badly").
 */
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "mig/hv.h"
#include "hv_sim.h"
#include "mig/stream.h"
#include "mig/wire.h"
#include "mig/xlcompat.h"

#define EX_FAILED	1
#define EX_USAGE	2
#define EX_UNDEFINED	3

struct snd {
	struct mig_hv		*hv;
	struct mig_hv_dominfo	 dom;
	int			 send_fd;	/* to the receiver */
	int			 recv_fd;	/* from it */
	pid_t			 child;
	const char		*config;	/* -c */
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: xlsend [-n] [-p] [-c FILE] [-s CMD] DOMAIN "
	    "HOST\n");
	exit(EX_USAGE);
}

static int
read_exact(int fd, void *buf, size_t len)
{
	size_t	off = 0;
	ssize_t	n;

	while (off < len) {
		n = read(fd, (uint8_t *)buf + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

static int
write_exact(int fd, const void *buf, size_t len)
{
	size_t	off = 0;
	ssize_t	n;

	while (off < len) {
		n = write(fd, (const uint8_t *)buf + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* xl's migrate_read_fixedmessage: exactly the message, or failure. */
static int
read_fixed(struct snd *s, enum mig_xl_msg m)
{
	uint8_t		buf[128];
	size_t		len;
	struct mig_err	err;

	(void)mig_xl_msg_bytes(m, &len);
	if (read_exact(s->recv_fd, buf, len) == -1) {
		fprintf(stderr, "xlsend: expected the %s: EOF or error\n",
		    mig_xl_msg_name(m));
		return -1;
	}
	if (mig_xl_msg_match(m, buf, len, &err) != 1) {
		fprintf(stderr, "xlsend: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* The receiver's command on two pipes, as xl's migrate_domain runs it. */
static int
spawn(struct snd *s, const char *rune)
{
	int	to[2], from[2];

	if (pipe2(to, O_CLOEXEC) == -1 || pipe2(from, O_CLOEXEC) == -1)
		return -1;
	if ((s->child = fork()) == -1)
		return -1;
	if (s->child == 0) {
		if (dup2(to[0], 0) == -1 || dup2(from[1], 1) == -1)
			_exit(127);
		execl("/bin/sh", "sh", "-c", rune, (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	s->send_fd = to[1];
	s->recv_fd = from[0];
	return 0;
}

/* The whole of a configuration file, or NULL (said why). */
static char *
read_config(const char *path)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f, *m;
	int	 c;

	if ((f = fopen(path, "r")) == NULL ||
	    (m = open_memstream(&buf, &len)) == NULL) {
		perror(path);
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	while ((c = getc(f)) != EOF)
		putc(c, m);
	fclose(f);
	if (fclose(m) != 0) {
		perror(path);
		free(buf);
		return NULL;
	}
	return buf;
}

/* save_domain_core_writeconfig: header, u32 length, config with NUL. */
static int
write_header(struct snd *s, const char *json)
{
	struct mig_xlhdr	h;
	uint8_t			hb[MIG_XLHDR_SIZE + 4];
	struct wire_wr		w;
	uint32_t		clen = (uint32_t)strlen(json) + 1;

	h.mandatory_flags = MIG_XL_FLAG_JSON | MIG_XL_FLAG_STREAMV2;
	h.optional_flags = 0;
	h.optional_data_len = 4 + clen;
	mig_xlhdr_encode(hb, &h);
	wire_wr_init(&w, hb + MIG_XLHDR_SIZE, 4);
	wire_put_le32(&w, clen);
	return write_exact(s->send_fd, hb, sizeof(hb)) == -1 ||
	    write_exact(s->send_fd, json, clen) == -1 ? -1 : 0;
}

/* xl's failed_resume: the domain runs here again. */
static int
resume(struct snd *s, const char *why)
{
	struct mig_err	err, e2;

	fprintf(stderr, "xlsend: %s; resuming at sender\n", why);
	mig_seterr(&e2, MIG_E_IO, "%s", why);
	if (mig_hv_recover_source(s->hv, s->dom.domid, &e2, &err) == -1) {
		fprintf(stderr, "xlsend: %s\n", err.msg);
		return EX_UNDEFINED;
	}
	return EX_FAILED;
}

static int
migrate(struct snd *s, int no_go)
{
	struct mig_hv_op	*op;
	struct mig_err		 err;
	uint8_t			 banner[MIG_XL_BANNER_LEN];
	uint8_t			 rep[MIG_XL_REPORT_STATUS_LEN], status;
	const uint8_t		*go;
	char			*json, away[MIG_HV_NAMELEN + 16];
	size_t			 len;
	int			 rc;

	if (read_exact(s->recv_fd, banner, sizeof(banner)) == -1 ||
	    memcmp(banner, mig_xl_msg_bytes(MIG_XL_MSG_BANNER, &len),
	    sizeof(banner)) != 0) {
		fprintf(stderr, "xlsend: no banner from the receiver\n");
		return EX_FAILED;	/* nothing done yet */
	}
	if (s->config != NULL)
		json = read_config(s->config);
	else if ((json = mig_hv_config_json(s->hv, s->dom.domid, &err)) ==
	    NULL)
		fprintf(stderr, "xlsend: %s\n", err.msg);
	if (json == NULL)
		return EX_FAILED;
	rc = write_header(s, json);
	free(json);
	if (rc == -1)
		return resume(s, "writing the config failed");
	op = mig_hv_save(s->hv, s->dom.domid, s->send_fd, MIG_HV_SAVE_LIVE,
	    NULL, NULL, NULL, &err);
	rc = op == NULL ? -1 : mig_hv_wait(op, &err);
	if (op != NULL)
		mig_hv_op_free(op);
	if (rc == -1)
		return resume(s, err.msg);
	if (read_fixed(s, MIG_XL_MSG_READY) == -1)
		return resume(s, "no ready message");
	if (no_go) {
		/* The receiver must give up: a failure report, then the
		 * permission to have the domain back (or just EOF). */
		if (read_exact(s->recv_fd, rep, sizeof(rep)) == 0 &&
		    mig_xl_report_decode(rep, sizeof(rep), &status, &err) ==
		    0 && status != 0)
			(void)read_fixed(s, MIG_XL_MSG_GO);
		else
			fprintf(stderr, "xlsend: no failure report\n");
		return resume(s, "no go-ahead sent (test)");
	}
	snprintf(away, sizeof(away), "%s--migratedaway", s->dom.name);
	if (mig_hv_rename(s->hv, s->dom.domid, s->dom.name, away, &err) == -1)
		return resume(s, err.msg);
	go = mig_xl_msg_bytes(MIG_XL_MSG_GO, &len);
	if (write_exact(s->send_fd, go, len) == -1 || read_exact(s->recv_fd, rep, sizeof(rep)) == -1 ||
	    mig_xl_report_decode(rep, sizeof(rep), &status, NULL) == -1) {
		fprintf(stderr, "xlsend: no report after the go-ahead: domain "
		    "state undefined\n");
		return EX_UNDEFINED;
	}
	if (status == 0) {
		if (mig_hv_destroy(s->hv, s->dom.domid, &err) == -1) {
			fprintf(stderr, "xlsend: %s\n", err.msg);
			return EX_UNDEFINED;
		}
		fprintf(stderr, "xlsend: migration successful\n");
		return 0;
	}
	fprintf(stderr, "xlsend: the receiver failed to start the domain "
	    "(status %u)\n", status);
	if (read_fixed(s, MIG_XL_MSG_GO) == -1)
		return EX_UNDEFINED;
	if (mig_hv_rename(s->hv, s->dom.domid, away, s->dom.name, &err) == -1)
		fprintf(stderr, "xlsend: %s\n", err.msg);
	return resume(s, "the receiver gave it back");
}

int
main(int argc, char **argv)
{
	struct snd		 s;
	struct event_base	*base;
	struct mig_err		 err;
	const char		*cmd = "xl-reloc tunnel";
	char			*rune;
	const char		*config = NULL;
	int			 ch, no_go = 0, paused = 0, rc, st;

	while ((ch = getopt(argc, argv, "c:nps:")) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'n':
			no_go = 1;
			break;
		case 'p':
			paused = 1;
			break;
		case 's':
			cmd = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	/* xl's writes to a dead receiver fail with EPIPE, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	memset(&s, 0, sizeof(s));
	s.config = config;
	if ((base = event_base_new()) == NULL ||
	    (s.hv = mig_hv_open(&hv_sim_ops, NULL, base, &err)) == NULL ||
	    mig_hv_find(s.hv, argv[optind], &s.dom, &err) == -1) {
		fprintf(stderr, "xlsend: %s\n", base == NULL ? "libevent" :
		    err.msg);
		return EX_FAILED;
	}
	if (asprintf(&rune, "exec %s %s xl migrate-receive%s", cmd,
	    argv[optind + 1], paused ? " -p" : "") == -1 ||
	    spawn(&s, rune) == -1) {
		perror("xlsend: receiver");
		return EX_FAILED;
	}
	free(rune);
	rc = migrate(&s, no_go);
	close(s.send_fd);
	close(s.recv_fd);
	while (waitpid(s.child, &st, 0) == -1 && errno == EINTR)
		;
	/* xl's migration_child_report says the same, and carries on. */
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fprintf(stderr, "xlsend: migration transport process exited "
		    "with error status %d\n", WIFEXITED(st) ?
		    WEXITSTATUS(st) : -1);
	mig_hv_close(s.hv);
	event_base_free(base);
	return rc;
}
