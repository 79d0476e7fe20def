/* node_config.h - gradeq-node's configuration (docs/config.md, "gradeq-node"): defaults,
 * strict loading of the INI file (unknown keys, bad values and duplicates fail with
 * FILE:LINE), and the cross-checks between keys. */
#pragma once
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "creds.h"

struct node_config {
	/* [node] */
	char id[65];
	long long slots;
	char work_dir[PATH_MAX];
	char cache_dir[PATH_MAX];
	char venv[PATH_MAX];
	char runtime[PATH_MAX];  /* the grading runtime's sources (harness.py, zygote.py...) */
	char jail_lib[PATH_MAX]; /* libgradeq-jail.so, loaded by the zygotes */
	long long sandbox_uid;   /* student processes: sandbox_uid + slot */
	long long tests_uid;     /* tests processes: tests_uid + slot (default sandbox_uid+50) */
	char log_level[16];
	/* [broker] */
	char broker_kind[16];    /* "redis" (default) or "kafka" */
	char broker_stream[250]; /* redis: the jobs stream */
	char broker_group[250];  /* redis: the graders' consumer group */
	long long visibility_timeout_s, max_deliveries;
	/* [kafka] */
	char kafka_brokers[1024];
	char kafka_topic[250];
	char kafka_group[250];
	/* [redis] */
	char redis_address[300];
	char redis_host[256]; /* redis_address split */
	int redis_port;
	struct creds creds; /* redis.user, redis.password_file, kafka.sasl_* ... */
	/* [rlimits] */
	long long rl_cpu, rl_nproc, rl_nofile, rl_as, rl_fsize, rl_stack;
	/* [security] */
	bool use_bubblewrap;
	/* [runner] */
	char runner_mode[16]; /* warm | cold | bwrap */
	/* [limits] */
	long long timeout_s, max_timeout_s, memory_mb, max_memory_mb, output_kb, tmp_mb;
};

struct broker_auth;

/* The credentials for the job queue of broker.kind (Redis's or Kafka's); the strings
 * stay c's. */
void node_config_broker_auth(const struct node_config *c, struct broker_auth *out);
/* Fills in the documented defaults (node.id = host name; node.runtime and node.jail_lib =
 * the installed ones, or the source and build trees' when the binary runs from its build
 * directory). */
void node_config_defaults(struct node_config *c);
/* Loads path over c and checks it. Returns 0 or a negative errno with err
 * ("path:line: reason" or "path: reason"). */
int node_config_load(const char *path, struct node_config *c, char *err, size_t errlen);
/* Checks cross-key constraints and splits redis.address. Returns 0 or -EINVAL with err. */
int node_config_check(struct node_config *c, char *err, size_t errlen);
