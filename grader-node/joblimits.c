/* joblimits.c - a job's limits clamped to the node's ceilings: see joblimits.h. */
#include "joblimits.h"

#include <limits.h>

#include "node_config.h"

static unsigned to_u(long long v)
{
	if (v < 0)
		return 0;
	return v > UINT_MAX ? UINT_MAX : (unsigned)v;
}

void jl_from_config(const struct node_config *cfg, struct jl_ceilings *out)
{
	*out = (struct jl_ceilings){
		.timeout_s = to_u(cfg->timeout_s),
		.max_timeout_s = to_u(cfg->max_timeout_s),
		.memory_mb = to_u(cfg->memory_mb),
		.max_memory_mb = to_u(cfg->max_memory_mb),
		.cpu_s = to_u(cfg->rl_cpu),
		.nproc = to_u(cfg->rl_nproc),
		.output_kb = to_u(cfg->output_kb),
	};
}

/* want 0: dflt; then at most ceiling; a ceiling of 0 is treated as 1 (never unlimited). */
static unsigned clamp(unsigned want, unsigned dflt, unsigned ceiling)
{
	unsigned v = want ? want : dflt;

	if (ceiling == 0)
		ceiling = 1;
	if (v > ceiling)
		v = ceiling;
	return v ? v : 1;
}

void jl_clamp(const struct jl_ceilings *c, const Gradeq__Limits *want, struct jl_limits *out)
{
	unsigned wt = want ? want->timeout_s : 0, wm = want ? want->memory_mb : 0;
	unsigned wc = want ? want->cpu_s : 0, wn = want ? want->nproc : 0;
	unsigned wo = want ? want->output_kb : 0;
	unsigned max_t = c->max_timeout_s ? c->max_timeout_s : 1;

	out->timeout_s = clamp(wt, c->timeout_s, max_t);
	out->memory_mb = clamp(wm, c->memory_mb, c->max_memory_mb);
	out->nproc = clamp(wn, c->nproc, c->nproc);
	out->output_kb = clamp(wo, c->output_kb, c->output_kb);
	if (c->cpu_s)
		out->cpu_s = clamp(wc, c->cpu_s, c->cpu_s);
	else
		out->cpu_s = wc ? clamp(wc, max_t, max_t) : 0;
}

void jl_for_job(const struct node_config *cfg, const Gradeq__Limits *want, struct jl_limits *out)
{
	struct jl_ceilings c;

	jl_from_config(cfg, &c);
	jl_clamp(&c, want, out);
}
