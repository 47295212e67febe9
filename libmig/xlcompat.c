/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mig/error.h"
#include "mig/xlcompat.h"

struct xlmsg {
	const char	*name;
	const char	*bytes;
	size_t		 len;
};

static const struct xlmsg xlmsgs[MIG_XL_MSG__MAX] = {
	[MIG_XL_MSG_BANNER] = { "banner", MIG_XL_BANNER, MIG_XL_BANNER_LEN },
	[MIG_XL_MSG_READY] = { "ready message", MIG_XL_READY,
	    MIG_XL_READY_LEN },
	[MIG_XL_MSG_GO] = { "permission to go", MIG_XL_GO, MIG_XL_GO_LEN },
	[MIG_XL_MSG_REPORT] = { "unpause report", MIG_XL_REPORT,
	    MIG_XL_REPORT_LEN },
};

static const struct xlmsg *
xlmsg(enum mig_xl_msg m)
{
	if ((unsigned)m >= MIG_XL_MSG__MAX)
		return NULL;
	return &xlmsgs[m];
}

const uint8_t *
mig_xl_msg_bytes(enum mig_xl_msg m, size_t *len)
{
	const struct xlmsg	*x = xlmsg(m);

	if (x == NULL) {
		*len = 0;
		return NULL;
	}
	*len = x->len;
	return (const uint8_t *)x->bytes;
}

const char *
mig_xl_msg_name(enum mig_xl_msg m)
{
	const struct xlmsg	*x = xlmsg(m);

	return x == NULL ? "unknown" : x->name;
}

int
mig_xl_msg_match(enum mig_xl_msg m, const uint8_t *buf, size_t len,
    struct mig_err *err)
{
	const struct xlmsg	*x = xlmsg(m);
	size_t			 i, n;

	if (x == NULL)
		return mig_seterr(err, MIG_E_INVAL, "xl message %d unknown",
		    (int)m);
	n = len < x->len ? len : x->len;
	for (i = 0; i < n; i++)
		if (buf[i] != (uint8_t)x->bytes[i])
			return mig_seterr(err, MIG_E_PROTO,
			    "xl stream: unexpected data instead of the %s "
			    "(byte 0x%02x at offset %zu)", x->name, buf[i], i);
	if (len > x->len)
		return mig_seterr(err, MIG_E_PROTO,
		    "xl stream: %zu bytes where the %s has %zu", len, x->name,
		    x->len);
	return len == x->len ? 1 : 0;
}

void
mig_xl_report_encode(uint8_t out[MIG_XL_REPORT_STATUS_LEN], uint8_t status)
{
	memcpy(out, MIG_XL_REPORT, MIG_XL_REPORT_LEN);
	out[MIG_XL_REPORT_LEN] = status;
}

int
mig_xl_report_decode(const uint8_t *buf, size_t len, uint8_t *status,
    struct mig_err *err)
{
	if (len != MIG_XL_REPORT_STATUS_LEN)
		return mig_seterr(err, MIG_E_PROTO,
		    "xl stream: unpause report of %zu bytes, expected %zu",
		    len, (size_t)MIG_XL_REPORT_STATUS_LEN);
	if (mig_xl_msg_match(MIG_XL_MSG_REPORT, buf, MIG_XL_REPORT_LEN,
	    err) != 1)
		return -1;
	*status = buf[MIG_XL_REPORT_LEN];
	return 0;
}

uint8_t
mig_xl_status_from_rc(int rc)
{
	/*
	 * xl stores -rc in a char and only promises "non-zero on failure";
	 * a libxl rc whose negation is a multiple of 256 must not read as 0.
	 */
	uint8_t	b = (uint8_t)(0u - (unsigned)rc);

	if (rc != 0 && b == 0)
		return 1;
	return b;
}

int
mig_xl_config_cinfo(const char *json, const char *key, char *out,
    size_t size)
{
	const char	*p;
	char		 quoted[64];
	size_t		 n = 0;

	if (size == 0)
		return 0;
	out[0] = '\0';
	snprintf(quoted, sizeof(quoted), "\"%s\"", key);
	if ((p = strstr(json, "\"c_info\"")) == NULL ||
	    (p = strstr(p, quoted)) == NULL)
		return 0;
	p += strlen(quoted);
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == ':')
		p++;
	if (*p++ != '"')
		return 0;
	while (*p != '\0' && *p != '"' && n + 1 < size) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		out[n++] = *p++;
	}
	out[n] = '\0';
	return *p == '"';
}
