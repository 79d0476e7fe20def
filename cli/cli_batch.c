/* cli_batch.c - `gradeq batch`: submits DIR/<student>.py for every student with up to
 * --parallel requests in flight (curl multi), retrying 503 as Retry-After says, then
 * (--wait) polls the records until all are finished, and prints a summary. */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_http.h"
#include "cli_opts.h"
#include "cli_progress.h"
#include "cli_result.h"
#include "score.h"
#include "util.h"

/* A 503 (Kafka or Redis down: nothing was accepted) is retried after Retry-After for
 * a few minutes, long enough for a broker or Redis restart; the batch's --timeout still
 * bounds the whole. A transport error (dispatcher restarting) is retried for ~30 s once
 * the dispatcher has answered at least once. */
#define SUBMIT_TRIES_503 60
#define SUBMIT_TRIES_TRANSPORT 30
#define RETRY_AFTER_CAP_S 30
#define POLL_MIN_MS 100
#define POLL_MAX_MS 1000
#define POLL_RATE_PER_S 200 /* all polls together: keeps the dispatcher for the grading */
#define POLL_FAIL_MAX 120   /* consecutive failed polls (1 s apart) before giving up */
#define LIST_MAX 20         /* failures and skips listed by name in the summary */

static const char batch_help[] =
	"usage: gradeq batch [--wait] [--timeout SECONDS] [--parallel N] [--json]\n"
	"                    COURSE/EXERCISE DIR\n"
	"\n"
	"Submits every DIR/<student>.py as that student (instructor token). Files whose stem\n"
	"is not a valid name ([A-Za-z0-9_.-]{1,64}) are reported and skipped. A 503 from the\n"
	"dispatcher is retried after its Retry-After. Progress goes to stderr (a bar on a\n"
	"terminal); the summary counts submitted and failed files, and with --wait the\n"
	"verdicts and the time taken.\n"
	"\n"
	"options:\n"
	"  --wait             wait until every submission is graded\n"
	"  --timeout SECONDS  how long the whole batch may take, default 600\n"
	"  --parallel N       requests in flight, default 8\n"
	"  --json             print one object per file:\n"
	"                     {\"student\",\"id\",\"status\",\"verdict\",\"score\",\"max\"}\n"
	"\n"
	"examples:\n"
	"  gradeq batch cs101/primes subs/primes\n"
	"  gradeq batch --wait --parallel 16 cs101/primes subs/primes\n"
	"  gradeq batch --wait --json cs101/stats subs/stats > results.json\n";

enum item_state { IT_SUBMIT, IT_POLL, IT_DONE, IT_FAILED };

struct item {
	char student[GQ_NAME_MAX + 1];
	char *src;
	size_t len;
	enum item_state state;
	bool inflight;
	int64_t ready_ms; /* not sent again before this (monotonic) */
	int tries;        /* submit attempts, or consecutive failed polls */
	long poll_delay;
	char id[GQ_SUBID_LEN + 1];
	char status[16];
	char verdict[24];
	double score, max;
	bool has_score;
	char *error; /* malloc'd reason when failed or status error */
};

struct slot {
	struct cli_req *req; /* NULL when free */
	size_t item;
};

struct batch {
	struct cli_batch_opts o;
	struct cli_env env;
	struct item *items;
	size_t n;
	char **skipped; /* file names with invalid stems */
	size_t nskipped;
	struct slot *slots;
	size_t inflight;
	CURLM *multi;
	struct cli_progress_counts counts;
	double poll_tokens;
	int64_t poll_refill_ms;
	char fatal[512]; /* set when every request would fail the same way */
};

int cli_batch_parse(int argc, char **argv, struct cli_batch_opts *o, char *err, size_t errlen)
{
	const struct cli_opt opts[] = {
		cli_opt_flag("wait", &o->wait),
		cli_opt_long("timeout", &o->timeout_s, 1, 7 * 86400),
		cli_opt_long("parallel", &o->parallel, 1, 256),
		cli_opt_flag("json", &o->json),
		CLI_OPT_END,
	};

	memset(o, 0, sizeof *o);
	o->parallel = 8;
	o->timeout_s = 600;
	int rc = cli_parse_opts(argc, argv, opts, err, errlen);
	if (rc != 0)
		return rc;
	if (cli_expect_target(argc, argv, 2, "COURSE/EXERCISE DIR", o->course, o->exercise, err,
	                      errlen) != 0)
		return -EINVAL;
	o->dir = argv[optind + 1];
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads DIR/<student>.py, sorted by name. Returns 0 or -errno with err. */
static int load_dir(struct batch *b, char *err, size_t errlen)
{
	DIR *d = opendir(b->o.dir);
	struct dirent *de;
	char **names = NULL;
	size_t nn = 0, cap = 0;
	int rc = 0;

	if (!d) {
		rc = -errno;
		snprintf(err, errlen, "batch: cannot open %s: %s", b->o.dir, strerror(-rc));
		return rc;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 4 || strcmp(de->d_name + l - 3, ".py") != 0 || de->d_name[0] == '.')
			continue;
		if (nn == cap) {
			cap = cap ? cap * 2 : 64;
			char **nb = realloc(names, cap * sizeof *names);
			if (!nb) {
				rc = -ENOMEM;
				goto out;
			}
			names = nb;
		}
		if (!(names[nn] = strdup(de->d_name))) {
			rc = -ENOMEM;
			goto out;
		}
		nn++;
	}
	if (nn)
		qsort(names, nn, sizeof *names, cmp_str);
	b->items = calloc(nn ? nn : 1, sizeof *b->items);
	b->skipped = calloc(nn ? nn : 1, sizeof *b->skipped);
	if (!b->items || !b->skipped) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nn; i++) {
		size_t stem = strlen(names[i]) - 3;
		char path[4096];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", b->o.dir, names[i]);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (!name_valid_n(names[i], stem)) {
			b->skipped[b->nskipped++] = names[i];
			names[i] = NULL;
			continue;
		}
		struct item *it = &b->items[b->n];
		memcpy(it->student, names[i], stem);
		it->student[stem] = '\0';
		rc = util_read_file(path, CLI_SOURCE_MAX, &it->src, &it->len);
		if (rc != 0) {
			snprintf(err, errlen, "batch: cannot read %s: %s", path,
			         rc == -EFBIG ? "larger than 8 MiB" : strerror(-rc));
			goto out_msg;
		}
		it->state = IT_SUBMIT;
		it->poll_delay = POLL_MIN_MS;
		b->n++;
	}
out:
	if (rc != 0)
		snprintf(err, errlen, "batch: reading %s: %s", b->o.dir, strerror(-rc));
out_msg:
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

static void set_error(struct item *it, const char *msg)
{
	free(it->error);
	it->error = strdup(msg);
}

static void item_fail(struct batch *b, struct item *it, const char *msg)
{
	set_error(it, msg);
	it->state = IT_FAILED;
	b->counts.failed++;
}

static int start(struct batch *b, size_t idx)
{
	struct item *it = &b->items[idx];
	char path[256];
	struct cli_req *r;

	if (it->state == IT_SUBMIT) {
		cli_submissions_path(b->o.course, b->o.exercise, it->student, path, sizeof path);
		r = cli_http_req_new(&b->env, "POST", path, "text/x-python", it->src, it->len, 60);
	} else {
		snprintf(path, sizeof path, "/v1/submissions/%s", it->id);
		r = cli_http_req_new(&b->env, "GET", path, NULL, NULL, 0, 30);
	}
	if (!r)
		return -ENOMEM;
	for (size_t s = 0; s < (size_t)b->o.parallel; s++) {
		if (b->slots[s].req)
			continue;
		b->slots[s].req = r;
		b->slots[s].item = idx;
		break;
	}
	curl_multi_add_handle(b->multi, cli_req_easy(r));
	it->inflight = true;
	b->inflight++;
	return 0;
}

static void on_submitted(struct batch *b, struct item *it, struct cli_resp *resp, int64_t now)
{
	char reason[512];

	it->tries++;
	if (resp->status == 202 || resp->status == 200 || resp->status == 201) {
		json_t *j = json_loadb(resp->body, resp->len, 0, NULL);
		const char *id = json_string_value(json_object_get(j, "id"));
		if (id && subid_valid(id)) {
			memcpy(it->id, id, GQ_SUBID_LEN + 1);
			snprintf(it->status, sizeof it->status, "queued");
			it->state = IT_POLL;
			it->tries = 0;
			it->ready_ms = now + POLL_MIN_MS;
			b->counts.submitted++;
		} else {
			item_fail(b, it, "dispatcher accepted the submission but sent no valid id");
		}
		json_decref(j);
		return;
	}
	if (resp->status == 503 && it->tries < SUBMIT_TRIES_503) {
		long wait = resp->retry_after > 0 ? resp->retry_after : 1;
		it->ready_ms = now + (wait > RETRY_AFTER_CAP_S ? RETRY_AFTER_CAP_S : wait) * 1000;
		return;
	}
	/* never reached the dispatcher yet: a wrong URL, or a dispatcher restarting (a few
	 * seconds): fail after ~5 s */
	int transport_tries = b->counts.submitted > 0 ? SUBMIT_TRIES_TRANSPORT : 6;
	if (resp->status == 0 && it->tries < transport_tries) {
		it->ready_ms = now + 1000;
		return;
	}
	cli_resp_reason(&b->env, resp, reason, sizeof reason);
	/* a bad token or an unknown exercise fails every file the same way: stop early */
	if (resp->status == 401 || resp->status == 404 ||
	    (resp->status == 0 && b->counts.submitted == 0))
		snprintf(b->fatal, sizeof b->fatal, "%s", reason);
	item_fail(b, it, reason);
}

static void on_polled(struct batch *b, struct item *it, struct cli_resp *resp, int64_t now)
{
	char reason[512];

	if (resp->status == 200) {
		json_t *rec = json_loadb(resp->body, resp->len, 0, NULL);
		it->tries = 0;
		if (rec && cli_result_finished(rec)) {
			const char *st = json_string_value(json_object_get(rec, "status"));
			const char *v = json_string_value(json_object_get(rec, "verdict"));
			json_t *sc = json_object_get(rec, "score"),
			       *mx = json_object_get(rec, "max");
			snprintf(it->status, sizeof it->status, "%s", st);
			snprintf(it->verdict, sizeof it->verdict, "%s", v ? v : "");
			if (json_is_number(sc) && json_is_number(mx)) {
				it->score = json_number_value(sc);
				it->max = json_number_value(mx);
				it->has_score = true;
			}
			if (strcmp(st, "error") == 0) {
				const char *e = json_string_value(json_object_get(rec, "error"));
				set_error(it, e ? e : "");
			}
			it->state = IT_DONE;
			b->counts.graded++;
		} else {
			const char *st = json_string_value(json_object_get(rec, "status"));
			if (st)
				snprintf(it->status, sizeof it->status, "%s", st);
			it->ready_ms = now + it->poll_delay;
			it->poll_delay =
				it->poll_delay * 2 > POLL_MAX_MS ? POLL_MAX_MS : it->poll_delay * 2;
		}
		json_decref(rec);
		return;
	}
	if ((resp->status == 0 || resp->status == 503) && ++it->tries < POLL_FAIL_MAX) {
		it->ready_ms = now + POLL_MAX_MS;
		return;
	}
	cli_resp_reason(&b->env, resp, reason, sizeof reason);
	item_fail(b, it, reason);
	b->counts.submitted--; /* it counts as failed now */
}

static void finish_transfers(struct batch *b)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(b->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		size_t s;
		for (s = 0; s < (size_t)b->o.parallel; s++)
			if (b->slots[s].req && cli_req_easy(b->slots[s].req) == msg->easy_handle)
				break;
		if (s == (size_t)b->o.parallel)
			continue; /* not ours: cannot happen */
		struct item *it = &b->items[b->slots[s].item];
		struct cli_resp resp;
		CURLcode code = msg->data.result;
		curl_multi_remove_handle(b->multi, msg->easy_handle);
		cli_req_finish(b->slots[s].req, (int)code, &resp);
		cli_req_free(b->slots[s].req);
		b->slots[s].req = NULL;
		it->inflight = false;
		b->inflight--;
		int64_t now = util_mono_ms();
		if (it->state == IT_SUBMIT)
			on_submitted(b, it, &resp, now);
		else
			on_polled(b, it, &resp, now);
		cli_resp_clear(&resp);
	}
}

/* Starts what is ready, polls within the global poll budget. Returns the ms until the
 * next item becomes ready (capped), for the multi wait. */
static long fill(struct batch *b, int64_t now)
{
	long next = 100;
	double rate = POLL_RATE_PER_S;

	b->poll_tokens += (double)(now - b->poll_refill_ms) * rate / 1000.0;
	if (b->poll_tokens > rate / 10)
		b->poll_tokens = rate / 10;
	b->poll_refill_ms = now;
	for (size_t i = 0; i < b->n && b->inflight < (size_t)b->o.parallel; i++) {
		struct item *it = &b->items[i];
		if (it->inflight || it->state == IT_DONE || it->state == IT_FAILED)
			continue;
		if (it->state == IT_POLL && !b->o.wait)
			continue;
		if (it->ready_ms > now) {
			if (it->ready_ms - now < next)
				next = (long)(it->ready_ms - now);
			continue;
		}
		if (it->state == IT_POLL) {
			if (b->poll_tokens < 1.0)
				continue;
			b->poll_tokens -= 1.0;
		}
		if (start(b, i) != 0) {
			item_fail(b, it, "out of memory");
			continue;
		}
	}
	return next < 1 ? 1 : next;
}

static bool all_settled(const struct batch *b)
{
	size_t settled = b->counts.failed + (b->o.wait ? b->counts.graded : b->counts.submitted);
	return settled >= b->n && b->inflight == 0;
}

/* Runs the transfers until every item is settled, the deadline passes or a fatal error. */
static void run(struct batch *b, struct cli_progress *prog)
{
	int64_t deadline = util_mono_ms() + b->o.timeout_s * 1000;

	b->poll_refill_ms = util_mono_ms();
	for (;;) {
		int64_t now = util_mono_ms();
		if (all_settled(b) || b->fatal[0])
			break;
		if (now >= deadline)
			break;
		long wait_ms = fill(b, now);
		int running;
		curl_multi_perform(b->multi, &running);
		finish_transfers(b);
		cli_progress_update(prog, &b->counts, util_mono_ms());
		if (all_settled(b) || b->fatal[0])
			break;
		curl_multi_poll(b->multi, NULL, 0, (int)wait_ms, NULL);
	}
	/* let the requests in flight land (fatal stop or timeout) */
	while (b->inflight > 0) {
		int running;
		curl_multi_perform(b->multi, &running);
		finish_transfers(b);
		if (b->inflight > 0)
			curl_multi_poll(b->multi, NULL, 0, 100, NULL);
	}
	cli_progress_end(prog);
}

struct verdict_count {
	const char *name;
	size_t n;
};

static int cmp_vc(const void *a, const void *b)
{
	const struct verdict_count *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->name, y->name);
}

static void print_summary(const struct batch *b, FILE *out, double secs)
{
	size_t pending = 0;

	fprintf(out, "batch %s/%s: %zu files, %zu submitted, %zu failed", b->o.course,
	        b->o.exercise, b->n + b->nskipped, b->counts.submitted, b->counts.failed);
	if (b->nskipped)
		fprintf(out, ", %zu skipped (invalid student name)", b->nskipped);
	fprintf(out, " in %.1f s\n", secs);
	for (size_t i = 0; i < b->nskipped && i < LIST_MAX; i++)
		fprintf(out, "  skipped %s\n", b->skipped[i]);
	size_t listed = 0;
	for (size_t i = 0; i < b->n && listed < LIST_MAX; i++) {
		if (b->items[i].state != IT_FAILED)
			continue;
		fprintf(out, "  failed %s: %s\n", b->items[i].student,
		        b->items[i].error ? b->items[i].error : "?");
		listed++;
	}
	if (listed < b->counts.failed)
		fprintf(out, "  ... and %zu more failures\n", b->counts.failed - listed);
	if (!b->o.wait)
		return;

	struct verdict_count *vc = calloc(b->n + 1, sizeof *vc);
	size_t nvc = 0;
	if (!vc)
		return;
	for (size_t i = 0; i < b->n; i++) {
		const struct item *it = &b->items[i];
		if (it->state == IT_POLL)
			pending++;
		if (it->state != IT_DONE)
			continue;
		const char *v = strcmp(it->status, "error") == 0 ? "error" : it->verdict;
		size_t k;
		for (k = 0; k < nvc && strcmp(vc[k].name, v) != 0; k++)
			;
		if (k == nvc)
			vc[nvc++].name = v;
		vc[k].n++;
	}
	qsort(vc, nvc, sizeof *vc, cmp_vc);
	fprintf(out, "graded %zu in %.1f s (%.1f/s)", b->counts.graded, secs,
	        secs > 0 ? (double)b->counts.graded / secs : 0.0);
	for (size_t k = 0; k < nvc; k++)
		fprintf(out, "%s%s %zu", k ? ", " : ": ", vc[k].name, vc[k].n);
	if (pending)
		fprintf(out, "; %zu not finished", pending);
	fputc('\n', out);
	free(vc);
}

/* A score as a JSON number: an integer when it has no fraction (10, not 10.0). */
static json_t *score_json(double v)
{
	double r = score_round2(v);
	if (r == (double)(json_int_t)r)
		return json_integer((json_int_t)r);
	return json_real(r);
}

static json_t *results_json(const struct batch *b)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < b->n; i++) {
		const struct item *it = &b->items[i];
		bool failed = it->state == IT_FAILED;
		json_t *o =
			json_pack("{s:s, s:o, s:s, s:o, s:o, s:o}", "student", it->student, "id",
		                  failed || !it->id[0] ? json_null() : json_string(it->id),
		                  "status", failed ? "failed" : it->status, "verdict",
		                  it->verdict[0] ? json_string(it->verdict) : json_null(), "score",
		                  it->has_score ? score_json(it->score) : json_null(), "max",
		                  it->has_score ? score_json(it->max) : json_null());
		if (o && it->error)
			json_object_set_new(o, "error", json_string(it->error));
		if (!o || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->items[i].src);
		free(b->items[i].error);
	}
	for (size_t i = 0; i < b->nskipped; i++)
		free(b->skipped[i]);
	free(b->items);
	free(b->skipped);
	free(b->slots);
	if (b->multi)
		curl_multi_cleanup(b->multi);
}

int cli_batch_main(int argc, char **argv)
{
	struct batch b;
	struct cli_progress prog;
	char err[1024];
	int ret = CLI_EXIT_FAIL;

	memset(&b, 0, sizeof b);
	int rc = cli_batch_parse(argc, argv, &b.o, err, sizeof err);
	if ((rc = cli_start(rc, batch_help, &b.env, err, sizeof err)) != CLI_RUN)
		return rc;
	if (load_dir(&b, err, sizeof err) != 0) {
		cli_fail("%s", err);
		goto out;
	}
	if (b.n == 0) {
		cli_fail("batch: no <student>.py files with a valid student name in %s", b.o.dir);
		goto out;
	}
	b.slots = calloc((size_t)b.o.parallel, sizeof *b.slots);
	b.multi = curl_multi_init();
	if (!b.slots || !b.multi) {
		cli_fail("batch: out of memory");
		goto out;
	}
	curl_multi_setopt(b.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)b.o.parallel);

	int64_t t0 = util_mono_ms();
	cli_progress_init(&prog, stderr, isatty(STDERR_FILENO) == 1, b.o.wait, b.n, t0);
	run(&b, &prog);
	double secs = (double)(util_mono_ms() - t0) / 1000.0;

	if (b.o.json) {
		json_t *arr = results_json(&b);
		if (!arr) {
			cli_fail("batch: out of memory");
			goto out;
		}
		json_dumpf(arr, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
		fputc('\n', stdout);
		json_decref(arr);
		print_summary(&b, stderr, secs);
	} else {
		print_summary(&b, stdout, secs);
	}

	size_t unsettled =
		b.n - b.counts.failed - (b.o.wait ? b.counts.graded : b.counts.submitted);
	if (b.fatal[0])
		cli_fail("batch %s/%s: %s", b.o.course, b.o.exercise, b.fatal);
	else if (b.counts.failed)
		cli_fail("batch: %zu of %zu submissions failed", b.counts.failed, b.n);
	else if (unsettled)
		cli_fail("batch: timed out after %lld s with %zu submissions not %s yet",
		         b.o.timeout_s, unsettled, b.o.wait ? "graded" : "submitted");
	else
		ret = 0;
out:
	batch_free(&b);
	return ret;
}
