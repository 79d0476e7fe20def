/* localgrade.c - see localgrade.h. */
#include "localgrade.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "score.h"
#include "workdir.h"

#ifndef GQ_RUNTIME_SOURCE
#define GQ_RUNTIME_SOURCE "/usr/local/share/gradeq/runtime"
#endif
#ifndef GQ_JAIL_BUILT
#define GQ_JAIL_BUILT "/usr/local/lib/libgradeq-jail.so"
#endif

int lg_exercise_load(const char *dir, struct exercise_meta *meta, const char *extract_to, char *err,
                     size_t errlen)
{
	char *packed = NULL;
	size_t len = 0;
	struct bundle *b = NULL;
	int r = bundle_pack_dir(dir, &packed, &len, err, errlen);
	if (r == 0 && !(b = bundle_parse(packed, len, err, errlen)))
		r = -EINVAL;
	if (r == 0)
		r = bundle_meta(b, meta, err, errlen);
	if (r == 0 && extract_to)
		r = bundle_extract(b, extract_to, err, errlen);
	bundle_free(b);
	free(packed);
	return r < 0 ? r : 0;
}

/* mkdtemp of /tmp/gradeq-TAG[SUFFIX].XXXXXX into out, then mode; out is "" on failure */
static int make_dir(char *out, size_t len, const char *tag, const char *suffix, mode_t mode,
                    char *err, size_t errlen)
{
	int n = snprintf(out, len, "/tmp/gradeq-%s%s.XXXXXX", tag, suffix);
	if (n < 0 || (size_t)n >= len) {
		out[0] = '\0';
		snprintf(err, errlen, "temporary directory name too long");
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(out)) {
		int e = errno;
		snprintf(err, errlen, "mkdtemp %s: %s", out, strerror(e));
		out[0] = '\0';
		return -e;
	}
	chmod(out, mode);
	return 0;
}

int lg_dirs_make(struct lg_dirs *d, const char *tag, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	int r = make_dir(d->bundle, sizeof d->bundle, tag, "-exercise", 0755, err, errlen);
	if (r == 0 && (r = make_dir(d->work, sizeof d->work, tag, "", 0711, err, errlen)) < 0)
		lg_dirs_remove(d);
	return r;
}

void lg_dirs_remove(struct lg_dirs *d)
{
	if (d->bundle[0])
		wd_remove(d->bundle);
	if (d->work[0])
		rmdir(d->work);
	memset(d, 0, sizeof *d);
}

void lg_runner_defaults(struct runner_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->mode = RUNNER_WARM;
	cfg->slots = 1;
	cfg->runtime = GQ_RUNTIME_SOURCE;
	cfg->jail_lib = GQ_JAIL_BUILT;
	cfg->use_bubblewrap = true;
	cfg->bwrap = "/usr/bin/bwrap";
	cfg->venv = "/opt/gradeq/venv";
	cfg->base_uid = 60000;
	cfg->tests_uid = 60050;
	cfg->cpu_s = 600;
	cfg->nproc = 512;
	cfg->nofile = 256;
	cfg->as_mb = 4096;
	cfg->fsize_mb = 64;
	cfg->stack_mb = 64;
	cfg->timeout_s = 60;
	cfg->max_timeout_s = 600;
	cfg->memory_mb = 1024;
	cfg->max_memory_mb = 4096;
	cfg->output_kb = 256;
	cfg->tmp_mb = 64;
	cfg->cgroup_name = "gradeq";
}

void lg_run_spec(struct run_spec *spec, const struct exercise_meta *meta, const char *name,
                 int slot, const char *bundle_dir, const char *source, size_t source_len)
{
	memset(spec, 0, sizeof *spec);
	spec->name = name;
	spec->slot = slot;
	spec->bundle_dir = bundle_dir;
	spec->source = source;
	spec->source_len = source_len;
	spec->max_points = meta->max_points;
	spec->timeout_s = (unsigned)meta->timeout_s;
	spec->memory_mb = (unsigned)meta->memory_mb;
	spec->safety_check = meta->safety_check;
	spec->in_process = meta->in_process;
	spec->call_timeout_s = (unsigned)meta->call_timeout_s;
}

void lg_write_feedback(FILE *f, const struct run_outcome *o)
{
	char s[32], m[32];
	if (o->kind == RUN_INFRA_ERROR) {
		fprintf(f, "error: %s\n", o->error);
		return;
	}
	fprintf(f, "verdict: %s\n", o->verdict);
	fprintf(f, "score: %s/%s\n", score_format(o->score, s, sizeof s),
	        score_format(o->max_score, m, sizeof m));
	for (size_t i = 0; i < o->ntests; i++) {
		const struct run_test *t = &o->tests[i];
		fprintf(f, "  %s %s/%s  %s%s%s\n", t->passed ? "PASS" : "FAIL",
		        score_format(t->points, s, sizeof s),
		        score_format(t->max_points, m, sizeof m), t->name ? t->name : "",
		        t->message && t->message[0] ? "  " : "", t->message ? t->message : "");
	}
	if (o->error[0])
		fprintf(f, "detail: %s\n", o->error);
}
