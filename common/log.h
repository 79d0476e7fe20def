/* log.h - the one logging family of the daemons (dispatcher, grader-node).
 * Library modules never log: they return a negative errno and fill an error buffer.
 * Lines go to stderr as "<iso time> <level> <component>: message". */
#pragma once
#include <stdarg.h>

enum gq_log_level { GQ_LOG_DEBUG, GQ_LOG_INFO, GQ_LOG_WARN, GQ_LOG_ERR };

/* Set once at start-up by a daemon's main(); component is a static string. */
void gq_log_init(const char *component, enum gq_log_level min_level);
void gq_log(enum gq_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gq_vlog(enum gq_log_level lvl, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Parses "debug|info|warn|error"; returns 0 or -EINVAL. */
int gq_log_level_parse(const char *s, enum gq_log_level *out);

#define LOG_DEBUG(...) gq_log(GQ_LOG_DEBUG, __VA_ARGS__)
#define LOG_INFO(...) gq_log(GQ_LOG_INFO, __VA_ARGS__)
#define LOG_WARN(...) gq_log(GQ_LOG_WARN, __VA_ARGS__)
#define LOG_ERR(...) gq_log(GQ_LOG_ERR, __VA_ARGS__)
