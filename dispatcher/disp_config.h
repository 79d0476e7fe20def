/* disp_config.h - gradeq-dispatcher's configuration (docs/config.md): defaults, strict
 * loading of dispatcher.conf with FILE:LINE errors, and the parsed host:port pairs. */
#pragma once
#include <stddef.h>

#include "creds.h"
#include "log.h"

struct disp_config {
	char listen[272];        /* dispatcher.listen, "host:port" */
	char secret_file[4096];  /* dispatcher.secret_file */
	long long max_body_kb;   /* dispatcher.max_body_kb */
	long long max_header_kb; /* dispatcher.max_header_kb: request line + headers */
	long long max_connections, max_connections_per_client;
	long long request_timeout_s; /* whole request received within (from accept) */
	char log_level[16];          /* dispatcher.log_level */
	char broker_kind[16];        /* broker.kind: "redis" (default) or "kafka" */
	char broker_stream[256];     /* broker.stream: the jobs stream (redis) */
	char broker_group[256];      /* broker.group: the graders' group (redis) */
	char kafka_brokers[1024];
	char kafka_topic[256];
	char kafka_group[256]; /* the graders' consumer group, for the queue lag */
	char redis_address[272];
	long long redis_timeout_ms; /* redis.command_timeout_ms */
	struct creds creds;         /* redis.user, redis.password_file, kafka.sasl_* ... */

	/* Derived by disp_config_load(). */
	enum gq_log_level level;
	char listen_host[256];
	int listen_port;
	char redis_host[256];
	int redis_port;
};

struct broker_auth;

void disp_config_defaults(struct disp_config *c);
/* The credentials for the job queue of broker.kind (Redis's or Kafka's); the strings
 * stay c's. */
void disp_config_broker_auth(const struct disp_config *c, struct broker_auth *out);
/* Loads path over the defaults already in c, then validates the values that need more
 * than a type check. Returns 0 or a negative errno with err ("path:line: reason" or
 * "path: key: reason"). */
int disp_config_load(struct disp_config *c, const char *path, char *err, size_t errlen);
/* Splits "host:port" (port 1-65535; allow_zero permits 0 for "pick a free port").
 * Returns 0 or -EINVAL; outputs untouched on failure. */
int disp_config_hostport(const char *s, int allow_zero, char *host, size_t hostlen, int *port);
