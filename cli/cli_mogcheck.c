/* cli_mogcheck.c - `gradeq publish`'s check of a mograder source before it is sent.
 *
 * mograder's own `generate` refuses a source whose checks do not all pass; gradeq does the
 * same at publish: the exercise directory is packed and extracted as a node would (the
 * bundle code of localgrade.h), and one collect run of the node's runner (cold, the same
 * sandbox as `gradeq grade`) runs the whole source in the tests process
 * (mog_trusted.collect). Every check must pass; otherwise publish stops before anything
 * reaches the dispatcher, with the failing checks and their messages. Nodes check again
 * at their first collect of the bundle (a bundle published with --no-check, or by another
 * client), so an exercise that fails there ends its jobs in "error" with the same reason. */
#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgscope.h"
#include "cli.h"
#include "localgrade.h"
#include "workdir.h"

struct check_run {
	struct event_base *base;
	int rc;
	char why[300];
};

static void on_done(struct run *r, const struct run_outcome *o, void *arg)
{
	struct check_run *c = arg;
	(void)r;
	if (o->kind == RUN_INFRA_ERROR) {
		snprintf(c->why, sizeof c->why, "the sandbox failed: %s", o->error);
		c->rc = -EIO;
	} else if (strcmp(o->verdict, "ok") != 0 || !o->rec) {
		/* mog_trusted's message: "mograder source: check 'Q1: mean' fails ..." */
		snprintf(c->why, sizeof c->why, "%s", o->error[0] ? o->error : o->verdict);
		c->rc = -EINVAL;
	} else {
		c->rc = 0;
	}
	event_base_loopbreak(c->base);
}

int cli_mog_check(const char *dir, const char *venv, char *err, size_t errlen)
{
	struct lg_dirs dirs = { 0 };
	char cgname[64], e[512] = "";
	struct exercise_meta meta;
	struct runner *rn = NULL;
	struct run *run = NULL;
	struct check_run c = { .rc = -EIO };
	int rc = -EIO;

	if (geteuid() != 0) {
		snprintf(err, errlen,
		         "checking a mograder source runs it in the grading sandbox, which needs "
		         "root, as `gradeq grade` does (sudo gradeq publish ...; or --no-check: "
		         "the nodes then check it when they first grade it)");
		return -EPERM;
	}
	if (cgscope_reexec(e, sizeof e) < 0) {
		snprintf(err, errlen, "%s", e);
		return -EIO;
	}
	if (lg_dirs_make(&dirs, "publish-check", e, sizeof e) < 0) {
		snprintf(err, errlen, "%s", e);
		goto out;
	}
	if (lg_exercise_load(dir, &meta, dirs.bundle, e, sizeof e) < 0) {
		snprintf(err, errlen, "%s", e);
		rc = -EINVAL;
		goto out;
	}
	struct runner_config cfg;
	lg_runner_defaults(&cfg);
	if (venv)
		cfg.venv = venv;
	cfg.mode = RUNNER_COLD; /* one run: no zygote to warm */
	cfg.work_root = dirs.work;
	snprintf(cgname, sizeof cgname, "gradeq-publish-%d", (int)getpid());
	cfg.cgroup_name = cgname;
	c.base = event_base_new();
	if (!c.base) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rn = runner_new(c.base, &cfg, e, sizeof e);
	if (!rn) {
		snprintf(err, errlen, "sandbox: %s", e);
		goto out;
	}
	struct run_spec spec;
	lg_run_spec(&spec, &meta, "publish-check", 0, dirs.bundle, "", 0);
	spec.collect = true;
	if ((rc = runner_start(rn, &spec, on_done, &c, &run, e, sizeof e)) < 0) {
		snprintf(err, errlen, "sandbox did not start: %s", e[0] ? e : strerror(-rc));
		goto out;
	}
	event_base_dispatch(c.base);
	rc = c.rc;
	if (rc < 0)
		snprintf(err, errlen, "%s", c.why);
out:
	runner_free(rn);
	if (c.base)
		event_base_free(c.base);
	lg_dirs_remove(&dirs);
	return rc;
}
