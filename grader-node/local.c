/* local.c - gradeq-grade-local: grades ONE submission against an exercise directory with
 * the node's runner (same sandbox, limits and scoring; localgrade.h), without a broker or
 * Redis. For
 * instructors checking an exercise, for the sandbox tests and for benchmarks.
 * Exit status: 0 a verdict was reached (whatever it is), 1 infrastructure error,
 * 2 usage or input error. */
#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgscope.h"
#include "localgrade.h"
#include "records.h"
#include "runner.h"
#include "score.h"
#include "util.h"

#ifndef GQ_RUNTIME_SOURCE
#define GQ_RUNTIME_SOURCE "/usr/local/share/gradeq/runtime"
#endif
#ifndef GQ_JAIL_BUILT
#define GQ_JAIL_BUILT "/usr/local/lib/libgradeq-jail.so"
#endif

static const char usage[] =
	"usage: gradeq-grade-local [options] EXERCISE_DIR SUBMISSION.py\n"
	"  --runner MODE       warm (default: a zygote forks the job's processes), cold (the\n"
	"                      same from a fresh interpreter) or bwrap (the single-process\n"
	"                      harness in bubblewrap)\n"
	"  --no-sandbox        bwrap runner without bubblewrap (rlimits, cgroup, uid stay)\n"
	"  --json              machine-readable result on stdout\n"
	"  --timeout S         wall clock limit (default: exercise.toml, else 60)\n"
	"  --memory MB         cgroup memory limit (default: exercise.toml, else 1024)\n"
	"  --max-points X      scale the score to X points (default: exercise.toml)\n"
	"  --safety-check      run the static safety check\n"
	"  --output-kb N       captured output kept (default 256)\n"
	"  --nproc N           processes of the job (default 512)\n"
	"  --show-output       print the captured output tail (text mode)\n"
	"  --venv DIR          grading venv (default /opt/gradeq/venv)\n"
	"  --runtime DIR       the grading runtime (default " GQ_RUNTIME_SOURCE ")\n"
	"  --jail-lib FILE     libgradeq-jail.so (default " GQ_JAIL_BUILT ")\n"
	"  --bwrap FILE        bubblewrap binary (default /usr/bin/bwrap)\n"
	"  --uid BASE          sandbox base uid (default 60000), --slot N adds N\n"
	"  --work-root DIR     where the job directory is made (default: a fresh /tmp dir);\n"
	"                      job directories an earlier run left in it are removed\n";

struct opts {
	bool no_sandbox, json, safety, show_output;
	long long timeout_s, memory_mb, output_kb, nproc, uid, slot;
	double max_points;
	bool have_max_points;
	const char *venv, *runtime, *jail_lib, *bwrap, *work_root, *exercise, *submission;
	enum runner_mode mode;
};

struct result {
	struct event_base *base;
	const struct opts *o;
	int64_t t_start;
	int exit_code;
	bool done;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct {
		const char *name;
		long long *dst;
		long long max;
	} nums[] = { { "--timeout", NULL, 86400 },     { "--memory", NULL, 1 << 20 },
		     { "--output-kb", NULL, 1 << 20 }, { "--nproc", NULL, 1 << 20 },
		     { "--uid", NULL, 1u << 30 },      { "--slot", NULL, 65535 } };
	long long *dsts[] = { &o->timeout_s, &o->memory_mb, &o->output_kb,
		              &o->nproc,     &o->uid,       &o->slot };
	int npos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		bool matched = false;
		for (size_t k = 0; k < sizeof nums / sizeof *nums; k++) {
			if (strcmp(a, nums[k].name) != 0)
				continue;
			if (!next || util_parse_ll(next, 0, nums[k].max, dsts[k]) < 0) {
				fprintf(stderr,
				        "gradeq-grade-local: %s needs a number in [0, %lld]\n", a,
				        nums[k].max);
				return -1;
			}
			i++;
			matched = true;
		}
		if (matched)
			continue;
		if (strcmp(a, "--no-sandbox") == 0) {
			o->no_sandbox = true;
		} else if (strcmp(a, "--json") == 0) {
			o->json = true;
		} else if (strcmp(a, "--safety-check") == 0) {
			o->safety = true;
		} else if (strcmp(a, "--show-output") == 0) {
			o->show_output = true;
		} else if (strcmp(a, "--max-points") == 0) {
			char *end;
			errno = 0;
			o->max_points = next ? strtod(next, &end) : -1;
			if (!next || errno || *end || end == next || !(o->max_points >= 0) ||
			    o->max_points > 1e9) {
				fprintf(stderr,
				        "gradeq-grade-local: --max-points needs a number >= 0\n");
				return -1;
			}
			o->have_max_points = true;
			i++;
		} else if (strcmp(a, "--runner") == 0) {
			if (!next || (strcmp(next, "warm") && strcmp(next, "cold") &&
			              strcmp(next, "bwrap"))) {
				fprintf(stderr, "gradeq-grade-local: --runner warm|cold|bwrap\n");
				return -1;
			}
			o->mode = next[0] == 'w'   ? RUNNER_WARM
			          : next[0] == 'c' ? RUNNER_COLD
			                           : RUNNER_BWRAP;
			i++;
		} else if (strcmp(a, "--venv") == 0 || strcmp(a, "--runtime") == 0 ||
		           strcmp(a, "--jail-lib") == 0 || strcmp(a, "--bwrap") == 0 ||
		           strcmp(a, "--work-root") == 0) {
			if (!next) {
				fprintf(stderr, "gradeq-grade-local: %s needs a value\n", a);
				return -1;
			}
			const char **dst = a[2] == 'v'   ? &o->venv
			                   : a[2] == 'r' ? &o->runtime
			                   : a[2] == 'j' ? &o->jail_lib
			                   : a[2] == 'b' ? &o->bwrap
			                                 : &o->work_root;
			*dst = next;
			i++;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			exit(0);
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "gradeq-grade-local: unknown option %s\n", a);
			return -1;
		} else if (npos == 0) {
			o->exercise = a;
			npos++;
		} else if (npos == 1) {
			o->submission = a;
			npos++;
		} else {
			fprintf(stderr, "gradeq-grade-local: too many arguments\n");
			return -1;
		}
	}
	if (npos != 2) {
		fputs(usage, stderr);
		return -1;
	}
	return 0;
}

static int64_t span(int64_t a, int64_t b)
{
	return a > 0 && b > 0 && b >= a ? b - a : -1;
}

static void print_text(const struct result *res, const struct run_outcome *oc)
{
	lg_write_feedback(stdout, oc);
	printf("timing: total %lld ms | stage %lld | sandbox start %lld | python+imports %lld | "
	       "tests %lld | teardown %lld\n",
	       (long long)span(res->t_start, oc->t_end), (long long)span(res->t_start, oc->t_spawn),
	       (long long)span(oc->t_spawn, oc->t_harness),
	       (long long)span(oc->t_harness, oc->t_imported),
	       (long long)span(oc->t_imported, oc->t_tests_done),
	       (long long)span(oc->t_tests_done, oc->t_end));
	if (res->o->show_output && oc->output_tail_len) {
		printf("---- output (last %zu bytes) ----\n", oc->output_tail_len);
		fwrite(oc->output_tail, 1, oc->output_tail_len, stdout);
		if (oc->output_tail[oc->output_tail_len - 1] != '\n')
			putchar('\n');
	}
}

static json_t *ms_or_null(int64_t v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

static void print_json(const struct result *res, const struct run_outcome *oc)
{
	json_t *j = json_object();
	json_object_set_new(j, "kind", json_string(oc->kind == RUN_VERDICT ? "verdict" : "error"));
	json_object_set_new(j, "verdict", oc->verdict ? json_string(oc->verdict) : json_null());
	json_object_set_new(j, "error", json_string(oc->error));
	json_object_set_new(j, "score", json_real(oc->score));
	json_object_set_new(j, "max", json_real(oc->max_score));
	json_t *tests = json_array();
	for (size_t i = 0; i < oc->ntests; i++) {
		const struct run_test *t = &oc->tests[i];
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(t->name));
		json_object_set_new(o, "passed", json_boolean(t->passed));
		json_object_set_new(o, "points", json_real(t->points));
		json_object_set_new(o, "max_points", json_real(t->max_points));
		json_object_set_new(o, "message", json_string(t->message));
		json_array_append_new(tests, o);
	}
	json_object_set_new(j, "tests", tests);
	json_t *tm = json_object();
	json_object_set_new(tm, "total", ms_or_null(span(res->t_start, oc->t_end)));
	json_object_set_new(tm, "stage", ms_or_null(span(res->t_start, oc->t_spawn)));
	json_object_set_new(tm, "sandbox_start", ms_or_null(span(oc->t_spawn, oc->t_harness)));
	json_object_set_new(tm, "imports", ms_or_null(span(oc->t_harness, oc->t_imported)));
	json_object_set_new(tm, "tests", ms_or_null(span(oc->t_imported, oc->t_tests_done)));
	json_object_set_new(tm, "teardown", ms_or_null(span(oc->t_tests_done, oc->t_end)));
	json_object_set_new(j, "timing_ms", tm);
	json_object_set_new(j, "cpu_ms", ms_or_null(oc->cpu_ms));
	json_object_set_new(j, "cpu_tests_ms", ms_or_null(oc->cpu_tests_ms));
	json_object_set_new(j, "cpu_student_ms", ms_or_null(oc->cpu_student_ms));
	json_object_set_new(j, "isolation", json_string(oc->isolation ? oc->isolation : ""));
	json_object_set_new(j, "runner", json_string(oc->runner ? oc->runner : ""));
	char *tail = rec_clean_string(oc->output_tail, oc->output_tail_len);
	json_object_set_new(j, "output_tail", json_string(tail ? tail : ""));
	free(tail);
	char *s = json_dumps(j, JSON_COMPACT);
	if (s)
		puts(s);
	free(s);
	json_decref(j);
}

static void on_done(struct run *r, const struct run_outcome *oc, void *arg)
{
	struct result *res = arg;
	if (res->o->json)
		print_json(res, oc);
	else
		print_text(res, oc);
	fflush(stdout);
	res->exit_code = oc->kind == RUN_VERDICT ? 0 : 1;
	res->done = true;
	event_base_loopbreak(res->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	runner_cancel(arg); /* the run ends through the loop with "cancelled" */
}

int main(int argc, char **argv)
{
	struct opts o = { .uid = 60000,
		          .nproc = 512,
		          .output_kb = 256,
		          .venv = "/opt/gradeq/venv",
		          .runtime = GQ_RUNTIME_SOURCE,
		          .jail_lib = GQ_JAIL_BUILT,
		          .bwrap = "/usr/bin/bwrap" };
	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	char err[512];
	/* cgroup v2: job cgroups need a cgroup that holds this process alone (cgscope.h) */
	if (cgscope_reexec(err, sizeof err) < 0) {
		fprintf(stderr, "gradeq-grade-local: %s\n", err);
		return 2;
	}

	/* exercise.toml through the bundle code, exactly as a published exercise */
	struct exercise_meta meta = { 0 };
	if (lg_exercise_load(o.exercise, &meta, NULL, err, sizeof err) < 0) {
		fprintf(stderr, "gradeq-grade-local: %s: %s\n", o.exercise, err);
		return 2;
	}

	char *src = NULL;
	size_t src_len = 0;
	int rc = util_read_file(o.submission, 16u * 1024 * 1024, &src, &src_len);
	if (rc < 0) {
		fprintf(stderr, "gradeq-grade-local: %s: %s\n", o.submission, strerror(-rc));
		return 2;
	}

	char tmpl[] = "/tmp/gradeq-local.XXXXXX";
	const char *work_root = o.work_root;
	bool own_root = false;
	if (!work_root) {
		if (!mkdtemp(tmpl)) {
			fprintf(stderr, "gradeq-grade-local: mkdtemp: %s\n", strerror(errno));
			free(src);
			return 1;
		}
		chmod(tmpl, 0711);
		work_root = tmpl;
		own_root = true;
	}

	char runtime[PATH_MAX], jail[PATH_MAX];
	if (!realpath(o.runtime, runtime))
		snprintf(runtime, sizeof runtime, "%s", o.runtime);
	if (!realpath(o.jail_lib, jail))
		snprintf(jail, sizeof jail, "%s", o.jail_lib);
	struct runner_config cfg;
	lg_runner_defaults(&cfg);
	cfg.mode = o.no_sandbox ? RUNNER_BWRAP : o.mode;
	cfg.use_bubblewrap = !o.no_sandbox;
	cfg.bwrap = o.bwrap;
	cfg.venv = o.venv;
	cfg.runtime = runtime;
	cfg.jail_lib = jail;
	cfg.work_root = work_root;
	/* one run: one zygote (slot 0), its uids base + slot */
	cfg.base_uid = (unsigned)(o.uid + o.slot);
	cfg.tests_uid = (unsigned)(o.uid + o.slot + 50);
	cfg.nproc = (unsigned)o.nproc;
	cfg.output_kb = (unsigned)o.output_kb;
	/* one submission checked by hand: its options are not capped by a node's ceilings */
	cfg.max_timeout_s = 86400;
	cfg.max_memory_mb = 1 << 20;
	struct event_base *base = event_base_new();
	struct runner *rn = base ? runner_new(base, &cfg, err, sizeof err) : NULL;
	int exit_code = 1;
	if (!rn) {
		fprintf(stderr, "gradeq-grade-local: %s\n", base ? err : "event_base_new failed");
		goto out;
	}
	char name[64];
	snprintf(name, sizeof name, "local-%d", (int)getpid());
	struct run_spec spec;
	lg_run_spec(&spec, &meta, name, 0, o.exercise, src, src_len);
	if (o.have_max_points)
		spec.max_points = o.max_points;
	if (o.timeout_s)
		spec.timeout_s = (unsigned)o.timeout_s;
	if (o.memory_mb)
		spec.memory_mb = (unsigned)o.memory_mb;
	spec.safety_check = o.safety || meta.safety_check;
	struct result res = { .base = base, .o = &o, .exit_code = 1 };
	struct run *run = NULL;
	res.t_start = util_mono_ms();
	if (runner_start(rn, &spec, on_done, &res, &run, err, sizeof err) < 0) {
		fprintf(stderr, "gradeq-grade-local: %s\n", err);
		goto out;
	}
	struct event *sigint = evsignal_new(base, SIGINT, on_signal, run);
	struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, run);
	if (sigint)
		event_add(sigint, NULL);
	if (sigterm)
		event_add(sigterm, NULL);
	while (!res.done && event_base_dispatch(base) == 0)
		;
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	exit_code = res.exit_code;
out:
	runner_free(rn);
	if (base)
		event_base_free(base);
	if (own_root)
		rmdir(tmpl);
	free(src);
	return exit_code;
}
