/* cli_progress.c - batch progress: counts, rate and ETA on stderr. */
#include "cli_progress.h"

#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define BAR_MIN 8
#define BAR_MAX 30
#define TTY_PERIOD_MS 100
#define PLAIN_PERIOD_MS 5000

void cli_progress_init(struct cli_progress *p, FILE *out, bool tty, bool wait, size_t total,
                       int64_t now_ms)
{
	memset(p, 0, sizeof *p);
	p->out = out;
	p->tty = tty;
	p->wait = wait;
	p->total = total;
	p->start_ms = now_ms;
	p->last_ms = now_ms;
	p->cols = 80;
	struct winsize ws;
	if (tty && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		p->cols = ws.ws_col;
}

static void fmt_duration(double secs, char *out, size_t outlen)
{
	long s = (long)(secs + 0.5);
	if (s >= 3600)
		snprintf(out, outlen, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(out, outlen, "%ld:%02ld", s / 60, s % 60);
}

void cli_progress_format(const struct cli_progress *p, const struct cli_progress_counts *c,
                         int64_t now_ms, char *out, size_t outlen)
{
	double elapsed = (double)(now_ms - p->start_ms) / 1000.0;
	size_t done = p->wait ? c->graded : c->submitted;
	/* failed submissions will never be graded: they count as finished work */
	size_t finished = done + c->failed;
	double rate = elapsed > 0.05 ? (double)done / elapsed : 0.0;
	char eta[32] = "-:--", el[32];

	if (finished >= p->total)
		snprintf(eta, sizeof eta, "0:00");
	else if (rate > 0)
		fmt_duration((double)(p->total - finished) / rate, eta, sizeof eta);
	fmt_duration(elapsed, el, sizeof el);
	int n = snprintf(out, outlen, "%s %zu/%zu", p->first ? p->first : "submitted", c->submitted,
	                 p->total);
	if (n < 0 || (size_t)n >= outlen)
		return;
	if (p->wait)
		n += snprintf(out + n, outlen - (size_t)n, "  graded %zu/%zu", c->graded, p->total);
	if (n < 0 || (size_t)n >= outlen)
		return;
	if (c->failed)
		n += snprintf(out + n, outlen - (size_t)n, "  failed %zu", c->failed);
	if (n < 0 || (size_t)n >= outlen)
		return;
	snprintf(out + n, outlen - (size_t)n, "  %.1f/s  elapsed %s  ETA %s", rate, el, eta);
}

void cli_progress_update(struct cli_progress *p, const struct cli_progress_counts *c,
                         int64_t now_ms)
{
	char line[256];

	if (now_ms - p->last_ms < (p->tty ? TTY_PERIOD_MS : PLAIN_PERIOD_MS))
		return;
	p->last_ms = now_ms;
	cli_progress_format(p, c, now_ms, line, sizeof line);
	if (!p->tty) {
		fprintf(p->out, "%s: %s\n", p->prefix ? p->prefix : "batch", line);
		fflush(p->out);
		return;
	}
	/* The bar takes the room the text leaves on the terminal line (none when narrow):
	 * \r + erase-line redraws in place, which a wrapped line would defeat. */
	size_t room = p->cols > strlen(line) + 4 ? p->cols - strlen(line) - 4 : 0;
	size_t width = room > BAR_MAX ? BAR_MAX : room;
	char full[sizeof line + BAR_MAX + 4];
	if (width >= BAR_MIN) {
		size_t done = (p->wait ? c->graded : c->submitted) + c->failed;
		size_t fill = p->total ? done * width / p->total : width;
		char bar[BAR_MAX + 1];
		for (size_t i = 0; i < width; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[width] = '\0';
		snprintf(full, sizeof full, "[%s] %s", bar, line);
	} else {
		snprintf(full, sizeof full, "%s", line);
	}
	if (strlen(full) >= p->cols)
		full[p->cols - 1] = '\0';
	fprintf(p->out, "\r\033[K%s", full);
	fflush(p->out);
	p->drawn = true;
}

void cli_progress_end(struct cli_progress *p)
{
	if (p->tty && p->drawn) {
		fputs("\r\033[K", p->out);
		fflush(p->out);
		p->drawn = false;
	}
}
