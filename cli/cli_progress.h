/* cli_progress.h - the batch and grade commands' progress report on stderr: a bar redrawn
 * in place on a terminal, a plain line every few seconds otherwise. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cli_progress {
	FILE *out;
	bool tty;
	bool wait; /* rate and ETA follow graded (true) or submitted submissions */
	size_t total;
	int64_t start_ms; /* monotonic */
	int64_t last_ms;  /* last draw */
	bool drawn;       /* a bar is on the terminal line */
	size_t cols;      /* terminal width */
	/* set after init to name another command: the plain lines' prefix ("batch") and
	 * the first count's word ("submitted") */
	const char *prefix, *first;
};

struct cli_progress_counts {
	size_t submitted, failed, graded;
};

void cli_progress_init(struct cli_progress *p, FILE *out, bool tty, bool wait, size_t total,
                       int64_t now_ms);
/* Redraws when due: every 100 ms on a tty, every 5 s otherwise. */
void cli_progress_update(struct cli_progress *p, const struct cli_progress_counts *c,
                         int64_t now_ms);
/* Clears the bar (tty) so that the summary starts on a clean line. */
void cli_progress_end(struct cli_progress *p);
/* Formats "<count> <noun> of total, rate/s, ETA m:ss" into out (testable). */
void cli_progress_format(const struct cli_progress *p, const struct cli_progress_counts *c,
                         int64_t now_ms, char *out, size_t outlen);
