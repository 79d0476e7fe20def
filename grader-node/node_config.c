/* node_config.c - see node_config.h. */
#include "node_config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "conf.h"
#include "log.h"
#include "names.h"
#include "util.h"

#ifndef GQ_RUNTIME_INSTALLED
#define GQ_RUNTIME_INSTALLED "/usr/local/share/gradeq/runtime"
#endif
#ifndef GQ_JAIL_INSTALLED
#define GQ_JAIL_INSTALLED "/usr/local/lib/gradeq/libgradeq-jail.so"
#endif

/* Where the runtime and the jail library are when nothing says otherwise: the source and
 * build trees if this binary runs from the build tree (GQ_BUILD_DIR), else where `cmake
 * --install` put them. */
static void default_paths(struct node_config *c)
{
	snprintf(c->runtime, sizeof c->runtime, "%s", GQ_RUNTIME_INSTALLED);
	snprintf(c->jail_lib, sizeof c->jail_lib, "%s", GQ_JAIL_INSTALLED);
#if defined(GQ_BUILD_DIR) && defined(GQ_RUNTIME_SOURCE) && defined(GQ_JAIL_BUILT)
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	size_t bl = strlen(GQ_BUILD_DIR);
	if (strncmp(exe, GQ_BUILD_DIR, bl) == 0 && exe[bl] == '/') {
		snprintf(c->runtime, sizeof c->runtime, "%s", GQ_RUNTIME_SOURCE);
		snprintf(c->jail_lib, sizeof c->jail_lib, "%s", GQ_JAIL_BUILT);
	}
#endif
}

void node_config_broker_auth(const struct node_config *c, struct broker_auth *out)
{
	broker_auth_from_creds(&c->creds, strcmp(c->broker_kind, "kafka") == 0, out);
}

void node_config_defaults(struct node_config *c)
{
	memset(c, 0, sizeof *c);
	char host[256] = "";
	if (gethostname(host, sizeof host - 1) != 0 || !name_valid(host))
		snprintf(host, sizeof host, "node");
	snprintf(c->id, sizeof c->id, "%.64s", host);
	c->slots = 2;
	snprintf(c->work_dir, sizeof c->work_dir, "/var/lib/gradeq/work");
	snprintf(c->cache_dir, sizeof c->cache_dir, "/var/lib/gradeq/cache");
	snprintf(c->venv, sizeof c->venv, "/opt/gradeq/venv");
	default_paths(c);
	c->sandbox_uid = 60000;
	c->tests_uid = 0; /* sandbox_uid + 50 */
	snprintf(c->runner_mode, sizeof c->runner_mode, "warm");
	snprintf(c->log_level, sizeof c->log_level, "info");
	snprintf(c->broker_kind, sizeof c->broker_kind, "redis");
	snprintf(c->broker_stream, sizeof c->broker_stream, "gq:jobs");
	snprintf(c->broker_group, sizeof c->broker_group, "gradeq-graders");
	c->visibility_timeout_s = 15;
	c->max_deliveries = 5;
	snprintf(c->kafka_brokers, sizeof c->kafka_brokers, "127.0.0.1:9092");
	snprintf(c->kafka_topic, sizeof c->kafka_topic, "gradeq.jobs");
	snprintf(c->kafka_group, sizeof c->kafka_group, "gradeq-graders");
	snprintf(c->redis_address, sizeof c->redis_address, "127.0.0.1:6379");
	creds_defaults(&c->creds);
	c->rl_cpu = 600;
	c->rl_nproc = 512;
	c->rl_nofile = 256;
	c->rl_as = 4096;
	c->rl_fsize = 64;
	c->rl_stack = 64;
	c->use_bubblewrap = true;
	c->timeout_s = 60;
	c->max_timeout_s = 600;
	c->memory_mb = 1024;
	c->max_memory_mb = 4096;
	c->output_kb = 256;
	c->tmp_mb = 64;
}

#define STR(sec, key, field)                                        \
	{                                                           \
		sec, key, CONF_STR, c->field, sizeof c->field, 0, 0 \
	}
#define INT(sec, key, field, lo, hi)                     \
	{                                                \
		sec, key, CONF_INT, &c->field, 0, lo, hi \
	}
#define BOOL(sec, key, field)                           \
	{                                               \
		sec, key, CONF_BOOL, &c->field, 0, 0, 0 \
	}

int node_config_load(const char *path, struct node_config *c, char *err, size_t errlen)
{
	const struct conf_key base[] = {
		STR("node", "id", id),
		INT("node", "slots", slots, 1, 256),
		STR("node", "work_dir", work_dir),
		STR("node", "cache_dir", cache_dir),
		STR("node", "venv", venv),
		STR("node", "runtime", runtime),
		STR("node", "jail_lib", jail_lib),
		INT("node", "sandbox_uid", sandbox_uid, 1000, 4000000000.0),
		INT("node", "tests_uid", tests_uid, 1000, 4000000000.0),
		STR("runner", "mode", runner_mode),
		STR("node", "log_level", log_level),
		STR("broker", "kind", broker_kind),
		STR("broker", "stream", broker_stream),
		STR("broker", "group", broker_group),
		INT("broker", "visibility_timeout_s", visibility_timeout_s, 2, 3600),
		INT("broker", "max_deliveries", max_deliveries, 1, 1000),
		STR("kafka", "brokers", kafka_brokers),
		STR("kafka", "topic", kafka_topic),
		STR("kafka", "group", kafka_group),
		STR("redis", "address", redis_address),
		INT("rlimits", "cpu", rl_cpu, 0, 86400),
		INT("rlimits", "nproc", rl_nproc, 1, 1000000),
		INT("rlimits", "nofile", rl_nofile, 16, 1048576),
		INT("rlimits", "as", rl_as, 0, 1048576),
		INT("rlimits", "fsize", rl_fsize, 1, 1048576),
		INT("rlimits", "stack", rl_stack, 1, 65536),
		BOOL("security", "use_bubblewrap", use_bubblewrap),
		INT("limits", "timeout_s", timeout_s, 1, 86400),
		INT("limits", "max_timeout_s", max_timeout_s, 1, 86400),
		INT("limits", "memory_mb", memory_mb, 16, 1048576),
		INT("limits", "max_memory_mb", max_memory_mb, 16, 1048576),
		INT("limits", "output_kb", output_kb, 1, 65536),
		INT("limits", "tmp_mb", tmp_mb, 1, 65536),
	};
	enum { NBASE = sizeof base / sizeof base[0] };
	struct conf_key keys[NBASE + CREDS_NKEYS];
	memcpy(keys, base, sizeof base);
	creds_keys(&c->creds, keys + NBASE);
	int r = conf_load_file(path, keys, sizeof keys / sizeof keys[0], err, errlen);
	if (r < 0)
		return r;
	if (strcmp(c->broker_kind, "redis") != 0 && strcmp(c->broker_kind, "kafka") != 0) {
		snprintf(err, errlen,
		         "%s:%u: broker.kind: expected \"redis\" or \"kafka\", got \"%s\"", path,
		         conf_line_of(path, "broker", "kind"), c->broker_kind);
		return -EINVAL;
	}
	char why[256];
	if (node_config_check(c, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -EINVAL;
	}
	return creds_check(&c->creds, path, strcmp(c->broker_kind, "kafka") == 0, err, errlen);
}

#undef STR
#undef INT
#undef BOOL

int node_config_check(struct node_config *c, char *err, size_t errlen)
{
	enum gq_log_level lvl;
	if (!name_valid(c->id)) {
		snprintf(err, errlen, "node.id \"%s\" is not a valid name ([A-Za-z0-9_.-]{1,64})",
		         c->id);
		return -EINVAL;
	}
	if (gq_log_level_parse(c->log_level, &lvl) < 0) {
		snprintf(err, errlen, "node.log_level must be debug, info, warn or error");
		return -EINVAL;
	}
	const char *dirs[][2] = { { "node.work_dir", c->work_dir },
		                  { "node.cache_dir", c->cache_dir },
		                  { "node.venv", c->venv },
		                  { "node.runtime", c->runtime },
		                  { "node.jail_lib", c->jail_lib } };
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if (dirs[i][1][0] != '/') {
			snprintf(err, errlen, "%s must be an absolute path", dirs[i][0]);
			return -EINVAL;
		}
	}
	if (strcmp(c->broker_kind, "redis") != 0 && strcmp(c->broker_kind, "kafka") != 0) {
		snprintf(err, errlen, "broker.kind must be \"redis\" or \"kafka\"");
		return -EINVAL;
	}
	if (!c->broker_stream[0] || !c->broker_group[0]) {
		snprintf(err, errlen, "broker.stream and broker.group must be set");
		return -EINVAL;
	}
	if (strcmp(c->runner_mode, "warm") != 0 && strcmp(c->runner_mode, "cold") != 0 &&
	    strcmp(c->runner_mode, "bwrap") != 0) {
		snprintf(err, errlen, "runner.mode must be warm, cold or bwrap, not \"%s\"",
		         c->runner_mode);
		return -EINVAL;
	}
	if (!c->tests_uid)
		c->tests_uid = c->sandbox_uid + 50;
	/* the two uid ranges [uid, uid + slots) must not meet: a student process must never
	 * share its uid with a tests process */
	if (c->tests_uid < c->sandbox_uid + c->slots && c->sandbox_uid < c->tests_uid + c->slots) {
		snprintf(err, errlen,
		         "node.tests_uid %lld..%lld overlaps node.sandbox_uid %lld..%lld (slots "
		         "%lld): "
		         "set node.tests_uid apart",
		         c->tests_uid, c->tests_uid + c->slots - 1, c->sandbox_uid,
		         c->sandbox_uid + c->slots - 1, c->slots);
		return -EINVAL;
	}
	if (!c->kafka_brokers[0] || !c->kafka_topic[0] || !c->kafka_group[0]) {
		snprintf(err, errlen, "kafka.brokers, kafka.topic and kafka.group must be set");
		return -EINVAL;
	}
	if (c->timeout_s > c->max_timeout_s) {
		snprintf(err, errlen, "limits.timeout_s (%lld) above limits.max_timeout_s (%lld)",
		         c->timeout_s, c->max_timeout_s);
		return -EINVAL;
	}
	if (c->memory_mb > c->max_memory_mb) {
		snprintf(err, errlen, "limits.memory_mb (%lld) above limits.max_memory_mb (%lld)",
		         c->memory_mb, c->max_memory_mb);
		return -EINVAL;
	}
	/* redis.address: host:port (the last ':' splits, so [::1]:6379 works too) */
	const char *colon = strrchr(c->redis_address, ':');
	long long port;
	if (!colon || colon == c->redis_address || util_parse_ll(colon + 1, 1, 65535, &port) < 0 ||
	    (size_t)(colon - c->redis_address) >= sizeof c->redis_host) {
		snprintf(err, errlen, "redis.address \"%s\" is not host:port", c->redis_address);
		return -EINVAL;
	}
	const char *h = c->redis_address;
	size_t hl = (size_t)(colon - h);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	memcpy(c->redis_host, h, hl);
	c->redis_host[hl] = '\0';
	c->redis_port = (int)port;
	return 0;
}
