/* disp_config.c - dispatcher.conf (see disp_config.h, docs/config.md). */
#include "disp_config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "conf.h"
#include "util.h"

void disp_config_defaults(struct disp_config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->listen, sizeof c->listen, "127.0.0.1:8080");
	snprintf(c->secret_file, sizeof c->secret_file, "/etc/gradeq/secret");
	c->max_body_kb = 1024;
	c->max_header_kb = 16;
	c->max_connections = 1024;
	c->max_connections_per_client = 64;
	c->request_timeout_s = 30;
	snprintf(c->log_level, sizeof c->log_level, "info");
	snprintf(c->broker_kind, sizeof c->broker_kind, "redis");
	snprintf(c->broker_stream, sizeof c->broker_stream, "gq:jobs");
	snprintf(c->broker_group, sizeof c->broker_group, "gradeq-graders");
	snprintf(c->kafka_brokers, sizeof c->kafka_brokers, "127.0.0.1:9092");
	snprintf(c->kafka_topic, sizeof c->kafka_topic, "gradeq.jobs");
	snprintf(c->kafka_group, sizeof c->kafka_group, "gradeq-graders");
	snprintf(c->redis_address, sizeof c->redis_address, "127.0.0.1:6379");
	c->redis_timeout_ms = 5000;
	creds_defaults(&c->creds);
	c->level = GQ_LOG_INFO;
}

void disp_config_broker_auth(const struct disp_config *c, struct broker_auth *out)
{
	broker_auth_from_creds(&c->creds, strcmp(c->broker_kind, "kafka") == 0, out);
}

int disp_config_hostport(const char *s, int allow_zero, char *host, size_t hostlen, int *port)
{
	const char *colon = strrchr(s, ':');
	if (colon == NULL || colon == s)
		return -EINVAL;
	size_t hl = (size_t)(colon - s);
	const char *h = s;
	if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') { /* [::1]:8080 */
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= hostlen)
		return -EINVAL;
	long long p;
	if (util_parse_ll(colon + 1, allow_zero ? 0 : 1, 65535, &p) < 0)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

/* [A-Za-z0-9._-]{1,249} plus the characters of extra */
static int name_ok(const char *t, const char *extra)
{
	size_t n = strlen(t);
	if (n == 0 || n > 249)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
		            t[i]) &&
		    !strchr(extra, t[i]))
			return 0;
	return 1;
}

static int topic_valid(const char *t) /* Kafka topics and groups */
{
	return name_ok(t, "");
}

static int key_valid(const char *t) /* Redis stream keys and group names */
{
	return name_ok(t, ":");
}

int disp_config_load(struct disp_config *c, const char *path, char *err, size_t errlen)
{
	const struct conf_key base[] = {
		{ "dispatcher", "listen", CONF_STR, c->listen, sizeof c->listen, 0, 0 },
		{ "dispatcher", "secret_file", CONF_STR, c->secret_file, sizeof c->secret_file, 0,
		  0 },
		{ "dispatcher", "max_body_kb", CONF_INT, &c->max_body_kb, 0, 1, 64 * 1024 },
		{ "dispatcher", "max_header_kb", CONF_INT, &c->max_header_kb, 0, 1, 1024 },
		{ "dispatcher", "max_connections", CONF_INT, &c->max_connections, 0, 1, 100000 },
		{ "dispatcher", "max_connections_per_client", CONF_INT,
		  &c->max_connections_per_client, 0, 1, 100000 },
		{ "dispatcher", "request_timeout_s", CONF_INT, &c->request_timeout_s, 0, 1, 3600 },
		{ "dispatcher", "log_level", CONF_STR, c->log_level, sizeof c->log_level, 0, 0 },
		{ "broker", "kind", CONF_STR, c->broker_kind, sizeof c->broker_kind, 0, 0 },
		{ "broker", "stream", CONF_STR, c->broker_stream, sizeof c->broker_stream, 0, 0 },
		{ "broker", "group", CONF_STR, c->broker_group, sizeof c->broker_group, 0, 0 },
		{ "kafka", "brokers", CONF_STR, c->kafka_brokers, sizeof c->kafka_brokers, 0, 0 },
		{ "kafka", "topic", CONF_STR, c->kafka_topic, sizeof c->kafka_topic, 0, 0 },
		{ "kafka", "group", CONF_STR, c->kafka_group, sizeof c->kafka_group, 0, 0 },
		{ "redis", "address", CONF_STR, c->redis_address, sizeof c->redis_address, 0, 0 },
		{ "redis", "command_timeout_ms", CONF_INT, &c->redis_timeout_ms, 0, 100, 600000 },
	};
	enum { NBASE = sizeof base / sizeof base[0] };
	struct conf_key keys[NBASE + CREDS_NKEYS];
	memcpy(keys, base, sizeof base);
	creds_keys(&c->creds, keys + NBASE);
	int rc = conf_load_file(path, keys, sizeof keys / sizeof keys[0], err, errlen);
	if (rc < 0)
		return rc;
	if (gq_log_level_parse(c->log_level, &c->level) < 0) {
		snprintf(err, errlen,
		         "%s: dispatcher.log_level: expected debug, info, warn or error", path);
		return -EINVAL;
	}
	if (disp_config_hostport(c->listen, 1, c->listen_host, sizeof c->listen_host,
	                         &c->listen_port) < 0) {
		snprintf(err, errlen, "%s: dispatcher.listen: expected host:port, got \"%s\"", path,
		         c->listen);
		return -EINVAL;
	}
	if (disp_config_hostport(c->redis_address, 0, c->redis_host, sizeof c->redis_host,
	                         &c->redis_port) < 0) {
		snprintf(err, errlen, "%s: redis.address: expected host:port, got \"%s\"", path,
		         c->redis_address);
		return -EINVAL;
	}
	if (strcmp(c->broker_kind, "redis") != 0 && strcmp(c->broker_kind, "kafka") != 0) {
		snprintf(err, errlen,
		         "%s:%u: broker.kind: expected \"redis\" or \"kafka\", got \"%s\"", path,
		         conf_line_of(path, "broker", "kind"), c->broker_kind);
		return -EINVAL;
	}
	if (!key_valid(c->broker_stream) || !key_valid(c->broker_group)) {
		const char *k = key_valid(c->broker_stream) ? "group" : "stream";
		snprintf(err, errlen, "%s:%u: broker.%s: expected [A-Za-z0-9._:-]{1,249}", path,
		         conf_line_of(path, "broker", k), k);
		return -EINVAL;
	}
	if (c->kafka_brokers[0] == '\0') {
		snprintf(err, errlen, "%s: kafka.brokers: must not be empty", path);
		return -EINVAL;
	}
	if (!topic_valid(c->kafka_topic)) {
		snprintf(err, errlen, "%s: kafka.topic: expected [A-Za-z0-9._-]{1,249}", path);
		return -EINVAL;
	}
	if (!topic_valid(c->kafka_group)) {
		snprintf(err, errlen, "%s: kafka.group: expected [A-Za-z0-9._-]{1,249}", path);
		return -EINVAL;
	}
	if (c->max_connections_per_client > c->max_connections) {
		snprintf(err, errlen,
		         "%s: dispatcher.max_connections_per_client (%lld) above "
		         "dispatcher.max_connections (%lld)",
		         path, c->max_connections_per_client, c->max_connections);
		return -EINVAL;
	}
	if (c->secret_file[0] == '\0') {
		snprintf(err, errlen, "%s: dispatcher.secret_file: must not be empty", path);
		return -EINVAL;
	}
	return creds_check(&c->creds, path, strcmp(c->broker_kind, "kafka") == 0, err, errlen);
}
