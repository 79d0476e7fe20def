/* cgscope.c - re-exec in a delegated systemd scope on a shared v2 cgroup, see cgscope.h. */
#include "cgscope.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"

int cgscope_shared(char *own, size_t ownlen)
{
	char dir[PATH_MAX];
	int rc = cg_v2_own_dir(dir, sizeof dir);
	if (rc <= 0)
		return rc; /* not a v2 host with memory+pids, or unreadable */
	if (own)
		snprintf(own, ownlen, "%s", dir);
	if (rc == 2)
		return 0; /* the root cgroup: exempt from the rule */
	char path[PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	long pid;
	bool other = false;
	while (!other && fscanf(f, "%ld", &pid) == 1)
		other = pid != (long)getpid();
	fclose(f);
	return other ? 1 : 0;
}

/* This process's original argument vector, from /proc/self/cmdline (what getopt
 * reordered in argv is not reordered there). NULL-terminated array into one allocation
 * at *buf; both freed by the caller. Returns the count or -errno. */
static int own_cmdline(char **buf, char ***argv)
{
	FILE *f = fopen("/proc/self/cmdline", "re");
	if (!f)
		return -errno;
	/* grows until one read leaves room */
	size_t cap = 4096, len = 0;
	char *b = malloc(cap);
	while (b) {
		len += fread(b + len, 1, cap - len, f);
		if (len < cap)
			break;
		char *nb = realloc(b, cap * 2);
		if (!nb) {
			free(b);
			b = NULL;
			break;
		}
		b = nb;
		cap *= 2;
	}
	fclose(f);
	if (!b)
		return -ENOMEM;
	int n = 0;
	for (size_t i = 0; i < len; i++)
		n += b[i] == '\0';
	char **v = calloc((size_t)n + 1, sizeof *v);
	if (!v) {
		free(b);
		return -ENOMEM;
	}
	int k = 0;
	for (size_t i = 0; i < len && k < n; i += strlen(b + i) + 1)
		v[k++] = b + i;
	*buf = b;
	*argv = v;
	return k;
}

int cgscope_reexec(char *err, size_t errlen)
{
	struct stat st;
	if (getenv("GRADEQ_CGSCOPE")) {
		/* been through here: in the scope now (or cg_detect will say why not); the
		 * marker goes no further, to no child */
		unsetenv("GRADEQ_CGSCOPE");
		return 0;
	}
	if (geteuid() != 0 || stat("/run/systemd/system", &st) < 0)
		return 0;
	if (cgscope_shared(NULL, 0) != 1)
		return 0;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		int e = n < 0 ? errno : EINVAL;
		snprintf(err, errlen, "readlink /proc/self/exe: %s", strerror(e));
		return -e;
	}
	self[n] = '\0';
	char *buf = NULL, **args = NULL;
	int argc = own_cmdline(&buf, &args);
	if (argc < 1) {
		snprintf(err, errlen, "/proc/self/cmdline: %s",
		         argc < 0 ? strerror(-argc) : "empty");
		if (argc == 0) {
			free(args);
			free(buf);
		}
		return argc < 0 ? argc : -EINVAL;
	}
	static const char *const pre[] = {
		"systemd-run", "--scope", "--quiet", "--collect", "-p", "Delegate=yes", "--",
	};
	size_t npre = sizeof pre / sizeof pre[0];
	char **av = calloc(npre + (size_t)argc + 1, sizeof *av);
	if (!av) {
		free(args);
		free(buf);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < npre; i++)
		av[i] = (char *)pre[i];
	av[npre] = self; /* the program itself, whatever argv[0] says */
	for (int i = 1; i < argc; i++)
		av[npre + (size_t)i] = args[i];
	int e = setenv("GRADEQ_CGSCOPE", "1", 1) < 0 ? errno : 0;
	if (e == 0) {
		execvp(av[0], av);
		e = errno;
		unsetenv("GRADEQ_CGSCOPE");
	}
	free(av);
	free(args);
	free(buf);
	snprintf(err, errlen,
	         "this process shares its cgroup (cgroup v2) with others and cannot run "
	         "systemd-run to get one of its own (%s): start it in a cgroup of its own (a "
	         "unit with Delegate=yes)",
	         strerror(e));
	return -e;
}
