/* test_joblimits.c - a job's limits never exceed the node's ceilings (grader-node/joblimits.c). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "joblimits.h"
#include "node_config.h"

static const struct jl_ceilings ceil_ = {
	.timeout_s = 60,
	.max_timeout_s = 600,
	.memory_mb = 1024,
	.max_memory_mb = 4096,
	.cpu_s = 300,
	.nproc = 512,
	.output_kb = 256,
};

static Gradeq__Limits lim(unsigned t, unsigned m, unsigned c, unsigned n, unsigned o)
{
	Gradeq__Limits l = GRADEQ__LIMITS__INIT;

	l.timeout_s = t;
	l.memory_mb = m;
	l.cpu_s = c;
	l.nproc = n;
	l.output_kb = o;
	return l;
}

static void test_zero_means_node_default(void **state)
{
	Gradeq__Limits l = lim(0, 0, 0, 0, 0);
	struct jl_limits out;

	jl_clamp(&ceil_, &l, &out);
	assert_int_equal(out.timeout_s, 60);
	assert_int_equal(out.memory_mb, 1024);
	assert_int_equal(out.cpu_s, 300);
	assert_int_equal(out.nproc, 512);
	assert_int_equal(out.output_kb, 256);
	/* no limits message at all: the same */
	jl_clamp(&ceil_, NULL, &out);
	assert_int_equal(out.timeout_s, 60);
	assert_int_equal(out.cpu_s, 300);
	assert_int_equal(out.nproc, 512);
	assert_int_equal(out.output_kb, 256);
}

static void test_within_ceilings_kept(void **state)
{
	Gradeq__Limits l = lim(30, 256, 20, 64, 16);
	struct jl_limits out;

	jl_clamp(&ceil_, &l, &out);
	assert_int_equal(out.timeout_s, 30);
	assert_int_equal(out.memory_mb, 256);
	assert_int_equal(out.cpu_s, 20);
	assert_int_equal(out.nproc, 64);
	assert_int_equal(out.output_kb, 16);
}

/* The attack: a job produced straight to the topic with every limit at 2^32-1. */
static void test_hostile_values_clamped(void **state)
{
	Gradeq__Limits l = lim(UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX);
	struct jl_limits out;

	jl_clamp(&ceil_, &l, &out);
	assert_int_equal(out.timeout_s, 600);
	assert_int_equal(out.memory_mb, 4096);
	assert_int_equal(out.cpu_s, 300);
	assert_int_equal(out.nproc, 512);
	assert_int_equal(out.output_kb, 256);
}

static void test_each_limit_alone(void **state)
{
	struct jl_limits out;
	Gradeq__Limits l;

	l = lim(0, 0, 301, 0, 0);
	jl_clamp(&ceil_, &l, &out);
	assert_int_equal(out.cpu_s, 300);
	l = lim(0, 0, 0, 513, 0);
	jl_clamp(&ceil_, &l, &out);
	assert_int_equal(out.nproc, 512);
	l = lim(0, 0, 0, 0, 257);
	jl_clamp(&ceil_, &l, &out);
	assert_int_equal(out.output_kb, 256);
	l = lim(601, 0, 0, 0, 0);
	jl_clamp(&ceil_, &l, &out);
	assert_int_equal(out.timeout_s, 600);
	l = lim(0, 4097, 0, 0, 0);
	jl_clamp(&ceil_, &l, &out);
	assert_int_equal(out.memory_mb, 4096);
}

/* rlimits.cpu = 0 on the node: no CPU limit by default, but a job's value is still
 * bounded (by the longest wall clock), never passed through as "anything". */
static void test_node_without_cpu_limit(void **state)
{
	struct jl_ceilings c = ceil_;
	struct jl_limits out;
	Gradeq__Limits l = lim(0, 0, UINT32_MAX, 0, 0);

	c.cpu_s = 0;
	jl_clamp(&c, &l, &out);
	assert_int_equal(out.cpu_s, 600);
	l = lim(0, 0, 0, 0, 0);
	jl_clamp(&c, &l, &out);
	assert_int_equal(out.cpu_s, 0);
	l = lim(0, 0, 5, 0, 0);
	jl_clamp(&c, &l, &out);
	assert_int_equal(out.cpu_s, 5);
}

/* A ceiling of 0 never turns into "no ceiling" (the runner reads 0 as unlimited). */
static void test_zero_ceiling_is_not_unlimited(void **state)
{
	struct jl_ceilings c = { 0 };
	Gradeq__Limits l = lim(UINT32_MAX, UINT32_MAX, 0, UINT32_MAX, UINT32_MAX);
	struct jl_limits out;

	jl_clamp(&c, &l, &out);
	assert_int_equal(out.timeout_s, 1);
	assert_int_equal(out.memory_mb, 1);
	assert_int_equal(out.nproc, 1);
	assert_int_equal(out.output_kb, 1);
}

static void test_from_config(void **state)
{
	struct node_config cfg;
	struct jl_limits out;
	Gradeq__Limits l = lim(UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX);

	node_config_defaults(&cfg);
	cfg.rl_cpu = 120;
	cfg.rl_nproc = 100;
	cfg.output_kb = 64;
	cfg.max_timeout_s = 300;
	cfg.max_memory_mb = 2048;
	jl_for_job(&cfg, &l, &out);
	assert_int_equal(out.timeout_s, 300);
	assert_int_equal(out.memory_mb, 2048);
	assert_int_equal(out.cpu_s, 120);
	assert_int_equal(out.nproc, 100);
	assert_int_equal(out.output_kb, 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zero_means_node_default),
		cmocka_unit_test(test_within_ceilings_kept),
		cmocka_unit_test(test_hostile_values_clamped),
		cmocka_unit_test(test_each_limit_alone),
		cmocka_unit_test(test_node_without_cpu_limit),
		cmocka_unit_test(test_zero_ceiling_is_not_unlimited),
		cmocka_unit_test(test_from_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
