/* main.c - gradeq-node: arguments, configuration, logging and signals; node.c does the
 * work on one libevent loop. */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgscope.h"
#include "log.h"
#include "node.h"
#include "node_config.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: gradeq-node -c FILE\n"
	           "       gradeq-node --help | --version\n"
	           "Grades marimo notebook submissions from the Kafka jobs topic in sandboxes\n"
	           "and writes the results to Redis. FILE is the node configuration\n"
	           "(docs/config.md). SIGTERM or SIGINT drains running jobs and exits;\n"
	           "a second signal cancels them.\n");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	LOG_INFO("signal %d received", (int)sig);
	node_shutdown(arg);
}

static void libevent_log(int severity, const char *msg)
{
	enum gq_log_level l = severity == EVENT_LOG_ERR    ? GQ_LOG_ERR
	                      : severity == EVENT_LOG_WARN ? GQ_LOG_WARN
	                      : severity == EVENT_LOG_MSG  ? GQ_LOG_INFO
	                                                   : GQ_LOG_DEBUG;
	gq_log(l, "libevent: %s", msg);
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("gradeq-node %s\n", GRADEQ_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			path = argv[++i];
		} else {
			fprintf(stderr, "gradeq-node: unexpected argument %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!path) {
		fprintf(stderr, "gradeq-node: -c FILE is required\n");
		usage(stderr);
		return 2;
	}
	/* cgroup v2: job cgroups need a cgroup that holds the node alone (cgscope.h) */
	char serr[512];
	if (cgscope_reexec(serr, sizeof serr) < 0) {
		fprintf(stderr, "gradeq-node: %s\n", serr);
		return 1;
	}

	struct node_config cfg;
	char err[1024];
	node_config_defaults(&cfg);
	if (node_config_load(path, &cfg, err, sizeof err) < 0) {
		fprintf(stderr, "gradeq-node: %s\n", err);
		return 2;
	}
	enum gq_log_level lvl = GQ_LOG_INFO;
	gq_log_level_parse(cfg.log_level, &lvl);
	gq_log_init("node", lvl);
	event_set_log_callback(libevent_log);
	/* a peer closing a socket must be an error return, not a death */
	signal(SIGPIPE, SIG_IGN);

	struct event_base *base = event_base_new();
	if (!base) {
		LOG_ERR("cannot create the event loop");
		return 1;
	}
	struct node *n = node_new(base, &cfg, err, sizeof err);
	if (!n) {
		LOG_ERR("cannot start: %s", err);
		event_base_free(base);
		return 1;
	}
	struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, n);
	struct event *sigint = evsignal_new(base, SIGINT, on_signal, n);
	if (!sigterm || !sigint || evsignal_add(sigterm, NULL) < 0 ||
	    evsignal_add(sigint, NULL) < 0) {
		LOG_ERR("cannot install signal handlers");
		return 1;
	}
	LOG_INFO("gradeq-node %s running", GRADEQ_VERSION);
	int rc = event_base_dispatch(base) < 0 ? 1 : 0;
	if (rc == 0)
		rc = node_exit_code(n);
	event_free(sigterm);
	event_free(sigint);
	node_free(n);
	event_base_free(base);
	LOG_INFO("exit %d", rc);
	return rc;
}
