/* cgscope.h - a cgroup of the process's own on a cgroup v2 host. Job cgroups are made
 * below the process's own cgroup, which the kernel allows only when no other process
 * shares it ("no internal processes"). A node or local grader started from a shell, a
 * test runner or a service holding other processes is in such a shared cgroup; this
 * module re-executes the program in a transient systemd scope with Delegate=yes, a
 * cgroup that holds it alone. Called from mains, before anything else is set up. */
#pragma once
#include <stddef.h>

/* 1 when this process's cgroup is a shared, non-root v2 cgroup with the memory and pids
 * controllers on (one it cannot make job cgroups below), 0 otherwise (cgroup v1, no
 * unified memory+pids, the root cgroup, or a cgroup of its own). -errno when the own
 * cgroup cannot be read. Writes the cgroup's directory to own (may be NULL). */
int cgscope_shared(char *own, size_t ownlen);

/* When cgscope_shared() and systemd runs the host (/run/systemd/system) and the
 * process has not been through here yet (GRADEQ_CGSCOPE unset), sets GRADEQ_CGSCOPE=1
 * and execs `systemd-run --scope -p Delegate=yes ... <this program> <its original
 * arguments>` (from /proc/self/cmdline): the same pid, environment and descriptors, in a
 * new cgroup of its own; the re-executed process finds GRADEQ_CGSCOPE and removes it.
 * Returns 0 when there is nothing to do (then job cgroups either
 * work where the process is, or cg_detect says why not), or -errno with err when the
 * exec failed. Only for root (a non-root process makes no cgroups). */
int cgscope_reexec(char *err, size_t errlen);
