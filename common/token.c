/* token.c - HMAC-SHA256 bearer tokens: base64url(payload) "." base64url(mac), where
 * payload is "<user>:<role>:<expiry>" and mac = HMAC-SHA256(secret, payload). */
#include "token.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "names.h"
#include "secretfile.h"
#include "util.h"

#define MAC_LEN 32
#define PAYLOAD_MAX (GQ_NAME_MAX + 1 + 10 + 1 + 20 + 1)

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Unpadded base64url of in into out; returns the length written or -ENOSPC. */
static int b64url_encode(const unsigned char *in, size_t len, char *out, size_t outlen)
{
	size_t need = (len / 3) * 4 + (len % 3 ? len % 3 + 1 : 0), o = 0;

	if (need + 1 > outlen)
		return -ENOSPC;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t rest = len - i;

		if (rest > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (rest > 2)
			v |= in[i + 2];
		out[o++] = b64chars[(v >> 18) & 63];
		out[o++] = b64chars[(v >> 12) & 63];
		if (rest > 1)
			out[o++] = b64chars[(v >> 6) & 63];
		if (rest > 2)
			out[o++] = b64chars[v & 63];
	}
	out[o] = '\0';
	return (int)o;
}

static int b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Strict decoder: no padding, no whitespace, and unused low bits of the last character
 * must be zero, so every byte string has exactly one accepted encoding (a token cannot be
 * altered into another string that still verifies). Returns the length or -EBADMSG. */
static int b64url_decode(const char *in, size_t len, unsigned char *out, size_t outlen)
{
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0;

	if (len % 4 == 1 || (len / 4) * 3 + (len % 4 ? len % 4 - 1 : 0) > outlen)
		return -EBADMSG;
	for (size_t i = 0; i < len; i++) {
		int v = b64url_value(in[i]);

		if (v < 0)
			return -EBADMSG;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return -EBADMSG;
	return (int)o;
}

static void trim(const char **s, size_t *len)
{
	while (*len > 0 && isspace((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

static int secret_set(const char *s, size_t len, struct gq_secret *out, const char *what, char *err,
                      size_t errlen)
{
	trim(&s, &len);
	if (len < GQ_SECRET_MIN) {
		snprintf(err, errlen, "%s: secret shorter than %d bytes", what, GQ_SECRET_MIN);
		return -EINVAL;
	}
	if (len > GQ_SECRET_MAX) {
		snprintf(err, errlen, "%s: secret longer than %d bytes", what, GQ_SECRET_MAX);
		return -EINVAL;
	}
	memcpy(out->key, s, len);
	out->len = len;
	return 0;
}

int token_secret_load(const char *path, struct gq_secret *out, char *err, size_t errlen)
{
	char buf[GQ_SECRET_MAX + 1024]; /* room for the whitespace secret_set trims */
	int r;
	ssize_t n = secretfile_read(path, "secret", buf, sizeof buf, err, errlen);
	if (n == -EFBIG) {
		snprintf(err, errlen, "%s: secret longer than %d bytes", path, GQ_SECRET_MAX);
		r = -EINVAL;
		goto out;
	}
	if (n < 0) {
		r = (int)n;
		goto out;
	}
	r = secret_set(buf, (size_t)n, out, path, err, errlen);
out:
	OPENSSL_cleanse(buf, sizeof buf);
	return r;
}

int token_secret_from_string(const char *s, struct gq_secret *out, char *err, size_t errlen)
{
	if (!s) {
		snprintf(err, errlen, "no secret given");
		return -EINVAL;
	}
	return secret_set(s, strlen(s), out, "secret", err, errlen);
}

const char *token_role_name(enum gq_role r)
{
	switch (r) {
	case GQ_ROLE_STUDENT:
		return "student";
	case GQ_ROLE_INSTRUCTOR:
		return "instructor";
	}
	return NULL;
}

int token_role_parse(const char *s, enum gq_role *out)
{
	if (s && strcmp(s, "student") == 0)
		*out = GQ_ROLE_STUDENT;
	else if (s && strcmp(s, "instructor") == 0)
		*out = GQ_ROLE_INSTRUCTOR;
	else
		return -EINVAL;
	return 0;
}

static int mac(const struct gq_secret *sec, const char *payload, size_t len,
               unsigned char out[MAC_LEN])
{
	unsigned int maclen = 0;

	if (!HMAC(EVP_sha256(), sec->key, (int)sec->len, (const unsigned char *)payload, len, out,
	          &maclen) ||
	    maclen != MAC_LEN)
		return -EIO;
	return 0;
}

int token_sign(const struct gq_secret *sec, const struct gq_token *t, char *out, size_t outlen)
{
	char payload[PAYLOAD_MAX], tok[GQ_TOKEN_MAX];
	unsigned char md[MAC_LEN];
	const char *role;
	int n, p, r;

	if (!sec || !t || sec->len < GQ_SECRET_MIN || sec->len > GQ_SECRET_MAX)
		return -EINVAL;
	role = token_role_name(t->role);
	if (!role || !name_valid(t->user) || t->expiry < 0)
		return -EINVAL;
	n = snprintf(payload, sizeof payload, "%s:%s:%" PRId64, t->user, role, t->expiry);
	if (n < 0 || (size_t)n >= sizeof payload)
		return -EINVAL;
	r = mac(sec, payload, (size_t)n, md);
	if (r < 0)
		return r;
	p = b64url_encode((const unsigned char *)payload, (size_t)n, tok, sizeof tok);
	if (p < 0 || (size_t)p + 1 >= sizeof tok)
		return -ENOSPC;
	tok[p] = '.';
	if (b64url_encode(md, sizeof md, tok + p + 1, sizeof tok - (size_t)p - 1) < 0)
		return -ENOSPC;
	if (strlen(tok) + 1 > outlen)
		return -ENOSPC;
	memcpy(out, tok, strlen(tok) + 1);
	return 0;
}

/* Parses an authenticated payload "<user>:<role>:<expiry>". */
static int payload_parse(const char *p, struct gq_token *t)
{
	const char *c1 = strchr(p, ':'), *c2;
	char role[16];
	long long expiry;

	if (!c1)
		return -EBADMSG;
	c2 = strchr(c1 + 1, ':');
	if (!c2 || (size_t)(c1 - p) >= sizeof t->user || (size_t)(c2 - c1 - 1) >= sizeof role)
		return -EBADMSG;
	memcpy(t->user, p, (size_t)(c1 - p));
	t->user[c1 - p] = '\0';
	memcpy(role, c1 + 1, (size_t)(c2 - c1 - 1));
	role[c2 - c1 - 1] = '\0';
	if (!name_valid(t->user) || token_role_parse(role, &t->role) < 0)
		return -EBADMSG;
	if (c2[1] < '0' || c2[1] > '9' || util_parse_ll(c2 + 1, 0, INT64_MAX, &expiry) < 0)
		return -EBADMSG;
	t->expiry = expiry;
	return 0;
}

int token_verify(const struct gq_secret *sec, const char *tok, int64_t now, struct gq_token *out)
{
	unsigned char payload[PAYLOAD_MAX], sig[MAC_LEN + 3], md[MAC_LEN];
	struct gq_token t;
	const char *dot;
	size_t len;
	int plen, slen;

	if (!sec || !tok || sec->len < GQ_SECRET_MIN || sec->len > GQ_SECRET_MAX)
		return -EBADMSG;
	len = strnlen(tok, GQ_TOKEN_MAX + 1);
	if (len > GQ_TOKEN_MAX)
		return -EBADMSG;
	dot = strchr(tok, '.');
	if (!dot || strchr(dot + 1, '.'))
		return -EBADMSG;
	plen = b64url_decode(tok, (size_t)(dot - tok), payload, sizeof payload - 1);
	slen = b64url_decode(dot + 1, strlen(dot + 1), sig, sizeof sig);
	if (plen <= 0 || slen != MAC_LEN)
		return -EBADMSG;
	if (mac(sec, (const char *)payload, (size_t)plen, md) < 0)
		return -EBADMSG;
	if (CRYPTO_memcmp(md, sig, MAC_LEN) != 0)
		return -EBADMSG;
	payload[plen] = '\0';
	if (memchr(payload, '\0', (size_t)plen) || payload_parse((const char *)payload, &t) < 0)
		return -EBADMSG;
	if (now >= t.expiry)
		return -EKEYEXPIRED;
	*out = t;
	return 0;
}
