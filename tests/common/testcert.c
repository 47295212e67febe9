/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "testcert.h"

#define DAY	(60L * 60 * 24)

struct tc_spec {
	const char	*cn;
	const char	*san;		/* subjectAltName value, or NULL */
	const char	*eku;		/* extendedKeyUsage, or NULL for a CA */
	long		 not_before;	/* seconds from now */
	long		 not_after;
};

static int
tc_fail(const char *what)
{
	fprintf(stderr, "testcert: %s: ", what);
	ERR_print_errors_fp(stderr);
	fputc('\n', stderr);
	return -1;
}

static int
tc_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 v3;
	X509_EXTENSION	*ext;
	int		 ok;

	X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/*
 * A certificate for key, described by spec, signed by issuer/ikey (or
 * self-signed when issuer is NULL).
 */
static long	tc_serial = 1;	/* of the next certificate */

static X509 *
tc_cert(const struct tc_spec *spec, EVP_PKEY *key, X509 *issuer,
    EVP_PKEY *ikey)
{
	X509		*cert;
	X509_NAME	*name;
	int		 ok;

	if ((cert = X509_new()) == NULL)
		return NULL;
	name = X509_get_subject_name(cert);
	ok = X509_set_version(cert, X509_VERSION_3) &&
	    ASN1_INTEGER_set(X509_get_serialNumber(cert), tc_serial++) &&
	    X509_gmtime_adj(X509_getm_notBefore(cert), spec->not_before) &&
	    X509_gmtime_adj(X509_getm_notAfter(cert), spec->not_after) &&
	    X509_set_pubkey(cert, key) &&
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)spec->cn, -1, -1, 0) &&
	    X509_set_issuer_name(cert, issuer != NULL ?
	    X509_get_subject_name(issuer) : name);
	if (!ok)
		goto fail;
	if (issuer == NULL) {
		issuer = cert;
		ikey = key;
	}
	if (tc_add_ext(cert, issuer, NID_subject_key_identifier, "hash") ||
	    tc_add_ext(cert, issuer, NID_authority_key_identifier,
	    "keyid:always"))
		goto fail;
	if (spec->eku == NULL) {
		if (tc_add_ext(cert, issuer, NID_basic_constraints,
		    "critical,CA:TRUE") ||
		    tc_add_ext(cert, issuer, NID_key_usage,
		    "critical,keyCertSign,cRLSign"))
			goto fail;
	} else if (tc_add_ext(cert, issuer, NID_basic_constraints,
	    "critical,CA:FALSE") ||
	    tc_add_ext(cert, issuer, NID_key_usage,
	    "critical,digitalSignature") ||
	    tc_add_ext(cert, issuer, NID_ext_key_usage, spec->eku))
		goto fail;
	if (spec->san != NULL &&
	    tc_add_ext(cert, issuer, NID_subject_alt_name, spec->san))
		goto fail;
	if (X509_sign(cert, ikey, EVP_sha256()) == 0)
		goto fail;
	return cert;
fail:
	X509_free(cert);
	return NULL;
}

static int
tc_path(char *out, const struct testcert *tc, const char *file)
{
	if ((size_t)snprintf(out, PATH_MAX, "%s/%s", tc->dir, file) >=
	    PATH_MAX)
		return -1;
	return 0;
}

/* A certificate, a private key (mode 0600) or a CRL, as PEM. */
static int
tc_write_any(const char *path, X509 *cert, EVP_PKEY *key, X509_CRL *crl)
{
	FILE	*f = NULL;
	int	 fd, ok;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    key != NULL ? 0600 : 0644)) == -1 ||
	    (f = fdopen(fd, "w")) == NULL) {
		perror(path);
		if (fd != -1)
			close(fd);
		return -1;
	}
	ok = cert != NULL ? PEM_write_X509(f, cert) : crl != NULL ?
	    PEM_write_X509_CRL(f, crl) :
	    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : tc_fail(path);
}

static int
tc_write(const char *path, X509 *cert, EVP_PKEY *key)
{
	return tc_write_any(path, cert, key, NULL);
}

/*
 * The CRL of ca: revokes the serial (0: none), last updated an hour ago,
 * next update in a day or, stale, an hour ago.
 */
static int
tc_crl(const char *path, X509 *ca, EVP_PKEY *cakey, long serial, int stale)
{
	X509_CRL	*crl;
	X509_REVOKED	*rev = NULL;
	ASN1_TIME	*last = NULL, *next = NULL;
	ASN1_INTEGER	*sn = NULL;
	int		 ok;

	if ((crl = X509_CRL_new()) == NULL)
		return tc_fail("CRL");
	ok = X509_CRL_set_version(crl, X509_CRL_VERSION_2) &&
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) &&
	    (last = X509_gmtime_adj(NULL, -3600)) != NULL &&
	    (next = X509_gmtime_adj(NULL, stale ? -60 : DAY)) != NULL &&
	    X509_CRL_set1_lastUpdate(crl, last) &&
	    X509_CRL_set1_nextUpdate(crl, next);
	if (ok && serial != 0) {
		ok = (rev = X509_REVOKED_new()) != NULL &&
		    (sn = ASN1_INTEGER_new()) != NULL &&
		    ASN1_INTEGER_set(sn, serial) &&
		    X509_REVOKED_set_serialNumber(rev, sn) &&
		    X509_REVOKED_set_revocationDate(rev, last) &&
		    X509_CRL_add0_revoked(crl, rev);
		if (ok)
			rev = NULL;	/* the CRL's now */
	}
	ok = ok && X509_CRL_sort(crl) && X509_CRL_sign(crl, cakey,
	    EVP_sha256()) && tc_write_any(path, NULL, NULL, crl) == 0;
	X509_REVOKED_free(rev);
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	X509_CRL_free(crl);
	return ok ? 0 : tc_fail(path);
}

/* Generate a key and certificate from spec and write both. */
static int
tc_leaf(const struct tc_spec *spec, X509 *ca, EVP_PKEY *cakey,
    struct testcert_pair *out)
{
	EVP_PKEY	*key;
	X509		*cert = NULL;
	int		 rc = -1;

	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
		return tc_fail("keygen");
	if ((cert = tc_cert(spec, key, ca, cakey)) == NULL)
		tc_fail(spec->cn);
	else if (tc_write(out->cert, cert, NULL) == 0 &&
	    tc_write(out->key, NULL, key) == 0)
		rc = 0;
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

static int
tc_ca(const char *cn, const char *path, X509 **ca, EVP_PKEY **cakey)
{
	struct tc_spec	spec = { cn, NULL, NULL, -DAY, 30 * DAY };

	*ca = NULL;
	if ((*cakey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
		return tc_fail("keygen");
	if ((*ca = tc_cert(&spec, *cakey, NULL, NULL)) == NULL)
		return tc_fail(cn);
	return tc_write(path, *ca, NULL);
}

static int
tc_pair_paths(const struct testcert *tc, struct testcert_pair *p,
    const char *base)
{
	char	file[64];

	snprintf(file, sizeof(file), "%s.crt", base);
	if (tc_path(p->cert, tc, file) == -1)
		return -1;
	snprintf(file, sizeof(file), "%s.key", base);
	return tc_path(p->key, tc, file);
}

int
testcert_make(struct testcert *tc)
{
	static const struct tc_spec server = { "relocd-server",
	    "DNS:localhost,IP:127.0.0.1,IP:::1", "serverAuth", -DAY,
	    30 * DAY };
	static const struct tc_spec client = { "relocd-client",
	    "DNS:relocd-client.example", "clientAuth", -DAY, 30 * DAY };
	static const struct tc_spec expired = { "relocd-client", NULL,
	    "clientAuth", -2 * DAY, -DAY };
	static const struct tc_spec wrongcn = { "intruder",
	    "DNS:intruder.example", "clientAuth", -DAY, 30 * DAY };
	static const struct tc_spec sanonly = { "relocd-client",
	    "DNS:elsewhere.example", "clientAuth", -DAY, 30 * DAY };
	static const struct tc_spec cnonly = { "relocd-cnonly", NULL,
	    "clientAuth", -DAY, 30 * DAY };
	X509		*ca = NULL, *other = NULL;
	EVP_PKEY	*cakey = NULL, *otherkey = NULL;
	long		 revoked;
	int		 rc = -1;

	memset(tc, 0, sizeof(*tc));
	snprintf(tc->dir, sizeof(tc->dir), "%s/testcert.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tc->dir) == NULL) {
		perror(tc->dir);
		tc->dir[0] = '\0';
		return -1;
	}
	if (tc_path(tc->ca, tc, "ca.crt") || tc_path(tc->other_ca, tc,
	    "other-ca.crt") || tc_pair_paths(tc, &tc->server, "server") ||
	    tc_pair_paths(tc, &tc->client, "client") ||
	    tc_pair_paths(tc, &tc->expired, "expired") ||
	    tc_pair_paths(tc, &tc->foreign, "foreign") ||
	    tc_pair_paths(tc, &tc->wrongcn, "wrongcn") ||
	    tc_pair_paths(tc, &tc->sanonly, "sanonly") ||
	    tc_pair_paths(tc, &tc->cnonly, "cnonly") ||
	    tc_pair_paths(tc, &tc->revoked, "revoked") ||
	    tc_path(tc->crl, tc, "ca.crl") ||
	    tc_path(tc->old_crl, tc, "old.crl") ||
	    tc_path(tc->other_crl, tc, "other-ca.crl"))
		goto out;
	if (tc_ca("relocd test CA", tc->ca, &ca, &cakey) ||
	    tc_ca("unrelated test CA", tc->other_ca, &other, &otherkey) ||
	    tc_leaf(&server, ca, cakey, &tc->server) ||
	    tc_leaf(&client, ca, cakey, &tc->client) ||
	    tc_leaf(&expired, ca, cakey, &tc->expired) ||
	    tc_leaf(&client, other, otherkey, &tc->foreign) ||
	    tc_leaf(&wrongcn, ca, cakey, &tc->wrongcn) ||
	    tc_leaf(&sanonly, ca, cakey, &tc->sanonly) ||
	    tc_leaf(&cnonly, ca, cakey, &tc->cnonly))
		goto out;
	revoked = tc_serial;
	if (tc_leaf(&client, ca, cakey, &tc->revoked) ||
	    tc_crl(tc->crl, ca, cakey, revoked, 0) ||
	    tc_crl(tc->old_crl, ca, cakey, 0, 1) ||
	    tc_crl(tc->other_crl, other, otherkey, 0, 0))
		goto out;
	rc = 0;
out:
	X509_free(ca);
	X509_free(other);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(otherkey);
	if (rc == -1)
		testcert_cleanup(tc);
	return rc;
}

static void
tc_unlink_pair(const struct testcert_pair *p)
{
	if (p->cert[0] != '\0')
		unlink(p->cert);
	if (p->key[0] != '\0')
		unlink(p->key);
}

void
testcert_cleanup(struct testcert *tc)
{
	if (tc->dir[0] == '\0')
		return;
	if (tc->ca[0] != '\0')
		unlink(tc->ca);
	if (tc->other_ca[0] != '\0')
		unlink(tc->other_ca);
	tc_unlink_pair(&tc->server);
	tc_unlink_pair(&tc->client);
	tc_unlink_pair(&tc->expired);
	tc_unlink_pair(&tc->foreign);
	tc_unlink_pair(&tc->wrongcn);
	tc_unlink_pair(&tc->sanonly);
	tc_unlink_pair(&tc->cnonly);
	tc_unlink_pair(&tc->revoked);
	if (tc->crl[0] != '\0')
		unlink(tc->crl);
	if (tc->old_crl[0] != '\0')
		unlink(tc->old_crl);
	if (tc->other_crl[0] != '\0')
		unlink(tc->other_crl);
	if (rmdir(tc->dir) == -1)
		perror(tc->dir);
	tc->dir[0] = '\0';
}

void
testcert_pattern(uint8_t *p, size_t len, unsigned seed)
{
	size_t	i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed + (i >> 10));
}
