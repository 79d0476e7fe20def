/* log.c - "<iso time> <level> <component>: message" lines on stderr. Each line is
 * written with one write(2) so that lines from librdkafka's threads do not interleave. */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048

static const char *log_component = "gradeq";
static enum gq_log_level log_min = GQ_LOG_INFO;

void gq_log_init(const char *component, enum gq_log_level min_level)
{
	log_component = component ? component : "gradeq";
	log_min = min_level;
}

static const char *level_name(enum gq_log_level lvl)
{
	switch (lvl) {
	case GQ_LOG_DEBUG:
		return "DEBUG";
	case GQ_LOG_INFO:
		return "INFO";
	case GQ_LOG_WARN:
		return "WARN";
	case GQ_LOG_ERR:
		return "ERROR";
	}
	return "?";
}

/* Messages may quote untrusted text: control characters would forge extra lines. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

void gq_vlog(enum gq_log_level lvl, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], ts[32];
	struct timespec now;
	struct tm tm;
	size_t n;
	int hdr, saved_errno = errno;

	if (lvl < log_min)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	hdr = snprintf(line, sizeof line, "%s.%03ldZ %s %s: ", ts, now.tv_nsec / 1000000L,
	               level_name(lvl), log_component);
	if (hdr < 0 || (size_t)hdr >= sizeof line)
		hdr = 0;
	vsnprintf(line + hdr, sizeof line - (size_t)hdr, fmt, ap);
	sanitize(line + hdr);
	n = strlen(line);
	if (n > sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	while (write(STDERR_FILENO, line, n) < 0 && errno == EINTR)
		;
	errno = saved_errno;
}

void gq_log(enum gq_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gq_vlog(lvl, fmt, ap);
	va_end(ap);
}

int gq_log_level_parse(const char *s, enum gq_log_level *out)
{
	static const struct {
		const char *name;
		enum gq_log_level lvl;
	} names[] = {
		{ "debug", GQ_LOG_DEBUG },
		{ "info", GQ_LOG_INFO },
		{ "warn", GQ_LOG_WARN },
		{ "error", GQ_LOG_ERR },
	};

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].lvl;
			return 0;
		}
	}
	return -EINVAL;
}
