/* main.c - gradeq-dispatcher: arguments, config, logging, signals, the loop. */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disp.h"
#include "disp_config.h"
#include "log.h"

#define DEFAULT_CONF "/etc/gradeq/dispatcher.conf"
#define DRAIN_MS 10000

static void usage(FILE *f)
{
	fprintf(f, "usage: gradeq-dispatcher [-c FILE]\n"
	           "  -c, --config FILE  configuration (default " DEFAULT_CONF
	           ", see docs/config.md)\n"
	           "  -h, --help         this help\n"
	           "  -V, --version      print the version\n"
	           "The HTTP API is described in docs/http-api.md.\n");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	LOG_INFO("signal %d: finishing in-flight requests", (int)sig);
	disp_shutdown(arg, DRAIN_MS);
}

static void on_event_log(int severity, const char *msg)
{
	enum gq_log_level l = severity >= EVENT_LOG_ERR    ? GQ_LOG_ERR
	                      : severity == EVENT_LOG_WARN ? GQ_LOG_WARN
	                      : severity == EVENT_LOG_MSG  ? GQ_LOG_INFO
	                                                   : GQ_LOG_DEBUG;
	gq_log(l, "libevent: %s", msg);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = DEFAULT_CONF;
	int c;
	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			conf = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("gradeq-dispatcher %s\n", GRADEQ_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gradeq-dispatcher: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	struct disp_config cfg;
	char err[512];
	disp_config_defaults(&cfg);
	if (disp_config_load(&cfg, conf, err, sizeof err) < 0) {
		fprintf(stderr, "gradeq-dispatcher: %s\n", err);
		return 1;
	}
	gq_log_init("dispatcher", cfg.level);
	event_set_log_callback(on_event_log);
	signal(SIGPIPE, SIG_IGN);

	struct event_base *base = event_base_new();
	if (base == NULL) {
		LOG_ERR("cannot create the event loop");
		return 1;
	}
	struct disp *d = disp_new(base, &cfg, err, sizeof err);
	if (d == NULL) {
		LOG_ERR("%s", err);
		event_base_free(base);
		return 1;
	}
	struct event *sigint = evsignal_new(base, SIGINT, on_signal, d);
	struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, d);
	if (!sigint || !sigterm || event_add(sigint, NULL) < 0 || event_add(sigterm, NULL) < 0) {
		LOG_ERR("cannot install signal handlers");
		return 1;
	}
	bool kafka = strcmp(cfg.broker_kind, "kafka") == 0;
	LOG_INFO("gradeq-dispatcher %s listening on %s:%d (redis %s, jobs on %s %s %s)",
	         GRADEQ_VERSION, cfg.listen_host, disp_port(d), cfg.redis_address,
	         kafka ? "kafka" : "redis stream", kafka ? cfg.kafka_brokers : cfg.redis_address,
	         kafka ? cfg.kafka_topic : cfg.broker_stream);
	int rc = event_base_dispatch(base);
	event_free(sigint);
	event_free(sigterm);
	disp_free(d);
	event_base_free(base);
	LOG_INFO("stopped");
	return rc < 0 ? 1 : 0;
}
