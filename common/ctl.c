/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Control messages are described by tables of fields rather than by a
 * hand-written encoder and decoder each: one loop encodes, one decodes, and
 * a new field is one line.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl.h"
#include "mig/wire.h"

enum fkind {
	F_U16,
	F_U32,
	F_U64,
	F_I32,
	F_UUID,		/* 16 raw bytes */
	F_STR,		/* u16 length + bytes, no NUL on the wire */
	F_END
};

struct field {
	enum fkind	 kind;
	size_t		 off;		/* in the union member */
	size_t		 max;		/* F_STR: longest accepted */
	const char	*name;		/* for error messages */
};

#define U16(s, f)	{ F_U16, offsetof(struct s, f), 0, #f }
#define U32(s, f)	{ F_U32, offsetof(struct s, f), 0, #f }
#define U64(s, f)	{ F_U64, offsetof(struct s, f), 0, #f }
#define I32(s, f)	{ F_I32, offsetof(struct s, f), 0, #f }
#define UUID(s, f)	{ F_UUID, offsetof(struct s, f), 0, #f }
#define STR(s, f, m)	{ F_STR, offsetof(struct s, f), m, #f }
#define END		{ F_END, 0, 0, NULL }

static const struct field f_migrate[] = {
	STR(ctl_migrate, domain, CTL_DOMAIN_MAX),
	STR(ctl_migrate, host, CTL_HOST_MAX),
	U16(ctl_migrate, port),
	U32(ctl_migrate, flags),
	U64(ctl_migrate, bandwidth),
	U32(ctl_migrate, max_downtime_ms),
	STR(ctl_migrate, config, CTL_PATH_MAX),
	END
};
static const struct field f_save[] = {
	STR(ctl_save, domain, CTL_DOMAIN_MAX),
	STR(ctl_save, path, CTL_PATH_MAX),
	STR(ctl_save, key, CTL_PATH_MAX),
	U32(ctl_save, flags),
	STR(ctl_save, config, CTL_PATH_MAX),
	U64(ctl_save, split),
	END
};
/* The union's uint64_t job sits at offset 0. */
static const struct field f_job[] = {
	{ F_U64, 0, 0, "job" },
	END
};
static const struct field f_event[] = {
	U64(ctl_event, job),
	U16(ctl_event, phase),
	U32(ctl_event, round),
	U64(ctl_event, pages_sent),
	U64(ctl_event, pages_total),
	U64(ctl_event, dirty_left),
	U64(ctl_event, bytes_wire),
	U64(ctl_event, rate),
	U32(ctl_event, downtime_ms),
	U64(ctl_event, elapsed_ms),
	STR(ctl_event, text, CTL_TEXT_MAX),
	U64(ctl_event, bytes_disk),
	END
};
static const struct field f_result[] = {
	U64(ctl_result, job),
	U16(ctl_result, status),
	U16(ctl_result, code),
	STR(ctl_result, text, CTL_TEXT_MAX),
	U32(ctl_result, domid),
	U64(ctl_result, total_ms),
	U64(ctl_result, paused_ms),
	U64(ctl_result, bytes_wire),
	U64(ctl_result, bytes_stream),
	U32(ctl_result, rounds),
	U64(ctl_result, bytes_disk),
	U32(ctl_result, disk_passes),
	U64(ctl_result, disk_last),
	END
};
static const struct field f_jobrow[] = {
	U64(ctl_job, job),
	U16(ctl_job, kind),
	U16(ctl_job, phase),
	STR(ctl_job, domain, CTL_DOMAIN_MAX),
	STR(ctl_job, peer, CTL_HOST_MAX),
	U64(ctl_job, elapsed_ms),
	U64(ctl_job, bytes_wire),
	I32(ctl_job, pid),
	STR(ctl_job, outcome, CTL_OUTCOME_MAX),
	U64(ctl_job, ended_ms),
	END
};
static const struct field f_reserve_req[] = {
	STR(ctl_reserve_req, name, CTL_DOMAIN_MAX),
	UUID(ctl_reserve_req, uuid),
	U64(ctl_reserve_req, need_kib),
	U64(ctl_reserve_req, free_kib),
	END
};
static const struct field f_reserve_hold[] = {
	U64(ctl_reserve_hold, id),
	STR(ctl_reserve_hold, name, CTL_DOMAIN_MAX),
	UUID(ctl_reserve_hold, uuid),
	END
};
static const struct field f_reserve_ans[] = {
	U16(ctl_reserve_ans, refusal),
	U64(ctl_reserve_ans, id),
	U32(ctl_reserve_ans, ttl_sec),
	STR(ctl_reserve_ans, text, CTL_TEXT_MAX),
	END
};
static const struct field f_error[] = {
	U16(ctl_error, status),
	STR(ctl_error, text, CTL_TEXT_MAX),
	END
};
static const struct field f_probe[] = {
	STR(ctl_probe, host, CTL_HOST_MAX),
	U16(ctl_probe, port),
	U32(ctl_probe, flags),
	END
};
static const struct field f_probed[] = {
	U16(ctl_probed, status),
	STR(ctl_probed, host, CTL_HOST_MAX),
	STR(ctl_probed, hostname, CTL_HOST_MAX),
	STR(ctl_probed, version, CTL_DOMAIN_MAX),
	U32(ctl_probed, xen_major),
	U32(ctl_probed, xen_minor),
	U64(ctl_probed, mem_total_kib),
	U64(ctl_probed, mem_free_kib),
	U64(ctl_probed, features),
	STR(ctl_probed, text, CTL_TEXT_MAX),
	END
};
static const struct field f_domain[] = {
	STR(ctl_domain, name, CTL_DOMAIN_MAX),
	U32(ctl_domain, domid),
	U64(ctl_domain, mem_kib),
	U16(ctl_domain, state),
	END
};
static const struct field f_none[] = {
	END
};

static const struct {
	const char		*name;
	const struct field	*fields;
} types[CTL__MAX] = {
	[CTL_MIGRATE] = { "MIGRATE", f_migrate },
	[CTL_SAVE] = { "SAVE", f_save },
	[CTL_RESTORE] = { "RESTORE", f_save },
	[CTL_JOBS] = { "JOBS", f_none },
	[CTL_CANCEL] = { "CANCEL", f_job },
	[CTL_ACCEPTED] = { "ACCEPTED", f_job },
	[CTL_EVENT] = { "EVENT", f_event },
	[CTL_RESULT] = { "RESULT", f_result },
	[CTL_JOB] = { "JOB", f_jobrow },
	[CTL_JOBS_END] = { "JOBS_END", f_none },
	[CTL_ERROR] = { "ERROR", f_error },
	[CTL_RESERVE_REQ] = { "RESERVE_REQ", f_reserve_req },
	[CTL_RESERVE_ANS] = { "RESERVE_ANS", f_reserve_ans },
	[CTL_RESERVE_HOLD] = { "RESERVE_HOLD", f_reserve_hold },
	[CTL_RESERVE_RELEASE] = { "RESERVE_RELEASE", f_job },
	[CTL_PROBE] = { "PROBE", f_probe },
	[CTL_PROBED] = { "PROBED", f_probed },
	[CTL_DOMAINS] = { "DOMAINS", f_none },
	[CTL_DOMAIN] = { "DOMAIN", f_domain },
	[CTL_DOMAINS_END] = { "DOMAINS_END", f_none },
	[CTL_HISTORY] = { "HISTORY", f_none },
	[CTL_AUTHENTICATED] = { "AUTHENTICATED", f_none },
};

static const struct field *
fields_of(uint16_t type)
{
	if (type == 0 || type >= CTL__MAX)
		return NULL;
	return types[type].fields;
}

const char *
ctl_type_name(uint16_t type)
{
	return fields_of(type) != NULL ? types[type].name : "unknown";
}

const char *
ctl_status_name(uint16_t st)
{
	static const char *const names[CTL_ST__MAX] = {
		[CTL_ST_OK] = "ok",
		[CTL_ST_USAGE] = "usage",
		[CTL_ST_NOTFOUND] = "not found",
		[CTL_ST_REFUSED] = "refused",
		[CTL_ST_FAILED] = "failed, source resumed",
		[CTL_ST_CANCELLED] = "cancelled, source resumed",
		[CTL_ST_NODAEMON] = "relocd not running",
		[CTL_ST_UNDEFINED] = "undefined state",
	};

	return st < CTL_ST__MAX ? names[st] : "unknown";
}

uint16_t
ctl_status_of(const struct mig_err *err, int lookup)
{
	switch (err->code) {
	case MIG_E_CANCELLED:
		return CTL_ST_CANCELLED;
	case MIG_E_DENIED:
		return CTL_ST_REFUSED;
	case MIG_E_NOTFOUND:
		return lookup ? CTL_ST_NOTFOUND : CTL_ST_FAILED;
	default:
		return CTL_ST_FAILED;
	}
}

/*
 * A job's outcome as its log line should read.  ctl_status_name() speaks
 * for the requester of a migration ("source resumed"), which is wrong for
 * the other kinds of job: a target's failure leaves nothing here, a failed
 * save resumes the domain it was saving.  The status names stay the JSON
 * vocabulary; this is only for people.
 */
const char *
ctl_result_label(uint16_t kind, uint16_t st)
{
	static const char *const labels[CTL_JOB__MAX][2] = {
		[CTL_JOB_MIGRATE_IN] = { "failed, incoming copy removed",
		    "cancelled, incoming copy removed" },
		[CTL_JOB_SAVE] = { "failed, domain resumed",
		    "cancelled, domain resumed" },
		[CTL_JOB_RESTORE] = { "failed, nothing restored",
		    "cancelled, nothing restored" },
		[CTL_JOB_QUERY] = { "failed", "cancelled" },
	};
	int	 i;

	if (st != CTL_ST_FAILED && st != CTL_ST_CANCELLED)
		return ctl_status_name(st);
	i = st == CTL_ST_CANCELLED;
	if (kind >= CTL_JOB__MAX || labels[kind][i] == NULL)
		return ctl_status_name(st);
	return labels[kind][i];
}

const char *
ctl_job_kind_name(uint16_t k)
{
	static const char *const names[CTL_JOB__MAX] = {
		[CTL_JOB_MIGRATE_OUT] = "migrate-out",
		[CTL_JOB_MIGRATE_IN] = "migrate-in",
		[CTL_JOB_SAVE] = "save",
		[CTL_JOB_RESTORE] = "restore",
		[CTL_JOB_QUERY] = "query",
	};

	return k > 0 && k < CTL_JOB__MAX ? names[k] : "unknown";
}

const char *
ctl_dom_state_name(uint16_t st)
{
	static const char *const names[CTL_DS__MAX] = {
		[CTL_DS_RUNNING] = "running",
		[CTL_DS_PAUSED] = "paused",
		[CTL_DS_SHUTDOWN] = "shutdown",
		[CTL_DS_MIGRATING] = "migrating",
	};

	return st > 0 && st < CTL_DS__MAX ? names[st] : "unknown";
}

void
ctl_text_set(char dst[CTL_TEXT_MAX + 1], const char *src)
{
	size_t	i;

	for (i = 0; i < CTL_TEXT_MAX && src[i] != '\0'; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

int
ctl_encode(const struct ctl_msg *m, uint8_t *buf, size_t cap, size_t *len,
    struct mig_err *err)
{
	const struct field	*f = fields_of(m->type);
	const uint8_t		*base = (const uint8_t *)&m->u;
	struct wire_wr		 w;
	size_t			 n;

	if (f == NULL)
		return mig_seterr(err, MIG_E_INVAL, "control message type %u "
		    "unknown", m->type);
	wire_wr_init(&w, buf, cap < CTL_MSG_MAX ? cap : CTL_MSG_MAX);
	wire_put_be16(&w, m->type);
	for (; f->kind != F_END; f++) {
		const void *p = base + f->off;

		switch (f->kind) {
		case F_U16:
			wire_put_be16(&w, *(const uint16_t *)p);
			break;
		case F_U32:
			wire_put_be32(&w, *(const uint32_t *)p);
			break;
		case F_I32:
			wire_put_be32(&w, (uint32_t)*(const int32_t *)p);
			break;
		case F_U64:
			wire_put_be64(&w, *(const uint64_t *)p);
			break;
		case F_UUID:
			wire_put_bytes(&w, p, 16);
			break;
		case F_STR:
			n = strnlen(p, f->max + 1);
			if (n > f->max)
				return mig_seterr(err, MIG_E_INVAL, "control "
				    "%s: %s longer than %zu bytes",
				    types[m->type].name, f->name, f->max);
			wire_put_be16(&w, n);
			wire_put_bytes(&w, p, n);
			break;
		case F_END:
			break;
		}
	}
	if (w.bad)
		return mig_seterr(err, MIG_E_TOOBIG, "control %s does not fit "
		    "in %zu bytes", types[m->type].name, w.cap);
	*len = w.off;
	return 0;
}

int
ctl_decode(const uint8_t *buf, size_t len, struct ctl_msg *m,
    struct mig_err *err)
{
	const struct field	*f;
	struct wire_rd		 r;
	uint8_t			*base;
	const uint8_t		*s;
	size_t			 n;

	memset(m, 0, sizeof(*m));
	if (len > CTL_MSG_MAX)
		return mig_seterr(err, MIG_E_TOOBIG, "control message of %zu "
		    "bytes (limit %d)", len, CTL_MSG_MAX);
	wire_rd_init(&r, buf, len);
	m->type = wire_get_be16(&r);
	if (r.bad || (f = fields_of(m->type)) == NULL)
		return mig_seterr(err, MIG_E_PROTO, "control message type %u "
		    "unknown", m->type);
	base = (uint8_t *)&m->u;
	for (; f->kind != F_END; f++) {
		void *p = base + f->off;

		switch (f->kind) {
		case F_U16:
			*(uint16_t *)p = wire_get_be16(&r);
			break;
		case F_U32:
			*(uint32_t *)p = wire_get_be32(&r);
			break;
		case F_I32:
			*(int32_t *)p = (int32_t)wire_get_be32(&r);
			break;
		case F_U64:
			*(uint64_t *)p = wire_get_be64(&r);
			break;
		case F_UUID:
			if ((s = wire_get_bytes(&r, 16)) != NULL)
				memcpy(p, s, 16);
			break;
		case F_STR:
			n = wire_get_be16(&r);
			if (n > f->max)
				return mig_seterr(err, MIG_E_PROTO, "control "
				    "%s: %s of %zu bytes (limit %zu)",
				    types[m->type].name, f->name, n, f->max);
			if ((s = wire_get_bytes(&r, n)) == NULL)
				break;
			if (memchr(s, '\0', n) != NULL)
				return mig_seterr(err, MIG_E_PROTO, "control "
				    "%s: %s holds a NUL byte",
				    types[m->type].name, f->name);
			memcpy(p, s, n);
			((char *)p)[n] = '\0';
			break;
		case F_END:
			break;
		}
	}
	if (r.bad)
		return mig_seterr(err, MIG_E_TRUNC, "control %s truncated",
		    types[m->type].name);
	if (wire_rd_left(&r) != 0)
		return mig_seterr(err, MIG_E_PROTO, "control %s: %zu bytes "
		    "after its fields", types[m->type].name, wire_rd_left(&r));
	return 0;
}

int
ctl_send(int fd, const struct ctl_msg *m, struct mig_err *err)
{
	uint8_t	buf[CTL_MSG_MAX];
	size_t	len;
	ssize_t	n;

	if (ctl_encode(m, buf, sizeof(buf), &len, err) == -1)
		return -1;
	do
		n = send(fd, buf, len, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return mig_seterrno(err, errno == EPIPE || errno == ECONNRESET ?
		    MIG_E_EOF : MIG_E_IO, "control send %s",
		    types[m->type].name);
	return 0;
}

int
ctl_recv(int fd, struct ctl_msg *m, struct mig_err *err)
{
	uint8_t	buf[CTL_MSG_MAX + 1];
	ssize_t	n;

	do
		n = recv(fd, buf, sizeof(buf), 0);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return mig_seterrno(err, errno == ECONNRESET ? MIG_E_EOF :
		    MIG_E_IO, "control receive");
	if (n == 0)
		return mig_seterr(err, MIG_E_EOF, "control peer closed");
	return ctl_decode(buf, (size_t)n, m, err);
}
