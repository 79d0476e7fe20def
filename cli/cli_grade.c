/* cli_grade.c - `gradeq grade EXERCISE_DIR SUBMISSIONS_DIR`: grades a folder of notebooks
 * on this machine with no server at all. Every SUBMISSIONS_DIR/<student>.py runs through
 * the node's runner (localgrade.h: the exercise goes through the bundle code as when it
 * is published, the same sandbox, limits and scoring), --jobs at once on one event loop;
 * a progress bar with ETA on a terminal; then the scores table, the summary of verdicts,
 * one feedback file per student (--out DIR/<student>.txt) and, when asked, a CSV and a
 * JSON file. Exit 0 when every submission got a verdict, 1 when one could not be graded
 * (an infrastructure error, an unreadable file, interrupted), 2 on a usage error. */
#include <dirent.h>
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

#include "cli.h"
#include "cli_progress.h"
#include "cgscope.h"
#include "localgrade.h"
#include "names.h"
#include "score.h"
#include "util.h"
#include "workdir.h"

#define GRADE_MAX_FILES 100000
#define GRADE_SOURCE_MAX (16u * 1024 * 1024)
#define GRADE_TICK_MS 100

static const char grade_help[] =
	"usage: gradeq grade [OPTIONS] EXERCISE_DIR SUBMISSIONS_DIR\n"
	"Grades every SUBMISSIONS_DIR/<student>.py against the exercise in EXERCISE_DIR on\n"
	"this machine, with the runner and sandbox of a grader node; no server is needed.\n"
	"Needs root, as a node does (each run gets its own uid, cgroup and tmpfs).\n"
	"  --jobs N       gradings at once (default: the number of cores)\n"
	"  --out DIR      per-student feedback files DIR/<student>.txt (default: feedback)\n"
	"  --csv FILE     the scores as CSV: student,score,max,verdict\n"
	"  --json FILE    every result with its per-test feedback, as JSON\n"
	"  --venv DIR     grading venv (default /opt/gradeq/venv)\n"
	"  --runner MODE  warm (default), cold or bwrap, as a node's [runner] mode\n"
	"  --runtime DIR  the grading runtime (default: the installed one)\n"
	"Exit status: 0 every submission graded, 1 some could not be, 2 usage error.\n";

struct item {
	char student[GQ_NAME_MAX + 1];
	char *path;
	bool finished, graded;
	const char *verdict; /* static (runner) */
	double score, max;
	char error[300];
	json_t *j; /* the result with its tests, for --json */
};

struct grader;

struct slot {
	struct grader *g;
	int idx;
	size_t item;
	struct run *run;
};

struct grader {
	struct event_base *base;
	struct runner *rn;
	struct exercise_meta meta;
	const char *bundle_dir, *out_dir;
	struct item *items;
	size_t n, next, started, finished, graded, failed;
	struct slot *slots;
	unsigned jobs;
	bool stopping;
	struct cli_progress prog;
	int64_t t0;
};

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->student, ((const struct item *)b)->student);
}

/* The *.py files of dir whose stem is a valid student name; others are listed on stderr
 * and make the exit status 1 (they are not graded). */
static int list_submissions(const char *dir, struct item **out, size_t *n, size_t *skipped)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	size_t cap = 64, k = 0;
	struct item *items = calloc(cap, sizeof *items);
	struct dirent *de;
	int rc = items ? 0 : -ENOMEM;
	while (rc == 0 && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len < 4 || strcmp(de->d_name + len - 3, ".py") != 0 || de->d_name[0] == '.')
			continue;
		char stem[GQ_NAME_MAX + 1];
		if (len - 3 > GQ_NAME_MAX || !name_valid_n(de->d_name, len - 3)) {
			fprintf(stderr, "gradeq: grade: %s: not a valid student name; skipped\n",
			        de->d_name);
			(*skipped)++;
			continue;
		}
		memcpy(stem, de->d_name, len - 3);
		stem[len - 3] = '\0';
		if (k == GRADE_MAX_FILES) {
			rc = -EFBIG;
			break;
		}
		if (k == cap) {
			struct item *bigger = realloc(items, 2 * cap * sizeof *items);
			if (!bigger) {
				rc = -ENOMEM;
				break;
			}
			memset(bigger + cap, 0, cap * sizeof *items);
			items = bigger;
			cap *= 2;
		}
		snprintf(items[k].student, sizeof items[k].student, "%s", stem);
		if (asprintf(&items[k].path, "%s/%s", dir, de->d_name) < 0) {
			items[k].path = NULL;
			rc = -ENOMEM;
			break;
		}
		k++;
	}
	closedir(d);
	if (rc < 0) {
		for (size_t i = 0; i < k; i++)
			free(items[i].path);
		free(items);
		return rc;
	}
	qsort(items, k, sizeof *items, cmp_item);
	*out = items;
	*n = k;
	return 0;
}

static void progress(struct grader *g, bool force)
{
	struct cli_progress_counts c = { .submitted = g->started,
		                         .graded = g->graded,
		                         .failed = g->failed };
	if (force)
		g->prog.last_ms = 0;
	cli_progress_update(&g->prog, &c, util_mono_ms());
}

static json_t *points(double v)
{
	return json_real(score_round2(v));
}

static void record(struct grader *g, struct item *it, const struct run_outcome *o)
{
	it->finished = true;
	g->finished++;
	if (o->kind == RUN_VERDICT) {
		it->graded = true;
		it->verdict = o->verdict;
		it->score = o->score;
		it->max = o->max_score;
		g->graded++;
	} else {
		snprintf(it->error, sizeof it->error, "%s", o->error);
		g->failed++;
	}
	json_t *tests = json_array();
	for (size_t i = 0; i < o->ntests && tests; i++) {
		const struct run_test *t = &o->tests[i];
		json_t *x = json_pack("{s:s?,s:b,s:o,s:o,s:s?}", "name", t->name, "passed",
		                      t->passed, "points", points(t->points), "max_points",
		                      points(t->max_points), "message", t->message);
		if (x)
			json_array_append_new(tests, x);
	}
	it->j = json_pack("{s:s,s:s,s:o,s:o,s:s,s:o}", "student", it->student, "verdict",
	                  it->graded ? it->verdict : "error", "score",
	                  it->graded ? points(it->score) : json_null(), "max",
	                  it->graded ? points(it->max) : json_null(), "error", it->error, "tests",
	                  tests ? tests : json_array());
	if (it->j) { /* how it was graded, and what it cost (bench/runtime_cost.py) */
		json_t *cost = json_pack("{s:s?,s:s?,s:I,s:I,s:I,s:I,s:I,s:I}", "runner", o->runner,
		                         "isolation", o->isolation, "cpu_ms", (json_int_t)o->cpu_ms,
		                         "cpu_tests_ms", (json_int_t)o->cpu_tests_ms,
		                         "cpu_student_ms", (json_int_t)o->cpu_student_ms,
		                         "start_ms", (json_int_t)(o->t_harness - o->t_spawn),
		                         "imports_ms", (json_int_t)(o->t_imported - o->t_harness),
		                         "tests_ms", (json_int_t)(o->t_tests_done - o->t_imported));
		if (cost)
			json_object_set_new(it->j, "cost", cost);
	}
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s.txt", g->out_dir, it->student);
	FILE *f = fopen(path, "w");
	if (f) {
		lg_write_feedback(f, o);
		if (fclose(f) != 0)
			f = NULL;
	}
	if (!f) {
		cli_progress_end(&g->prog);
		fprintf(stderr, "gradeq: grade: cannot write %s: %s\n", path, strerror(errno));
	}
}

static void fail_item(struct grader *g, struct item *it, const char *why)
{
	struct run_outcome o = { .kind = RUN_INFRA_ERROR };
	snprintf(o.error, sizeof o.error, "%s", why);
	record(g, it, &o);
}

static void on_run_done(struct run *r, const struct run_outcome *o, void *arg);

/* Starts the next submission on slot s; false when none is left (or stopping). */
static bool start_next(struct slot *s)
{
	struct grader *g = s->g;
	while (!g->stopping && g->next < g->n) {
		size_t i = g->next++;
		struct item *it = &g->items[i];
		char *src = NULL, err[300] = "";
		size_t len = 0;
		g->started++;
		int r = util_read_file(it->path, GRADE_SOURCE_MAX, &src, &len);
		if (r < 0) {
			snprintf(err, sizeof err, "cannot read %s: %s", it->path,
			         r == -EFBIG ? "file too large" : strerror(-r));
			fail_item(g, it, err);
			continue;
		}
		char name[64];
		snprintf(name, sizeof name, "grade-%d-%zu", (int)getpid(), i);
		struct run_spec spec;
		lg_run_spec(&spec, &g->meta, name, s->idx, g->bundle_dir, src, len);
		s->item = i;
		r = runner_start(g->rn, &spec, on_run_done, s, &s->run, err, sizeof err);
		free(src);
		if (r < 0) {
			s->run = NULL;
			char why[340];
			snprintf(why, sizeof why, "sandbox did not start: %s",
			         err[0] ? err : strerror(-r));
			fail_item(g, it, why);
			continue;
		}
		return true;
	}
	return false;
}

static void check_end(struct grader *g)
{
	for (unsigned k = 0; k < g->jobs; k++)
		if (g->slots[k].run)
			return;
	if (g->stopping || g->next >= g->n)
		event_base_loopbreak(g->base);
}

static void on_run_done(struct run *r, const struct run_outcome *o, void *arg)
{
	struct slot *s = arg;
	struct grader *g = s->g;
	s->run = NULL;
	record(g, &g->items[s->item], o);
	progress(g, false);
	start_next(s);
	check_end(g);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	progress(arg, false);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct grader *g = arg;
	if (g->stopping)
		return;
	g->stopping = true;
	cli_progress_end(&g->prog);
	fprintf(stderr, "gradeq: grade: interrupted; cancelling the running gradings\n");
	for (unsigned k = 0; k < g->jobs; k++)
		if (g->slots[k].run)
			runner_cancel(g->slots[k].run);
}

static int write_csv(const struct grader *g, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	if (!f)
		return -errno;
	fprintf(f, "student,score,max,verdict\n");
	for (size_t i = 0; i < g->n; i++) {
		const struct item *it = &g->items[i];
		char s[32] = "", m[32] = "";
		if (it->graded) {
			score_format(it->score, s, sizeof s);
			score_format(it->max, m, sizeof m);
		}
		fprintf(f, "%s,%s,%s,%s\n", it->student, s, m, it->graded ? it->verdict : "error");
	}
	if (f == stdout)
		return fflush(f) == 0 ? 0 : -errno;
	return fclose(f) == 0 ? 0 : -errno;
}

static int write_json(const struct grader *g, const char *path)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < g->n && arr; i++)
		if (g->items[i].j)
			json_array_append(arr, g->items[i].j);
	int rc = arr && json_dump_file(arr, path, JSON_INDENT(1) | JSON_REAL_PRECISION(15)) == 0
	                 ? 0
	                 : -EIO;
	json_decref(arr);
	return rc;
}

static void print_table(const struct grader *g, double secs)
{
	size_t w = strlen("student");
	for (size_t i = 0; i < g->n; i++)
		if (strlen(g->items[i].student) > w)
			w = strlen(g->items[i].student);
	printf("%-*s  %7s  %7s  %s\n", (int)w, "student", "score", "max", "verdict");
	for (size_t i = 0; i < g->n; i++) {
		const struct item *it = &g->items[i];
		char s[32] = "-", m[32] = "-";
		if (it->graded) {
			score_format(it->score, s, sizeof s);
			score_format(it->max, m, sizeof m);
		}
		printf("%-*s  %7s  %7s  %s%s%s\n", (int)w, it->student, s, m,
		       it->graded     ? it->verdict
		       : it->finished ? "error"
		                      : "not graded",
		       it->error[0] ? ": " : "", it->error);
	}
	/* the summary of verdicts, in the order the runner names them */
	static const char *const verdicts[] = { "ok",           "timeout", "memory",
		                                "output_limit", "crashed", "import_error",
		                                "rejected" };
	printf("\ngraded %zu of %zu in %.1f s (%.2f/s)", g->graded, g->n, secs,
	       secs > 0 ? (double)g->graded / secs : 0.0);
	const char *sep = ": ";
	for (size_t v = 0; v < sizeof verdicts / sizeof verdicts[0]; v++) {
		size_t c = 0;
		for (size_t i = 0; i < g->n; i++)
			if (g->items[i].graded && !strcmp(g->items[i].verdict, verdicts[v]))
				c++;
		if (c) {
			printf("%s%s %zu", sep, verdicts[v], c);
			sep = ", ";
		}
	}
	if (g->failed)
		printf("%serror %zu", sep, g->failed);
	if (g->n > g->finished)
		printf("%snot graded %zu", g->failed ? ", " : sep, g->n - g->finished);
	printf("\nfeedback: %s/<student>.txt\n", g->out_dir);
}

int cli_grade_main(int argc, char **argv)
{
	long long jobs = sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
	const char *out_dir = "feedback", *csv = NULL, *json = NULL;
	const char *venv = "/opt/gradeq/venv", *runtime = NULL, *runner = "warm";
	char err[512] = "";
	const struct cli_opt opts[] = {
		cli_opt_long("jobs", &jobs, 1, 50), /* uids base + 0..49, tests + 50 */
		cli_opt_str("out", &out_dir),
		cli_opt_str("csv", &csv),
		cli_opt_str("json", &json),
		cli_opt_str("venv", &venv),
		cli_opt_str("runtime", &runtime),
		cli_opt_str("runner", &runner),
		CLI_OPT_END,
	};
	int rc = cli_parse_opts(argc, argv, opts, err, sizeof err);
	if (rc == 0)
		rc = cli_expect_args(argc, argv, 2, "EXERCISE_DIR SUBMISSIONS_DIR", err,
		                     sizeof err);
	if ((rc = cli_start(rc, grade_help, NULL, err, sizeof err)) != CLI_RUN)
		return rc;
	const char *exdir = argv[optind], *subdir = argv[optind + 1];
	if (strcmp(runner, "warm") != 0 && strcmp(runner, "cold") != 0 &&
	    strcmp(runner, "bwrap") != 0) {
		cli_fail("grade: --runner must be warm, cold or bwrap");
		return CLI_EXIT_USAGE;
	}
	if (geteuid() != 0) {
		cli_fail(
			"grade: needs root, as a grader node does: each submission runs in a "
			"sandbox under its own uid, cgroup and tmpfs (try: sudo gradeq grade ...)");
		return CLI_EXIT_FAIL;
	}
	/* cgroup v2: job cgroups need a cgroup that holds this process alone (cgscope.h) */
	if (cgscope_reexec(err, sizeof err) < 0) {
		cli_fail("grade: %s", err);
		return CLI_EXIT_FAIL;
	}

	struct grader g = { .jobs = (unsigned)jobs, .out_dir = out_dir };
	size_t skipped = 0;
	int r = list_submissions(subdir, &g.items, &g.n, &skipped);
	if (r < 0) {
		cli_fail("grade: %s: %s", subdir, strerror(-r));
		return CLI_EXIT_FAIL;
	}
	if (g.n == 0) {
		cli_fail("grade: no <student>.py in %s", subdir);
		free(g.items);
		return CLI_EXIT_FAIL;
	}
	if (g.jobs > g.n)
		g.jobs = (unsigned)g.n;
	if ((r = util_mkdir_p(out_dir, 0755)) < 0) {
		cli_fail("grade: cannot create %s: %s", out_dir, strerror(-r));
		free(g.items);
		return CLI_EXIT_FAIL;
	}

	/* the exercise as a node has it: packed, parsed and extracted; the job directories
	 * go under a work root of their own */
	struct lg_dirs dirs = { 0 };
	int exit_code = CLI_EXIT_FAIL;
	if (lg_dirs_make(&dirs, "grade", err, sizeof err) < 0) {
		cli_fail("grade: %s", err);
		goto out;
	}
	if (lg_exercise_load(exdir, &g.meta, dirs.bundle, err, sizeof err) < 0) {
		cli_fail("grade: exercise: %s", err);
		goto out;
	}
	g.bundle_dir = dirs.bundle;
	char hpath[PATH_MAX], cgname[GQ_NAME_MAX + 1];
	if (runtime && !realpath(runtime, hpath))
		snprintf(hpath, sizeof hpath, "%s", runtime);
	snprintf(cgname, sizeof cgname, "gradeq-grade-%d", (int)getpid());
	struct runner_config rcfg;
	lg_runner_defaults(&rcfg);
	rcfg.venv = venv;
	if (runtime)
		rcfg.runtime = hpath;
	rcfg.mode = runner[0] == 'w' ? RUNNER_WARM : runner[0] == 'c' ? RUNNER_COLD : RUNNER_BWRAP;
	rcfg.slots = g.jobs; /* a zygote per job at once (warm) */
	rcfg.work_root = dirs.work;
	rcfg.cgroup_name = cgname;

	g.base = event_base_new();
	g.slots = calloc(g.jobs, sizeof *g.slots);
	if (!g.base || !g.slots) {
		cli_fail("grade: out of memory");
		goto out;
	}
	g.rn = runner_new(g.base, &rcfg, err, sizeof err);
	if (!g.rn) {
		cli_fail("grade: sandbox: %s", err);
		goto out;
	}
	struct event *tick = event_new(g.base, -1, EV_PERSIST, on_tick, &g);
	struct event *sint = evsignal_new(g.base, SIGINT, on_signal, &g);
	struct event *sterm = evsignal_new(g.base, SIGTERM, on_signal, &g);
	struct timeval tv = { 0, GRADE_TICK_MS * 1000 };
	if (!tick || !sint || !sterm || event_add(tick, &tv) < 0 || event_add(sint, NULL) < 0 ||
	    event_add(sterm, NULL) < 0) {
		cli_fail("grade: cannot set up the event loop");
		goto out_events;
	}
	g.t0 = util_mono_ms();
	cli_progress_init(&g.prog, stderr, isatty(STDERR_FILENO) == 1, true, g.n, g.t0);
	g.prog.prefix = "grade";
	g.prog.first = "started";
	bool any = false;
	for (unsigned k = 0; k < g.jobs; k++) {
		g.slots[k] = (struct slot){ .g = &g, .idx = (int)k };
		any |= start_next(&g.slots[k]);
	}
	progress(&g, true);
	if (any)
		event_base_dispatch(g.base);
	progress(&g, true);
	cli_progress_end(&g.prog);
	double secs = (double)(util_mono_ms() - g.t0) / 1000.0;

	print_table(&g, secs);
	exit_code = g.graded == g.n && skipped == 0 && !g.stopping ? 0 : CLI_EXIT_FAIL;
	if (csv && (r = write_csv(&g, csv)) < 0) {
		cli_fail("grade: cannot write %s: %s", csv, strerror(-r));
		exit_code = CLI_EXIT_FAIL;
	}
	if (json && write_json(&g, json) < 0) {
		cli_fail("grade: cannot write %s", json);
		exit_code = CLI_EXIT_FAIL;
	}
out_events:
	if (tick)
		event_free(tick);
	if (sint)
		event_free(sint);
	if (sterm)
		event_free(sterm);
out:
	runner_free(g.rn);
	if (g.base)
		event_base_free(g.base);
	lg_dirs_remove(&dirs);
	for (size_t i = 0; i < g.n; i++) {
		free(g.items[i].path);
		json_decref(g.items[i].j);
	}
	free(g.items);
	free(g.slots);
	return exit_code;
}
