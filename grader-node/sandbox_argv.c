/* sandbox_argv.c - the sandbox profile: bwrap's argv and the child's environment, each
 * an ordered list of small steps. docs/security.md describes the contract:
 * all namespaces unshared, a new session, no capabilities, a clean environment, a
 * minimal read-only view (runtime + venv + harness + the job's own files; never / whole,
 * /etc whole, /home, /root, the node's config or other workdirs), size-capped scratch
 * space (/tmp, /dev/shm) and nothing else writable but the job's own /work. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox.h"

/* A growable NULL-terminated vector of owned strings. */
struct strv {
	char **v;
	size_t n, cap;
	int err; /* sticky: the first failure */
};

static void sv_add(struct strv *s, const char *str)
{
	if (s->err)
		return;
	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **v = realloc(s->v, cap * sizeof *v);
		if (!v) {
			s->err = -ENOMEM;
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	if (!(s->v[s->n] = strdup(str))) {
		s->err = -ENOMEM;
		return;
	}
	s->v[++s->n] = NULL;
}

static void sv_addv(struct strv *s, int count, ...)
{
	va_list ap;
	va_start(ap, count);
	for (int i = 0; i < count; i++)
		sv_add(s, va_arg(ap, const char *));
	va_end(ap);
}

__attribute__((format(printf, 2, 3))) static void sv_addf(struct strv *s, const char *fmt, ...)
{
	char buf[PATH_MAX + 64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf) {
		if (!s->err)
			s->err = -ENAMETOOLONG;
		return;
	}
	sv_add(s, buf);
}

static void sv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* -- bwrap steps: each appends its part of the profile -------------------------------- */

typedef void (*argv_step)(struct strv *a, const struct sbx_params *p);

/* Every namespace: user (needed unprivileged; no nested ones: --disable-userns), pid,
 * net (only loopback, down), ipc, uts, cgroup. */
static void step_namespaces(struct strv *a, const struct sbx_params *p)
{
	sv_addv(a, 5, "--unshare-all", "--unshare-user", "--disable-userns", "--hostname",
	        "sandbox");
}

/* bwrap dies with the node (and the pid namespace with bwrap); no controlling terminal
 * (TIOCSTI); no capabilities even inside the user namespace. */
static void step_session(struct strv *a, const struct sbx_params *p)
{
	sv_addv(a, 4, "--die-with-parent", "--new-session", "--cap-drop", "ALL");
}

/* The runtime: /usr read-only, and /lib /lib64 /bin /sbin as on the host (symlinks into
 * /usr on merged-/usr systems, read-only binds otherwise). */
static void step_runtime(struct strv *a, const struct sbx_params *p)
{
	sv_addv(a, 3, "--ro-bind", "/usr", "/usr");
	static const char *const tops[] = { "/lib", "/lib64", "/lib32", "/bin", "/sbin" };
	for (size_t i = 0; i < sizeof tops / sizeof *tops; i++) {
		struct stat st;
		if (lstat(tops[i], &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlink(tops[i], target, sizeof target - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			sv_addv(a, 3, "--symlink", target, tops[i]);
		} else if (S_ISDIR(st.st_mode)) {
			sv_addv(a, 3, "--ro-bind", tops[i], tops[i]);
		}
	}
}

/* Only the /etc files the runtime needs, never /etc whole (passwd, shadow, the node's
 * config and secrets stay outside). */
static void step_etc(struct strv *a, const struct sbx_params *p)
{
	static const char *const files[] = { "/etc/ld.so.cache", "/etc/localtime" };
	for (size_t i = 0; i < sizeof files / sizeof *files; i++)
		sv_addv(a, 3, "--ro-bind-try", files[i], files[i]);
}

/* The grading venv at its own path (its pyvenv.cfg and scripts name absolute paths). */
static void step_venv(struct strv *a, const struct sbx_params *p)
{
	sv_addv(a, 3, "--ro-bind", p->venv, p->venv);
}

static void step_harness(struct strv *a, const struct sbx_params *p)
{
	sv_addv(a, 3, "--ro-bind", p->harness, SBX_HARNESS);
	if (!p->probe)
		sv_addv(a, 3, "--ro-bind", p->tests_dir, SBX_TESTS);
}

static void step_proc_dev(struct strv *a, const struct sbx_params *p)
{
	sv_addv(a, 4, "--proc", "/proc", "--dev", "/dev");
}

/* Scratch space: /tmp and /dev/shm (POSIX semaphores and shared memory), each a tmpfs
 * of tmp_mb. Pages written there are charged to the job's memory cgroup. */
static void step_tmp(struct strv *a, const struct sbx_params *p)
{
	unsigned long long bytes = (unsigned long long)(p->tmp_mb ? p->tmp_mb : 64) * 1024 * 1024;
	static const char *const dirs[] = { "/tmp", "/dev/shm" };
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		sv_add(a, "--size");
		sv_addf(a, "%llu", bytes);
		sv_addv(a, 2, "--tmpfs", dirs[i]);
	}
}

/* The job's own directory (as root a tmpfs of its own, workdir.c) at /work. */
static void step_work(struct strv *a, const struct sbx_params *p)
{
	if (p->probe) {
		sv_addv(a, 2, "--chdir", "/");
		return;
	}
	sv_addv(a, 5, "--bind", p->work_dir, SBX_WORK, "--chdir", SBX_WORK);
}

/* bwrap builds the view on a tmpfs root and /dev on a tmpfs of its own, both writable and
 * uncapped: made read-only once everything is mounted, so /work, /tmp and /dev/shm are
 * the only places a job can write (non-recursive: the mounts on them keep their modes). */
static void step_readonly(struct strv *a, const struct sbx_params *p)
{
	sv_addv(a, 4, "--remount-ro", "/dev", "--remount-ro", "/");
}

/* bwrap writes {"child-pid": N} once the sandbox is set up and the harness exec'd, so a
 * setup failure is told apart from a submission that died. */
static void step_status(struct strv *a, const struct sbx_params *p)
{
	sv_add(a, "--json-status-fd");
	sv_addf(a, "%d", SBX_STATUS_FD);
}

static const argv_step bwrap_steps[] = {
	step_namespaces, step_session, step_runtime, step_etc,      step_venv,   step_harness,
	step_proc_dev,   step_tmp,     step_work,    step_readonly, step_status,
};

/* -- the command: the venv's python running the harness ------------------------------- */

/* -s: no user site; -B: no .pyc; -P: the harness's directory is not put on sys.path.
 * Not -E/-I: the environment is entirely ours, and PYTHONHASHSEED must apply. */
static void add_command(struct strv *a, const struct sbx_params *p)
{
	sv_addf(a, "%s/bin/python", p->venv);
	sv_addv(a, 3, "-s", "-B", "-P");
	sv_add(a, p->bwrap ? SBX_HARNESS : p->harness);
	if (p->probe) {
		sv_add(a, "--probe");
		return;
	}
	sv_addv(a, 4, "--tests", p->bwrap ? SBX_TESTS : p->tests_dir, "--work",
	        p->bwrap ? SBX_WORK : p->work_dir);
	if (p->collect)
		sv_add(a, "--collect");
	else if (p->safety_check)
		sv_add(a, "--safety-check");
}

/* -- environment steps ---------------------------------------------------------------- */

typedef void (*env_step)(struct strv *e, const struct sbx_params *p);

static void env_base(struct strv *e, const struct sbx_params *p)
{
	sv_addf(e, "PATH=%s/bin:/usr/bin:/bin", p->venv);
	sv_addv(e, 4, "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "TERM=dumb", "NO_COLOR=1");
}

/* HOME and scratch space: the private /tmp in the sandbox, the work dir without it
 * (never the node's /tmp or home). */
static void env_home(struct strv *e, const struct sbx_params *p)
{
	const char *home = p->bwrap ? "/tmp" : p->work_dir;
	sv_addf(e, "HOME=%s", home);
	sv_addf(e, "TMPDIR=%s", home);
	sv_addf(e, "MPLCONFIGDIR=%s", home);
}

static void env_python(struct strv *e, const struct sbx_params *p)
{
	sv_addv(e, 6, "PYTHONDONTWRITEBYTECODE=1", "PYTHONHASHSEED=0", "PYTHONUNBUFFERED=1",
	        "PYTHONNOUSERSITE=1", "PYTHONIOENCODING=utf-8:backslashreplace",
	        "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1");
}

/* One thread per numeric library: the job's cpu share is one core's worth, and RLIMIT_AS
 * would otherwise be eaten by per-thread buffers. */
static void env_threads(struct strv *e, const struct sbx_params *p)
{
	sv_addv(e, 6, "MPLBACKEND=Agg", "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1",
	        "MKL_NUM_THREADS=1", "NUMEXPR_NUM_THREADS=1", "VECLIB_MAXIMUM_THREADS=1");
}

static const env_step env_steps[] = { env_base, env_home, env_python, env_threads };

int sbx_cmd_build(const struct sbx_params *p, struct sbx_cmd *out, char *err, size_t errlen)
{
	struct strv a = { 0 }, e = { 0 };
	if (!p->venv || !p->harness || (!p->probe && (!p->work_dir || !p->tests_dir)) ||
	    (p->bwrap && !p->bwrap_path)) {
		snprintf(err, errlen, "sandbox: missing path");
		return -EINVAL;
	}
	if (p->bwrap) {
		sv_add(&a, p->bwrap_path);
		for (size_t i = 0; i < sizeof bwrap_steps / sizeof *bwrap_steps; i++)
			bwrap_steps[i](&a, p);
		sv_add(&a, "--");
	}
	add_command(&a, p);
	for (size_t i = 0; i < sizeof env_steps / sizeof *env_steps; i++)
		env_steps[i](&e, p);
	int rc = a.err ? a.err : e.err;
	if (rc < 0) {
		sv_free(a.v);
		sv_free(e.v);
		snprintf(err, errlen, "sandbox argv: %s", strerror(-rc));
		return rc;
	}
	out->argv = a.v;
	out->envp = e.v;
	return 0;
}

void sbx_cmd_free(struct sbx_cmd *c)
{
	if (!c)
		return;
	sv_free(c->argv);
	sv_free(c->envp);
	c->argv = c->envp = NULL;
}
