/* joblimits.h - the limits a grading job asks for, checked against the node's ceilings.
 * A job comes from Kafka and is untrusted: whatever it carries, the run gets limits the
 * node's configuration allows. Every output value is a real limit, never "no ceiling":
 * a job's 0 means "the node's default", and anything above a ceiling is lowered to it. */
#pragma once
#include "gradeq.pb-c.h"

struct node_config;

/* The node's defaults and ceilings, from node_config (jl_from_config) or by hand. */
struct jl_ceilings {
	unsigned timeout_s, max_timeout_s; /* default and ceiling, both > 0 */
	unsigned memory_mb, max_memory_mb; /* default and ceiling, both > 0 */
	unsigned cpu_s;     /* rlimits.cpu: default and ceiling; 0 = the node sets none */
	unsigned nproc;     /* rlimits.nproc: default and ceiling (> 0) */
	unsigned output_kb; /* limits.output_kb: default and ceiling (> 0) */
};

/* What a run gets. timeout_s, memory_mb, nproc and output_kb are never 0; cpu_s is 0
 * only when the node itself sets no CPU limit and the job asked for none. */
struct jl_limits {
	unsigned timeout_s, memory_mb, cpu_s, nproc, output_kb;
};

void jl_from_config(const struct node_config *cfg, struct jl_ceilings *out);

/* Clamps want (NULL: the job carries no limits, all defaults) to c into *out.
 * When the node sets no CPU limit (c->cpu_s == 0), a job's cpu_s is still capped at
 * c->max_timeout_s: CPU seconds beyond the longest wall clock buy nothing. */
void jl_clamp(const struct jl_ceilings *c, const Gradeq__Limits *want, struct jl_limits *out);

/* jl_from_config + jl_clamp, for the node. */
void jl_for_job(const struct node_config *cfg, const Gradeq__Limits *want, struct jl_limits *out);
