/* creds.c - see creds.h. */
#include "creds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "secretfile.h"

void creds_defaults(struct creds *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->kafka_security_protocol, sizeof c->kafka_security_protocol, "PLAINTEXT");
	snprintf(c->kafka_sasl_mechanism, sizeof c->kafka_sasl_mechanism, "SCRAM-SHA-512");
}

void creds_keys(struct creds *c, struct conf_key *k)
{
#define S(sec, key, field) (struct conf_key){ sec, key, CONF_STR, c->field, sizeof c->field, 0, 0 }
	k[0] = S("redis", "user", redis_user);
	k[1] = S("redis", "password_file", redis_password_file);
	k[2] = S("kafka", "security_protocol", kafka_security_protocol);
	k[3] = S("kafka", "sasl_mechanism", kafka_sasl_mechanism);
	k[4] = S("kafka", "sasl_username", kafka_sasl_username);
	k[5] = S("kafka", "sasl_password_file", kafka_sasl_password_file);
	k[6] = S("kafka", "ssl_ca_file", kafka_ssl_ca_file);
#undef S
}

bool creds_kafka_sasl(const struct creds *c)
{
	return !strcmp(c->kafka_security_protocol, "SASL_PLAINTEXT") ||
	       !strcmp(c->kafka_security_protocol, "SASL_SSL");
}

static bool one_of(const char *v, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(v, *set))
			return true;
	return false;
}

/* A user name Redis and Kafka both take as one token: no spaces, controls or quotes. */
static bool user_ok(const char *u)
{
	if (!*u)
		return false;
	for (; *u; u++)
		if ((unsigned char)*u <= ' ' || *u == '"' || *u == '\'' || *u == 0x7f)
			return false;
	return true;
}

int creds_password_load(const char *file, char *out, size_t outlen, char *err, size_t errlen)
{
	char buf[CREDS_PASSWORD_MAX + 2]; /* the password, then "\r\n" at most */
	int r = 0;
	ssize_t got = secretfile_read(file, "password", buf, sizeof buf, err, errlen);
	if (got < 0 && got != -EFBIG) {
		r = (int)got;
		goto out;
	}
	size_t n = got < 0 ? sizeof buf : (size_t)got;
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0 || n > CREDS_PASSWORD_MAX || n >= outlen) {
		r = -EINVAL;
		snprintf(err, errlen, "%s: password must be one line of 1 to %d bytes", file,
		         CREDS_PASSWORD_MAX);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || buf[i] == '\0') {
			r = -EINVAL;
			snprintf(err, errlen, "%s: password must be one line without NUL bytes",
			         file);
			goto out;
		}
	}
	memcpy(out, buf, n);
	out[n] = '\0';
out:
	OPENSSL_cleanse(buf, sizeof buf);
	return r;
}

static int bad(const char *path, const char *sec, const char *key, char *err, size_t errlen,
               const char *why)
{
	snprintf(err, errlen, "%s:%u: %s.%s: %s", path, conf_line_of(path, sec, key), sec, key,
	         why);
	return -EINVAL;
}

static int load_pw(const char *path, const char *sec, const char *key, const char *file, char *out,
                   size_t outlen, char *err, size_t errlen)
{
	char why[PATH_MAX + 160];
	int r = creds_password_load(file, out, outlen, why, sizeof why);
	if (r < 0)
		snprintf(err, errlen, "%s:%u: %s.%s: %s", path, conf_line_of(path, sec, key), sec,
		         key, why);
	return r;
}

int creds_check(struct creds *c, const char *path, bool kafka_used, char *err, size_t errlen)
{
	static const char *const protocols[] = { "PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL",
		                                 NULL };
	static const char *const mechanisms[] = { "SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN", NULL };
	if (c->redis_user[0] && !user_ok(c->redis_user))
		return bad(path, "redis", "user", err, errlen,
		           "a user name without spaces, quotes or control characters");
	if (c->redis_user[0] && !c->redis_password_file[0])
		return bad(path, "redis", "user", err, errlen,
		           "set redis.password_file too (a user needs its password)");
	if (c->redis_password_file[0]) {
		int r = load_pw(path, "redis", "password_file", c->redis_password_file,
		                c->redis_password, sizeof c->redis_password, err, errlen);
		if (r < 0)
			return r;
	}
	if (!one_of(c->kafka_security_protocol, protocols))
		return bad(path, "kafka", "security_protocol", err, errlen,
		           "expected PLAINTEXT, SASL_PLAINTEXT, SASL_SSL or SSL");
	if (!one_of(c->kafka_sasl_mechanism, mechanisms))
		return bad(path, "kafka", "sasl_mechanism", err, errlen,
		           "expected SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN");
	if (!kafka_used)
		return 0;
	if (creds_kafka_sasl(c)) {
		if (!user_ok(c->kafka_sasl_username))
			return bad(path, "kafka", "sasl_username", err, errlen,
			           "required with a SASL security_protocol (no spaces or quotes)");
		if (!c->kafka_sasl_password_file[0])
			return bad(path, "kafka", "sasl_password_file", err, errlen,
			           "required with a SASL security_protocol");
		int r = load_pw(path, "kafka", "sasl_password_file", c->kafka_sasl_password_file,
		                c->kafka_sasl_password, sizeof c->kafka_sasl_password, err, errlen);
		if (r < 0)
			return r;
	} else if (c->kafka_sasl_username[0] || c->kafka_sasl_password_file[0]) {
		return bad(path, "kafka",
		           c->kafka_sasl_username[0] ? "sasl_username" : "sasl_password_file", err,
		           errlen,
		           "only used with security_protocol SASL_PLAINTEXT or SASL_SSL; set "
		           "that too, or remove this key");
	}
	if (c->kafka_ssl_ca_file[0]) {
		if (strcmp(c->kafka_security_protocol, "SSL") &&
		    strcmp(c->kafka_security_protocol, "SASL_SSL"))
			return bad(path, "kafka", "ssl_ca_file", err, errlen,
			           "only used with security_protocol SSL or SASL_SSL");
		if (access(c->kafka_ssl_ca_file, R_OK) != 0) {
			char why[PATH_MAX + 64];
			snprintf(why, sizeof why, "%s: %s", c->kafka_ssl_ca_file, strerror(errno));
			return bad(path, "kafka", "ssl_ca_file", err, errlen, why);
		}
	}
	return 0;
}

void creds_wipe(struct creds *c)
{
	OPENSSL_cleanse(c->redis_password, sizeof c->redis_password);
	OPENSSL_cleanse(c->kafka_sasl_password, sizeof c->kafka_sasl_password);
}

int creds_from_env(struct creds *c, char *err, size_t errlen)
{
	struct {
		const char *var;
		char *dst;
		size_t len;
	} vars[] = {
		{ "GRADEQ_REDIS_USER", c->redis_user, sizeof c->redis_user },
		{ "GRADEQ_REDIS_PASSWORD_FILE", c->redis_password_file,
		  sizeof c->redis_password_file },
		{ "GRADEQ_KAFKA_SECURITY_PROTOCOL", c->kafka_security_protocol,
		  sizeof c->kafka_security_protocol },
		{ "GRADEQ_KAFKA_SASL_MECHANISM", c->kafka_sasl_mechanism,
		  sizeof c->kafka_sasl_mechanism },
		{ "GRADEQ_KAFKA_SASL_USERNAME", c->kafka_sasl_username,
		  sizeof c->kafka_sasl_username },
		{ "GRADEQ_KAFKA_SASL_PASSWORD_FILE", c->kafka_sasl_password_file,
		  sizeof c->kafka_sasl_password_file },
		{ "GRADEQ_KAFKA_SSL_CA_FILE", c->kafka_ssl_ca_file, sizeof c->kafka_ssl_ca_file },
	};
	creds_defaults(c);
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		const char *v = getenv(vars[i].var);
		if (!v || !*v)
			continue;
		if (strlen(v) >= vars[i].len) {
			snprintf(err, errlen, "%s: too long", vars[i].var);
			return -EINVAL;
		}
		snprintf(vars[i].dst, vars[i].len, "%s", v);
	}
	char why[PATH_MAX + 200];
	int r;
	if (c->redis_password_file[0] &&
	    (r = creds_password_load(c->redis_password_file, c->redis_password,
	                             sizeof c->redis_password, why, sizeof why)) < 0) {
		snprintf(err, errlen, "GRADEQ_REDIS_PASSWORD_FILE: %s", why);
		return r;
	}
	if (c->kafka_sasl_password_file[0] &&
	    (r = creds_password_load(c->kafka_sasl_password_file, c->kafka_sasl_password,
	                             sizeof c->kafka_sasl_password, why, sizeof why)) < 0) {
		snprintf(err, errlen, "GRADEQ_KAFKA_SASL_PASSWORD_FILE: %s", why);
		return r;
	}
	return 0;
}
