/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "mig/tls.h"

/* TLS 1.2 suites: forward-secret key exchange and AEAD ciphers only. */
#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"
#define TLS13_SUITES \
	"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:" \
	"TLS_AES_128_GCM_SHA256"

/* Bound on names taken from one certificate for tls-peers-allow. */
#define TLS_MAXNAMES	64

/* ex_data slot where a server context keeps its tls-peers-allow ACL. */
static int		tls_acl_idx = -1;
static pthread_once_t	tls_acl_once = PTHREAD_ONCE_INIT;

static void
tls_acl_idx_init(void)
{
	tls_acl_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* The reason of the first (root-cause) error queued by OpenSSL. */
static const char *
tls_reason(void)
{
	unsigned long	 e = ERR_peek_error();
	const char	*s;

	/* A failed fopen() and the like carry errno, with no string. */
	if (e != 0 && ERR_SYSTEM_ERROR(e))
		return strerror(ERR_GET_REASON(e));
	s = ERR_reason_error_string(e);
	return s != NULL ? s : "unknown OpenSSL error";
}

static int
tls_load_ca(SSL_CTX *ctx, const char *ca, int server, struct mig_err *err)
{
	STACK_OF(X509_NAME)	*names;

	if (ca == NULL)
		return mig_seterr(err, MIG_E_INVAL, "TLS: no CA file "
		    "configured (peers cannot be verified without one)");
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		return mig_seterr(err, MIG_E_TLS, "cannot load CA file %s: %s",
		    ca, tls_reason());
	if (server) {
		/* Tell clients which CA we want, so one holding several
		 * certificates picks the right one. */
		if ((names = SSL_load_client_CA_file(ca)) == NULL)
			return mig_seterr(err, MIG_E_TLS, "cannot read CA "
			    "names from %s: %s", ca, tls_reason());
		SSL_CTX_set_client_CA_list(ctx, names);
	}
	return 0;
}

/* Every CRL in the file goes to the store, checked for the whole chain. */
static int
tls_load_crl(SSL_CTX *ctx, const char *crl, struct mig_err *err)
{
	X509_STORE		*store = SSL_CTX_get_cert_store(ctx);
	STACK_OF(X509_INFO)	*infos;
	X509_INFO		*xi;
	BIO			*b;
	int			 i, n = 0, rc = 0;

	if ((b = BIO_new_file(crl, "r")) == NULL)
		return mig_seterr(err, MIG_E_TLS, "cannot load CRL file %s: %s",
		    crl, tls_reason());
	infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
	BIO_free(b);
	if (infos == NULL)
		return mig_seterr(err, MIG_E_TLS, "cannot load CRL file %s: %s",
		    crl, tls_reason());
	for (i = 0; rc == 0 && i < sk_X509_INFO_num(infos); i++) {
		xi = sk_X509_INFO_value(infos, i);
		if (xi->crl == NULL)
			continue;
		if (X509_STORE_add_crl(store, xi->crl) != 1)
			rc = mig_seterr(err, MIG_E_TLS, "cannot load CRL file "
			    "%s: %s", crl, tls_reason());
		n++;
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	if (rc == 0 && n == 0)
		rc = mig_seterr(err, MIG_E_TLS, "no CRL in %s", crl);
	if (rc == 0)
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK |
		    X509_V_FLAG_CRL_CHECK_ALL);
	return rc;
}

static int
tls_load_keypair(SSL_CTX *ctx, const char *cert, const char *key,
    struct mig_err *err)
{
	struct stat	st;

	if (key == NULL)
		return mig_seterr(err, MIG_E_INVAL, "TLS: certificate file %s "
		    "has no key file configured", cert);

	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		return mig_seterr(err, MIG_E_TLS, "cannot load certificate "
		    "file %s: %s", cert, tls_reason());
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) ==
		    X509_R_KEY_VALUES_MISMATCH)
			return mig_seterr(err, MIG_E_TLS, "key file %s does "
			    "not match certificate file %s", key, cert);
		return mig_seterr(err, MIG_E_TLS, "cannot load key file %s: "
		    "%s", key, tls_reason());
	}
	/* use_PrivateKey checks the pair for most key types; this catches
	 * the rest and states the outcome in our words. */
	if (SSL_CTX_check_private_key(ctx) != 1)
		return mig_seterr(err, MIG_E_TLS, "key file %s does not match "
		    "certificate file %s", key, cert);
	/* As ssh does for its keys; a group may read it (Debian's
	 * ssl-cert group), others may not. */
	if (stat(key, &st) == 0 && (st.st_mode & 0007) != 0)
		return mig_seterr(err, MIG_E_DENIED, "key file %s is readable "
		    "by others (mode %04o): make it 0600", key,
		    (unsigned)(st.st_mode & 07777));
	return 0;
}

/*
 * Whether kernel TLS needs TLS 1.2 to receive: OpenSSL before 3.2 hands
 * the kernel only the sending keys of a TLS 1.3 connection, so the
 * receiving side of a migration would stay in user space and its stream
 * could not go to libxl directly (relocd/byte_path.c).  TLS 1.2 with an
 * ECDHE AES-GCM suite keeps forward secrecy and authenticated records;
 * what it loses against 1.3 (the certificates travel in the clear, one
 * more round trip) matters little between two hosts that know each other.
 */
static int
tls_ktls_tls12(void)
{
	return OpenSSL_version_num() < 0x30200000L;
}

static SSL_CTX *
tls_ctx_new(const struct mig_tls_conf *conf, int server, struct mig_err *err)
{
	SSL_CTX		*ctx;
	uint64_t	 opts;
	int		 mode;

	ERR_clear_error();
	ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (ctx == NULL) {
		mig_seterr(err, MIG_E_TLS, "SSL_CTX_new: %s", tls_reason());
		goto fail;
	}
	opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE;
	if (conf->ktls)
		opts |= SSL_OP_ENABLE_KTLS;
	SSL_CTX_set_options(ctx, opts);
	SSL_CTX_set_security_level(ctx, 2);
	SSL_CTX_set_num_tickets(ctx, 0);
	/* Used only while reading ahead: see MIG_TLS_READ_BUF. */
	SSL_CTX_set_default_read_buffer_len(ctx, MIG_TLS_READ_BUF);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    (conf->ktls && tls_ktls_tls12() &&
	    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1) ||
	    SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES) != 1) {
		mig_seterr(err, MIG_E_TLS, "TLS protocol settings: %s",
		    tls_reason());
		goto fail;
	}
	if (tls_load_ca(ctx, conf->ca_file, server, err) == -1 ||
	    (conf->crl_file != NULL &&
	    tls_load_crl(ctx, conf->crl_file, err) == -1))
		goto fail;
	if (conf->cert_file != NULL) {
		if (tls_load_keypair(ctx, conf->cert_file, conf->key_file,
		    err) == -1)
			goto fail;
	} else if (server) {
		mig_seterr(err, MIG_E_INVAL, "TLS server: no certificate "
		    "file configured");
		goto fail;
	}
	mode = SSL_VERIFY_PEER;
	if (server && !conf->client_cert_optional)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	SSL_CTX_set_verify(ctx, mode, NULL);
	if (server && conf->peers_allow != NULL) {
		pthread_once(&tls_acl_once, tls_acl_idx_init);
		if (tls_acl_idx < 0 || SSL_CTX_set_ex_data(ctx, tls_acl_idx,
		    (void *)conf->peers_allow) != 1) {
			mig_seterr(err, MIG_E_NOMEM, "TLS: cannot attach "
			    "tls-peers-allow to the context");
			goto fail;
		}
	}
	ERR_clear_error();
	return ctx;
fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
mig_tls_server_ctx(const struct mig_tls_conf *conf, struct mig_err *err)
{
	return tls_ctx_new(conf, 1, err);
}

SSL_CTX *
mig_tls_client_ctx(const struct mig_tls_conf *conf, struct mig_err *err)
{
	return tls_ctx_new(conf, 0, err);
}

static int
is_http(const uint8_t *p, size_t n)
{
	static const char *const methods[] = { "GET ", "POST ", "HEAD ",
	    "PUT ", "OPTIONS ", "CONNECT ", "DELETE ", "PRI " };
	size_t	i, l;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		l = strlen(methods[i]);
		if (memcmp(p, methods[i], n < l ? n : l) == 0)
			return 1;
	}
	return 0;
}

int
mig_tls_sniff(const uint8_t *p, size_t n, const char *peer,
    struct mig_err *err)
{
	static const char	preamble[] = "XENRELOC";
	size_t			l = sizeof(preamble) - 1;

	/* Every TLS connection opens with a handshake record (type 22). */
	if (n == 0 || p[0] == 0x16)
		return 0;
	if (memcmp(p, preamble, n < l ? n : l) == 0)
		return mig_seterr(err, MIG_E_PROTO, "plaintext on TLS port: "
		    "%s sent the XENRELOC preamble (sender not configured "
		    "for TLS?)", peer);
	if (is_http(p, n))
		return mig_seterr(err, MIG_E_PROTO, "plaintext on TLS port: "
		    "%s sent an HTTP request", peer);
	return mig_seterr(err, MIG_E_PROTO, "plaintext on TLS port: %s sent "
	    "0x%02x, not a TLS handshake record", peer, p[0]);
}

/* The host name or address the client asked the certificate to match. */
static void
tls_expected_name(SSL *ssl, char *buf, size_t len)
{
	X509_VERIFY_PARAM	*param = SSL_get0_param(ssl);
	const char		*host;
	char			*ip;

	if ((host = X509_VERIFY_PARAM_get0_host(param, 0)) != NULL)
		snprintf(buf, len, "%s", host);
	else if ((ip = X509_VERIFY_PARAM_get1_ip_asc(param)) != NULL) {
		snprintf(buf, len, "%s", ip);
		OPENSSL_free(ip);
	} else
		snprintf(buf, len, "?");
}

static int
tls_verify_err(SSL *ssl, const char *peer, struct mig_err *err)
{
	long	vr = SSL_get_verify_result(ssl);
	char	want[256];

	switch (vr) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return mig_seterr(err, MIG_E_TLS, "certificate expired (peer "
		    "%s)", peer);
	case X509_V_ERR_CERT_REVOKED:
		return mig_seterr(err, MIG_E_TLS, "certificate revoked (peer "
		    "%s)", peer);
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return mig_seterr(err, MIG_E_TLS, "certificate not yet valid "
		    "(peer %s; check clocks)", peer);
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		tls_expected_name(ssl, want, sizeof(want));
		return mig_seterr(err, MIG_E_TLS, "host name mismatch: "
		    "certificate of peer %s is not valid for %s", peer, want);
	default:
		return mig_seterr(err, MIG_E_TLS, "certificate verify failed: "
		    "%s (peer %s)", X509_verify_cert_error_string(vr), peer);
	}
}

int
mig_tls_seterr(SSL *ssl, int ret, const char *what, const char *peer,
    struct mig_err *err)
{
	int	e = SSL_get_error(ssl, ret), saved = errno, reason;

	reason = ERR_GET_REASON(ERR_peek_error());
	switch (e) {
	case SSL_ERROR_ZERO_RETURN:
		mig_seterr(err, MIG_E_EOF, "TLS %s: peer %s closed the "
		    "connection", what, peer);
		break;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0 && saved == 0)
			mig_seterr(err, MIG_E_EOF, "TLS %s: peer %s closed the "
			    "connection", what, peer);
		else {
			errno = saved;
			mig_seterrno(err, MIG_E_IO, "TLS %s with %s", what,
			    peer);
		}
		break;
	case SSL_ERROR_SSL:
		if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED)
			tls_verify_err(ssl, peer, err);
		else if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
			mig_seterr(err, MIG_E_TLS, "peer sent no certificate "
			    "(peer %s)", peer);
		else if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)
			mig_seterr(err, MIG_E_EOF, "TLS %s: peer %s closed the "
			    "connection without close_notify", what, peer);
		else if (reason == SSL_R_WRONG_VERSION_NUMBER ||
		    reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
		    reason == SSL_R_HTTP_REQUEST)
			mig_seterr(err, MIG_E_PROTO, "TLS %s: peer %s does not "
			    "speak TLS (%s; plaintext port?)", what, peer,
			    tls_reason());
		else if (reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED)
			mig_seterr(err, MIG_E_TLS, "peer %s requires a client "
			    "certificate and we sent none", peer);
		else if (reason >= SSL_AD_REASON_OFFSET)
			mig_seterr(err, MIG_E_TLS, "peer %s refused the TLS "
			    "%s: %s", peer, what, tls_reason());
		else
			mig_seterr(err, MIG_E_TLS, "TLS %s with %s failed: %s",
			    what, peer, tls_reason());
		break;
	default:
		mig_seterr(err, MIG_E_TLS, "TLS %s with %s failed (SSL error "
		    "%d)", what, peer, e);
		break;
	}
	ERR_clear_error();
	errno = saved;
	return -1;
}

/* Append a copy of the n-byte string s (no embedded NUL) to names. */
static int
tls_add_name(char **names, size_t max, size_t *n, const char *s, size_t len)
{
	if (*n >= max || memchr(s, '\0', len) != NULL)
		return 0;
	if ((names[*n] = strndup(s, len)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

static int
tls_add_cns(X509 *cert, char **names, size_t max, size_t *n)
{
	X509_NAME	*subj = X509_get_subject_name(cert);
	unsigned char	*utf8;
	int		 i = -1, len, rc;

	while ((i = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0) {
		len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(subj, i)));
		if (len < 0)
			continue;
		rc = tls_add_name(names, max, n, (char *)utf8, len);
		OPENSSL_free(utf8);
		if (rc == -1)
			return -1;
	}
	return 0;
}

static int
tls_add_sans(X509 *cert, char **names, size_t max, size_t *n)
{
	GENERAL_NAMES		*sans;
	const GENERAL_NAME	*gn;
	char			 ip[INET6_ADDRSTRLEN];
	int			 i, len, rc = 0;

	if ((sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL,
	    NULL)) == NULL)
		return 0;
	for (i = 0; i < sk_GENERAL_NAME_num(sans) && rc == 0; i++) {
		gn = sk_GENERAL_NAME_value(sans, i);
		if (gn->type == GEN_DNS)
			rc = tls_add_name(names, max, n,
			    (const char *)ASN1_STRING_get0_data(gn->d.dNSName),
			    ASN1_STRING_length(gn->d.dNSName));
		else if (gn->type == GEN_IPADD) {
			len = ASN1_STRING_length(gn->d.iPAddress);
			if ((len == 4 || len == 16) && inet_ntop(len == 4 ?
			    AF_INET : AF_INET6, ASN1_STRING_get0_data(
			    gn->d.iPAddress), ip, sizeof(ip)) != NULL)
				rc = tls_add_name(names, max, n, ip,
				    strlen(ip));
		}
	}
	GENERAL_NAMES_free(sans);
	return rc;
}

int
mig_tls_peer_names(SSL *ssl, char **names, size_t max)
{
	X509	*cert = SSL_get0_peer_certificate(ssl);
	size_t	 n = 0;

	if (cert == NULL)
		return 0;
	if (tls_add_sans(cert, names, max, &n) == -1 ||
	    (n == 0 && tls_add_cns(cert, names, max, &n) == -1)) {
		mig_tls_free_names(names, n);
		return -1;
	}
	return (int)n;
}

/* Where distributions keep the bundle of public CAs. */
static const char *const tls_system_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",	/* Debian, Ubuntu, Alpine */
	"/etc/pki/tls/certs/ca-bundle.crt",	/* Fedora, RHEL */
	"/etc/ssl/ca-bundle.pem",		/* SUSE */
	"/etc/ssl/cert.pem",			/* OpenBSD, Alpine */
};

int
mig_tls_ca_public(const char *ca, char *why, size_t len)
{
	STACK_OF(X509_INFO)	*infos;
	char			 real[PATH_MAX], sys[PATH_MAX];
	const char		*dir = X509_get_default_cert_dir();
	size_t			 i, dlen;
	BIO			*b;
	int			 n = 0;

	if (realpath(ca, real) == NULL)
		return 0;
	for (i = 0; i <= sizeof(tls_system_bundles) /
	    sizeof(tls_system_bundles[0]); i++)
		if (realpath(i == 0 ? X509_get_default_cert_file() :
		    tls_system_bundles[i - 1], sys) != NULL &&
		    strcmp(sys, real) == 0) {
			snprintf(why, len, "%s is the system's CA bundle", ca);
			return 1;
		}
	/* One public CA out of the system's directory is public too. */
	if (realpath(dir, sys) != NULL && (dlen = strlen(sys)) > 0 &&
	    strncmp(real, sys, dlen) == 0 && real[dlen] == '/') {
		snprintf(why, len, "%s is in the system's CA directory %s", ca,
		    sys);
		return 1;
	}
	if ((b = BIO_new_file(ca, "r")) == NULL)
		return 0;
	infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	for (i = 0; infos != NULL && i < (size_t)sk_X509_INFO_num(infos); i++)
		if (sk_X509_INFO_value(infos, (int)i)->x509 != NULL)
			n++;
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	if (n <= MIG_TLS_CA_PUBLIC)
		return 0;
	snprintf(why, len, "%s holds %d CA certificates", ca, n);
	return 1;
}

void
mig_tls_free_names(char **names, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(names[i]);
}

int
mig_tls_peer_cert(SSL *ssl, char *subject, size_t slen, char *fpr,
    size_t flen)
{
	X509		*cert = SSL_get0_peer_certificate(ssl);
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n = 0, i;
	size_t		 o = 0;

	if (cert == NULL || slen == 0 || flen == 0)
		return -1;
	if (X509_NAME_oneline(X509_get_subject_name(cert), subject,
	    (int)slen) == NULL)
		snprintf(subject, slen, "?");
	fpr[0] = '\0';
	if (X509_digest(cert, EVP_sha256(), md, &n) != 1)
		n = 0;
	for (i = 0; i < n && o + 3 < flen; i++)
		o += (size_t)snprintf(fpr + o, flen - o, "%s%02X", i ? ":" : "",
		    md[i]);
	return 0;
}

int
mig_tls_check_peer(SSL *ssl, const char *peer, struct mig_err *err)
{
	const struct mig_acl	*acl = NULL;
	char			*names[TLS_MAXNAMES], list[192];
	size_t			 i, off = 0;
	int			 n, ok;

	if (tls_acl_idx >= 0)
		acl = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_acl_idx);
	if (acl == NULL)
		return 0;
	if (SSL_get0_peer_certificate(ssl) == NULL)
		return mig_seterr(err, MIG_E_DENIED, "peer sent no certificate "
		    "(peer %s; tls-peers-allow needs one)", peer);
	if ((n = mig_tls_peer_names(ssl, names, TLS_MAXNAMES)) == -1)
		return mig_seterr(err, MIG_E_NOMEM, "certificate names of %s",
		    peer);
	ok = mig_acl_check_names(acl, (const char *const *)names, n);
	list[0] = '\0';
	for (i = 0; i < (size_t)n && off < sizeof(list); i++)
		off += snprintf(list + off, sizeof(list) - off, "%s%s",
		    i ? ", " : "", names[i]);
	mig_tls_free_names(names, n);
	if (ok)
		return 0;
	return mig_seterr(err, MIG_E_DENIED, "certificate of peer %s (%s) not "
	    "admitted by tls-peers-allow", peer, n ? list : "no names");
}
