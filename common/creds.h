/* creds.h - the credentials a daemon presents to Redis and Kafka, as its config file
 * names them ([redis] user, password_file; [kafka] security_protocol, sasl_mechanism,
 * sasl_username, sasl_password_file, ssl_ca_file; docs/config.md, docs/security.md).
 * A password lives in a file of its own that only its owner may read; it is read once,
 * at load, and never logged. Shared by the dispatcher's and the node's config loaders. */
#pragma once
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct conf_key;

#define CREDS_PASSWORD_MAX 255
#define CREDS_NKEYS 7 /* entries creds_keys() appends */

struct creds {
	/* from the config file */
	char redis_user[128];               /* "" = AUTH with the password alone (default user) */
	char redis_password_file[PATH_MAX]; /* "" = no AUTH */
	char kafka_security_protocol[16];   /* PLAINTEXT | SASL_PLAINTEXT | SASL_SSL | SSL */
	char kafka_sasl_mechanism[32];      /* SCRAM-SHA-512 (default) | SCRAM-SHA-256 | PLAIN */
	char kafka_sasl_username[128];
	char kafka_sasl_password_file[PATH_MAX];
	char kafka_ssl_ca_file[PATH_MAX]; /* "" = the system's CA store */
	/* filled by creds_check() */
	char redis_password[CREDS_PASSWORD_MAX + 1];
	char kafka_sasl_password[CREDS_PASSWORD_MAX + 1];
};

/* No credentials: PLAINTEXT Kafka, no Redis AUTH; mechanism SCRAM-SHA-512. */
void creds_defaults(struct creds *c);
/* Writes the CREDS_NKEYS conf_key entries for c's fields to keys[0..CREDS_NKEYS). */
void creds_keys(struct creds *c, struct conf_key *keys);
/* After path was loaded: checks the values and reads the password files (Kafka's only
 * when kafka_used). Returns 0, or a negative errno with "path:line: key: reason, what to
 * do" in err. */
int creds_check(struct creds *c, const char *path, bool kafka_used, char *err, size_t errlen);
/* true when the Kafka protocol authenticates with SASL (SASL_PLAINTEXT, SASL_SSL). */
bool creds_kafka_sasl(const struct creds *c);
/* Reads a password file: a regular file with no group or other permission bits, one
 * line of 1..CREDS_PASSWORD_MAX bytes (a final newline is dropped). Returns 0 with the
 * password in out[outlen], or a negative errno with "file: reason" in err; out is left
 * untouched on failure. */
int creds_password_load(const char *file, char *out, size_t outlen, char *err, size_t errlen);
/* Wipes the passwords held in c. */
void creds_wipe(struct creds *c);
/* For tools run beside a cluster (`scripts/cluster env` exports these): fills c from
 * GRADEQ_REDIS_USER, GRADEQ_REDIS_PASSWORD_FILE, GRADEQ_KAFKA_SECURITY_PROTOCOL,
 * GRADEQ_KAFKA_SASL_MECHANISM, GRADEQ_KAFKA_SASL_USERNAME,
 * GRADEQ_KAFKA_SASL_PASSWORD_FILE, GRADEQ_KAFKA_SSL_CA_FILE (unset: none) and reads the
 * password files. Returns 0 or a negative errno with "VARIABLE: reason" in err. */
int creds_from_env(struct creds *c, char *err, size_t errlen);
