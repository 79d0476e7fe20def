/* node.c - the grader node: see node.h.
 *
 * A job moves through states, each started by job_step() and finished by a callback on
 * the loop:
 *
 *   MARK     EVAL: record -> "grading" unless a newer attempt exists or this attempt
 *            already finished (then the message is simply done: a redelivery).
 *   SOURCE   GET gq:src:<id>, sha256 checked against the job.
 *   BUNDLE   cache_dir/<tests_hash>/, else GET gq:bundle:<hash> and extract.
 *   RUN      runner_start() on the job's slot; the runner calls back once.
 *   PERSIST  one EVAL writes the result (store_put_result); its reply is the proof of
 *            persistence, and only then is the Kafka message done (offset storable).
 *
 * Two kinds of failure, kept apart on purpose:
 *  - Redis not answering (down, restarting): not the job's fault and not this attempt's.
 *    The step is repeated with backoff (250 ms .. 5 s) for as long as it takes; the job
 *    keeps its slot, so a node without Redis stops taking work by itself.
 *  - An infrastructure error of the job (source or bundle missing or corrupt, the sandbox
 *    failed to start, RUN_INFRA_ERROR): the job is re-run here, from SOURCE, after 1, 2,
 *    4 s. The budget is JOB_RETRY_BUDGET retries, counting the job's own `retry` field
 *    (set by whoever re-published it); when it is spent the record gets status "error"
 *    with the reason, which staff can regrade. Retrying locally keeps the message's
 *    offset in flight (nothing after it is committed until it is settled), needs no
 *    producer on the node and keeps the order of the partition; a node whose sandbox is
 *    broken fails its jobs into "error" rather than passing them on.
 *
 * Undecodable messages are dead-lettered with the reason and never occupy a slot. When the
 * group takes a partition away, that partition's jobs stop here (revoke_jobs): their new
 * owner delivers them again, and nothing is graded twice for nothing. */
#include "node.h"

#include <errno.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker.h"
#include "bundle.h"
#include "codec.h"
#include "fetch.h"
#include "heartbeat.h"
#include "joblimits.h"
#include "log.h"
#include "names.h"
#include "node_config.h"
#include "rerr.h"
#include "runner.h"
#include "published.h"
#include "records.h"
#include "score.h"
#include "store.h"
#include "util.h"

#define JOB_RETRY_BUDGET 3
#define INFRA_BACKOFF_MS 1000
#define REDIS_BACKOFF_MIN_MS 250
#define REDIS_BACKOFF_MAX_MS 5000
#define TICK_MS 100
#define PUMP_BATCH 64
#define DRAIN_GRACE_S 30
#define CLOSE_TIMEOUT_MS 10000
#define FEEDBACK_MAX_TESTS 2000
#define FEEDBACK_NAME_MAX 512
#define FEEDBACK_MSG_MAX 2048

enum job_state { J_MARK, J_SOURCE, J_BUNDLE, J_TESTLIST, J_COLLECT, J_RUN, J_PERSIST };

static const char *const state_name[] = { "mark",    "source", "bundle", "testlist",
	                                  "collect", "run",    "persist" };

struct job {
	struct node *n;
	int slot;
	struct broker_msg *msg;
	Gradeq__GradingJob *gj;
	struct store_job sj; /* points into gj */
	enum job_state st;
	bool io_pending; /* a store/fetch callback is outstanding */
	bool abandon;    /* shutdown: give the message back when the callback returns */
	int infra_tries; /* infrastructure failures on this node */
	int redis_tries; /* consecutive Redis failures of the current step */
	char *src;
	size_t src_len;
	char bundle_dir[PATH_MAX];
	struct pub_list *pub;      /* the bundle's published test list (owned) */
	struct exercise_meta meta; /* the bundle's exercise.toml */
	bool have_meta;
	struct run *run;
	struct event *timer;
	char name[80];
	/* result */
	struct store_result res;
	char *feedback, *tail, *message;
	char error[512];
	/* timing: wall clock (ms) and monotonic (ms) */
	int64_t started_ms;
	int64_t t_taken, t_marked, t_fetched, t_run_start, t_run_end, t_persist_start;
	int64_t r_spawn, r_harness, r_imported, r_tests_done, r_end, r_cpu_ms, r_cpu_tests_ms,
		r_cpu_student_ms;
};

struct node {
	struct event_base *base;
	struct node_config cfg;
	char host[256];
	struct broker *broker;
	struct store *store;
	struct runner *runner;
	struct event *ev_broker, *ev_tick, *ev_hb, *ev_pump, *ev_deadline, *ev_exit;
	struct job **slots;
	unsigned nslots, busy;
	bool paused, stopping, force, finishing, freeing;
	int exit_code;
	int64_t started_ms;
	unsigned long graded, errors, poison, revoked;
};

static void job_step(struct job *j);
static void job_persist(struct job *j);
static void check_drained(struct node *n);

/* ---- logging glue ---- */

static void broker_log(void *opaque, int level, const char *msg)
{
	/* syslog levels (syslog.h's names clash with log.h's macros) */
	enum gq_log_level l = level <= 3   ? GQ_LOG_ERR
	                      : level == 4 ? GQ_LOG_WARN
	                      : level <= 6 ? GQ_LOG_INFO
	                                   : GQ_LOG_DEBUG;
	struct node *n = opaque;
	gq_log(l, "%s: %s", strcmp(n->cfg.broker_kind, "kafka") ? "redis broker" : "kafka", msg);
}

static void job_release(struct job *j, bool done);

/* Stops a job that is not persisting: a running sandbox is cancelled (on_run_done
 * releases the job; abandon: its result is dropped), a pending Redis step is abandoned
 * when its reply comes, a job waiting on a timer goes at once. Its offset is not marked
 * done, so the message is delivered again. */
static void job_stop(struct job *j, bool abandon)
{
	if (j->run) {
		j->abandon = j->abandon || abandon;
		runner_cancel(j->run);
	} else if (j->io_pending) {
		j->abandon = true;
	} else {
		evtimer_del(j->timer);
		job_release(j, false);
	}
}

static bool has_partition(const int32_t *parts, size_t n, int32_t p)
{
	for (size_t i = 0; i < n; i++)
		if (parts[i] == p)
			return true;
	return false;
}

/* Partitions taken away (a member joined or left, or our session was lost): their
 * uncommitted messages now belong to another member, which delivers them again from the
 * committed offset. Running them here too would grade them twice for nothing, so the
 * jobs of those partitions stop now (job_stop). A job that is persisting its result
 * finishes (the write is idempotent and saves the other member the run; its offset is no
 * longer ours, so broker_done() is a no-op). */
static void revoke_jobs(struct node *n, const int32_t *parts, size_t np)
{
	for (unsigned i = 0; i < n->nslots; i++) {
		struct job *j = n->slots[i];
		if (!j || !j->msg || j->abandon || j->st == J_PERSIST ||
		    !has_partition(parts, np, j->msg->partition))
			continue;
		n->revoked++;
		LOG_INFO("job %s: partition %d revoked during %s; stopped, its new owner grades it",
		         j->name, (int)j->msg->partition, state_name[j->st]);
		job_stop(j, true);
	}
}

static void on_rebalance(void *opaque, bool assigned, const int32_t *parts, size_t n)
{
	struct node *nd = opaque;
	char list[256] = "";
	size_t off = 0;
	for (size_t i = 0; i < n && off < sizeof list - 16; i++)
		off += (size_t)snprintf(list + off, sizeof list - off, "%s%d", i ? "," : "",
		                        (int)parts[i]);
	LOG_INFO("partitions %s: %s", assigned ? "assigned" : "revoked", list);
	if (!assigned && !nd->freeing)
		revoke_jobs(nd, parts, n);
}

/* ---- text hygiene: everything from the sandbox is untrusted ---- */

/* Copies at most max bytes of in (its head, or its tail when tail is set), made inert by
 * rec_clean_string (valid UTF-8; C0 but newline and tab, C1, bidi controls and the
 * line separators become spaces): what is stored is safe on any terminal or page.
 * Returns a malloc'd string or NULL. */
static char *clean_text(const char *in, size_t len, size_t max, bool tail, size_t *outlen)
{
	if (!in)
		len = 0;
	if (len > max) {
		if (tail) {
			in += len - max;
			len = max;
			while (len > 0 && ((unsigned char)*in & 0xc0) == 0x80) /* mid-character */
				in++, len--;
		} else {
			len = max;
		}
	}
	char *out = rec_clean_string(in ? in : "", len);
	if (out && outlen)
		*outlen = strlen(out);
	return out;
}

static json_t *json_points(double v)
{
	v = score_round2(v);
	if (isfinite(v) && v == floor(v) && fabs(v) < 1e15)
		return json_integer((json_int_t)v);
	return json_real(isfinite(v) ? v : 0);
}

/* [{"name","passed","points","max_points","message"}] in test order. */
static char *feedback_json(const struct run_outcome *o)
{
	json_t *arr = json_array();
	if (!arr)
		return NULL;
	size_t n = o->ntests > FEEDBACK_MAX_TESTS ? FEEDBACK_MAX_TESTS : o->ntests;
	for (size_t i = 0; i < n; i++) {
		const struct run_test *t = &o->tests[i];
		char *name = clean_text(t->name, t->name ? strlen(t->name) : 0, FEEDBACK_NAME_MAX,
		                        false, NULL);
		char *msg = clean_text(t->message, t->message ? strlen(t->message) : 0,
		                       FEEDBACK_MSG_MAX, false, NULL);
		json_t *obj = json_object();
		if (!name || !msg || !obj) {
			free(name);
			free(msg);
			json_decref(obj);
			json_decref(arr);
			return NULL;
		}
		json_object_set_new(obj, "name", json_string(name));
		json_object_set_new(obj, "passed", json_boolean(t->passed));
		json_object_set_new(obj, "points", json_points(t->points));
		json_object_set_new(obj, "max_points", json_points(t->max_points));
		json_object_set_new(obj, "message", json_string(msg));
		json_array_append_new(arr, obj);
		free(name);
		free(msg);
	}
	char *s = json_dumps(arr, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(arr);
	return s;
}

/* ---- slots and the consumer ---- */

static void set_paused(struct node *n)
{
	bool want = n->stopping || n->busy >= n->nslots;
	if (want == n->paused || !n->broker)
		return;
	if ((want ? broker_pause(n->broker) : broker_resume(n->broker)) == 0)
		n->paused = want;
}

static void job_free(struct job *j)
{
	if (j->gj)
		codec_job_free(j->gj);
	if (j->timer)
		event_free(j->timer);
	free(j->src);
	pub_free(j->pub);
	free(j->feedback);
	free(j->tail);
	free(j->message);
	free(j);
}

/* Ends the job: its message is done (result persisted, or nothing to do) or given back
 * (will be delivered again). Frees the slot. */
static void job_release(struct job *j, bool done)
{
	struct node *n = j->n;
	if (j->msg) {
		if (done)
			broker_done(n->broker, j->msg);
		else
			broker_msg_free(n->broker, j->msg);
		j->msg = NULL;
	}
	n->slots[j->slot] = NULL;
	n->busy--;
	job_free(j);
	if (!n->freeing) {
		event_active(n->ev_pump, 0, 0);
		check_drained(n);
	}
}

static void arm(struct job *j, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };
	evtimer_add(j->timer, &tv);
}

static void redis_refused(struct job *j, const char *why, enum rerr_kind k);

/* Redis did not answer: repeat the current step later (no budget is charged). An error
 * reply is retried only as rerr.h allows for its kind, then the job ends in "error". */
static void redis_retry(struct job *j, const char *why)
{
	j->redis_tries++;
	const char *reply = strstr(why, STORE_ERR_REPLY);
	if (reply) {
		enum rerr_kind k = rerr_classify(reply + strlen(STORE_ERR_REPLY));
		if (!rerr_should_retry(k, j->redis_tries)) {
			redis_refused(j, why, k);
			return;
		}
	}
	int64_t ms = REDIS_BACKOFF_MIN_MS;
	for (int i = 1; i < j->redis_tries && ms < REDIS_BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > REDIS_BACKOFF_MAX_MS)
		ms = REDIS_BACKOFF_MAX_MS;
	if (j->redis_tries == 1 || j->redis_tries % 20 == 0)
		LOG_WARN("job %s: %s step waits for Redis (%s); retry in %lld ms", j->name,
		         state_name[j->st], why, (long long)ms);
	arm(j, ms);
}

/* An infrastructure error of this job: re-run it after a backoff, or record "error". */
static void infra_error(struct job *j, const char *why)
{
	j->infra_tries++;
	unsigned used = j->gj->retry + (unsigned)j->infra_tries;
	if (used <= JOB_RETRY_BUDGET && !j->n->stopping) {
		int64_t ms = (int64_t)INFRA_BACKOFF_MS << (j->infra_tries - 1);
		LOG_WARN("job %s: infrastructure error (%s); retry %u/%d in %lld ms", j->name, why,
		         used, JOB_RETRY_BUDGET, (long long)ms);
		free(j->src);
		j->src = NULL;
		j->st = J_SOURCE;
		j->redis_tries = 0;
		arm(j, ms);
		return;
	}
	if (j->n->stopping && used <= JOB_RETRY_BUDGET) {
		/* no time to retry: another node will */
		LOG_WARN("job %s: infrastructure error (%s) while stopping; giving it back",
		         j->name, why);
		job_release(j, false);
		return;
	}
	LOG_ERR("job %s: infrastructure error (%s); retry budget spent, recording error", j->name,
	        why);
	snprintf(j->error, sizeof j->error, "infrastructure error after %u retries: %s", used - 1,
	         why);
	j->res.status = "error";
	j->res.verdict = "";
	j->res.error = j->error;
	j->res.feedback = "";
	j->res.finished_ms = util_now_ms();
	job_persist(j);
}

/* Redis keeps refusing the current step with an error reply: the job ends in "error"
 * with the reason. If the error result itself is refused, the message goes to the
 * dead-letter topic (with the reason), so the slot and the partition move on. */
static void redis_refused(struct job *j, const char *why, enum rerr_kind k)
{
	struct node *n = j->n;
	if (j->st == J_PERSIST && strcmp(j->res.status, "error") == 0) {
		LOG_ERR("job %s: Redis refuses its error result too (%s, %s); dead-lettered",
		        j->name, rerr_kind_name(k), why);
		n->poison++;
		broker_dead_letter(n->broker, j->msg, why);
		j->msg = NULL;
		job_release(j, false);
		return;
	}
	LOG_ERR("job %s: Redis refuses the %s step (%s, %d tries): %s; recording error", j->name,
	        state_name[j->st], rerr_kind_name(k), j->redis_tries, why);
	snprintf(j->error, sizeof j->error, "Redis refused the %s step (%s): %s", state_name[j->st],
	         rerr_kind_name(k), why);
	j->res.status = "error";
	j->res.verdict = "";
	j->res.error = j->error;
	j->res.feedback = "";
	j->res.finished_ms = util_now_ms();
	job_persist(j);
}

/* The common start of the callbacks of a Redis command or a fetch: the job waits no
 * more; a cancelled job is released, a failed command retried (failed, with why).
 * Returns whether the callback goes on with the reply. */
static bool io_done(struct job *j, bool failed, const char *why)
{
	j->io_pending = false;
	if (j->abandon || j->n->freeing) {
		job_release(j, false);
		return false;
	}
	if (failed) {
		redis_retry(j, why);
		return false;
	}
	return true;
}

/* ---- MARK ---- */

static void on_mark(void *arg, struct redisReply *r, const char *err)
{
	struct job *j = arg;
	enum store_mark m;
	if (!io_done(j, !r, err))
		return;
	if (store_mark_parse(r, &m) < 0) {
		redis_retry(j, "unexpected reply to the mark script");
		return;
	}
	j->redis_tries = 0;
	j->t_marked = util_mono_ms();
	switch (m) {
	case STORE_MARK_STALE:
		LOG_INFO("job %s: a newer attempt exists; skipped", j->name);
		job_release(j, true);
		return;
	case STORE_MARK_FINISHED:
		LOG_INFO("job %s: already finished (redelivery); skipped", j->name);
		job_release(j, true);
		return;
	case STORE_MARK_MISSING:
		/* usual on a fast queue: the dispatcher writes the record after the ack */
		LOG_INFO("job %s: no submission record in Redis yet; grading anyway", j->name);
		break;
	case STORE_MARK_OK:
		break;
	}
	j->st = J_SOURCE;
	job_step(j);
}

/* ---- SOURCE and BUNDLE ---- */

static void on_source(void *arg, int err, const char *why, char *src, size_t len)
{
	struct job *j = arg;
	if (!io_done(j, err == -ENOTCONN, why)) {
		free(src);
		return;
	}
	j->redis_tries = 0;
	if (err < 0) {
		infra_error(j, why);
		return;
	}
	j->src = src;
	j->src_len = len;
	j->st = J_BUNDLE;
	job_step(j);
}

static void on_bundle(void *arg, int err, const char *why, const char *dir)
{
	struct job *j = arg;
	if (!io_done(j, err == -ENOTCONN, why))
		return;
	j->redis_tries = 0;
	if (err < 0) {
		infra_error(j, why);
		return;
	}
	snprintf(j->bundle_dir, sizeof j->bundle_dir, "%s", dir);
	j->t_fetched = util_mono_ms();
	/* exercise.toml (extracted with the bundle): isolation, call limit, max_points */
	char path[PATH_MAX + 32], *text = NULL, why2[256];
	size_t len;
	snprintf(path, sizeof path, "%s/exercise.toml", dir);
	memset(&j->meta, 0, sizeof j->meta);
	j->have_meta = false;
	int r = util_read_file(path, 64 * 1024, &text, &len);
	if (r == 0) {
		if (exercise_meta_parse(text, len, &j->meta, why2, sizeof why2) < 0) {
			free(text);
			infra_error(j, why2);
			return;
		}
		j->have_meta = true;
		free(text);
	}
	j->st = J_TESTLIST;
	job_step(j);
}

/* ---- TESTLIST and COLLECT: the bundle's published test list ---- */

static void pub_path(const struct job *j, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/published.json", j->bundle_dir);
}

static void have_list(struct job *j, struct pub_list *p)
{
	pub_free(j->pub);
	j->pub = p;
	char path[PATH_MAX + 32], err[256];
	pub_path(j, path, sizeof path);
	if (pub_save(p, path, err, sizeof err) < 0)
		LOG_WARN("job %s: caching the test list: %s", j->name, err);
	j->st = J_RUN;
	job_step(j);
}

static void on_list_set(void *arg, struct redisReply *r, const char *err)
{
	struct job *j = arg;
	if (!io_done(j, !r, err))
		return;
	j->redis_tries = 0;
	/* SET NX: another node may have stored the list first; the lists of one bundle are
	 * the same (collected from the bundle alone), so ours is used either way */
	struct pub_list *p = j->pub;
	j->pub = NULL;
	have_list(j, p);
}

/* ---- SANDBOX (the collect and the run steps) ---- */

/* Starts spec in the job's sandbox; cb gets the outcome. A sandbox that does not start is
 * an infrastructure error of the job (retried, then failed with the reason). */
static void sandbox_start(struct job *j, const struct run_spec *spec, run_done_cb cb)
{
	char err[256] = "";
	int r = runner_start(j->n->runner, spec, cb, j, &j->run, err, sizeof err);
	if (r < 0) {
		char why[300];
		snprintf(why, sizeof why, "sandbox did not start: %s", err[0] ? err : strerror(-r));
		infra_error(j, why);
	}
}

/* Whether a sandbox ended without an outcome, and so was handled here: a cancelled job
 * (shutdown, revoked partition) is released to be delivered again; otherwise it is an
 * infrastructure error (what: the reason when the runner gave none). */
static bool run_failed(struct job *j, const struct run_outcome *o, const char *what)
{
	struct node *n = j->n;
	if (o->kind != RUN_INFRA_ERROR)
		return false;
	if (n->force || n->freeing || j->abandon) {
		LOG_WARN("job %s: cancelled (%s); it will be delivered again", j->name,
		         o->error[0] ? o->error : what);
		job_release(j, false);
		return true;
	}
	infra_error(j, o->error[0] ? o->error : what);
	return true;
}

static void on_collect_done(struct run *run, const struct run_outcome *o, void *arg)
{
	struct job *j = arg;
	struct node *n = j->n;
	j->run = NULL;
	if (run_failed(j, o, "collecting the tests failed"))
		return;
	char why[512];
	if (strcmp(o->verdict, "ok") != 0 || !o->rec) {
		snprintf(why, sizeof why,
		         "the exercise's hidden tests cannot be collected (%s): %s", o->verdict,
		         o->error);
		infra_error(j, why);
		return;
	}
	const char **names = calloc(PUB_TESTS_MAX, sizeof *names);
	double *weights = calloc(PUB_TESTS_MAX, sizeof *weights);
	struct pub_list *p = NULL;
	size_t cnt = names && weights ? rec_collected(o->rec, names, weights, PUB_TESTS_MAX) : 0;
	if (names && weights && cnt == 0)
		snprintf(why, sizeof why, "the exercise has no hidden tests to collect");
	else if (names && weights)
		p = pub_new(cnt, names, weights, why, sizeof why);
	else
		snprintf(why, sizeof why, "out of memory");
	free(names);
	free(weights);
	if (!p) {
		infra_error(j, why);
		return;
	}
	LOG_INFO("bundle %.12s: %zu test(s) collected and published (total weight %g)",
	         j->gj->tests_hash, p->n, p->total);
	char *json = pub_json(p);
	if (!json) {
		pub_free(p);
		infra_error(j, "out of memory");
		return;
	}
	char key[128];
	snprintf(key, sizeof key, "gq:published:%s", j->gj->tests_hash);
	const char *argv[] = { "SET", key, json, "NX" };
	size_t lens[] = { 3, strlen(key), strlen(json), 2 };
	pub_free(j->pub);
	j->pub = p;
	int r = store_cmd(n->store, on_list_set, j, 4, argv, lens);
	free(json);
	if (r == 0)
		j->io_pending = true;
	else
		redis_retry(j, store_last_error(n->store));
}

static void start_collect(struct job *j)
{
	snprintf(j->name, sizeof j->name, "%.40s-list%d", j->sj.id, j->infra_tries);
	struct run_spec spec = { .name = j->name,
		                 .slot = j->slot,
		                 .bundle_dir = j->bundle_dir,
		                 .source = "",
		                 .source_len = 0,
		                 .collect = true };
	sandbox_start(j, &spec, on_collect_done);
}

static void on_list_get(void *arg, struct redisReply *r, const char *err)
{
	struct job *j = arg;
	if (!io_done(j, !r, err))
		return;
	j->redis_tries = 0;
	if (r->type == REDIS_REPLY_STRING) {
		char why[256];
		struct pub_list *p = pub_parse(r->str, r->len, why, sizeof why);
		if (p) {
			have_list(j, p);
			return;
		}
		LOG_WARN("job %s: gq:published:%.12s is invalid (%s); collecting again", j->name,
		         j->gj->tests_hash, why);
	}
	j->st = J_COLLECT;
	job_step(j);
}

/* ---- RUN ---- */

static void on_run_done(struct run *r, const struct run_outcome *o, void *arg)
{
	struct job *j = arg;
	j->run = NULL;
	j->t_run_end = util_mono_ms();
	if (run_failed(j, o, "sandbox run failed"))
		return;
	j->r_spawn = o->t_spawn;
	j->r_harness = o->t_harness;
	j->r_imported = o->t_imported;
	j->r_tests_done = o->t_tests_done;
	j->r_end = o->t_end;
	j->r_cpu_ms = o->cpu_ms;
	j->r_cpu_tests_ms = o->cpu_tests_ms;
	j->r_cpu_student_ms = o->cpu_student_ms;
	j->feedback = feedback_json(o);
	j->tail = clean_text(o->output_tail, o->output_tail_len, STORE_OUTPUT_TAIL_MAX, true,
	                     &j->res.output_tail_len);
	size_t mlen;
	j->message = clean_text(o->error, strnlen(o->error, sizeof o->error), sizeof o->error,
	                        false, &mlen);
	if (!j->feedback || !j->tail || !j->message) {
		infra_error(j, "out of memory building the result");
		return;
	}
	if (o->unlisted)
		LOG_WARN("job %s: %zu report(s) of tests that are not in the published list "
		         "(ignored)",
		         j->name, o->unlisted);
	j->res.status = "done";
	j->res.isolation = o->isolation;
	j->res.runner = o->runner;
	j->res.verdict = o->verdict ? o->verdict : "crashed";
	j->res.score = o->score;
	j->res.max = o->max_score;
	j->res.feedback = j->feedback;
	j->res.error = "";
	j->res.output_tail = j->tail;
	j->res.message = j->message;
	j->res.finished_ms = util_now_ms();
	job_persist(j);
}

static void start_run(struct job *j)
{
	struct node *n = j->n;
	struct jl_limits l;
	jl_for_job(&n->cfg, j->gj->limits, &l); /* untrusted: clamped to the node's ceilings */
	if (j->infra_tries == 0)
		snprintf(j->name, sizeof j->name, "%s-%u", j->sj.id, j->sj.attempt);
	else
		snprintf(j->name, sizeof j->name, "%s-%ur%d", j->sj.id, j->sj.attempt,
		         j->infra_tries);
	struct run_spec spec = {
		.name = j->name,
		.slot = j->slot,
		.bundle_dir = j->bundle_dir,
		.source = j->src,
		.source_len = j->src_len,
		.max_points = j->have_meta ? j->meta.max_points : j->gj->max_points,
		.timeout_s = l.timeout_s,
		.memory_mb = l.memory_mb,
		.cpu_s = l.cpu_s,
		.nproc = l.nproc,
		.output_kb = l.output_kb,
		.safety_check = j->gj->safety_check,
		.pub = j->pub,
		.in_process = j->meta.in_process,
		.call_timeout_s = (unsigned)j->meta.call_timeout_s,
	};
	j->t_run_start = util_mono_ms();
	sandbox_start(j, &spec, on_run_done);
}

/* ---- PERSIST ---- */

static void log_finished(struct job *j, enum store_put p)
{
	char score[32], max[32];
	bool done = strcmp(j->res.status, "done") == 0;
	int64_t now = util_mono_ms();
	int64_t queue = j->started_ms - j->gj->submitted_ms;
	score_format(j->res.score, score, sizeof score);
	score_format(j->res.max, max, sizeof max);
#define SPAN(a, b) ((a) > 0 && (b) >= (a) ? (long long)((b) - (a)) : -1LL)
	if (done)
		LOG_INFO(
			"graded %s attempt %u: %s %s/%s | queue %lld ms, fetch %lld ms, "
			"spawn %lld ms, imports %lld ms, tests %lld ms, reap %lld ms, run %lld ms, "
			"persist %lld ms, total %lld ms, job cpu %lld ms (tests %lld, student "
			"%lld), "
			"%s %s%s%s",
			j->sj.id, j->sj.attempt, j->res.verdict, score, max,
			j->gj->submitted_ms > 0 && queue >= 0 ? (long long)queue : -1LL,
			SPAN(j->t_taken, j->t_fetched), SPAN(j->r_spawn, j->r_harness),
			SPAN(j->r_harness, j->r_imported), SPAN(j->r_imported, j->r_tests_done),
			SPAN(j->r_tests_done, j->r_end), SPAN(j->t_run_start, j->t_run_end),
			SPAN(j->t_persist_start, now), SPAN(j->t_taken, now),
			(long long)j->r_cpu_ms, (long long)j->r_cpu_tests_ms,
			(long long)j->r_cpu_student_ms, j->res.runner ? j->res.runner : "?",
			j->res.isolation ? j->res.isolation : "?",
			p == STORE_PUT_AGAIN ? " (again)" : "",
			p == STORE_PUT_STALE ? " (stale: newer attempt kept)" : "");
	else
		LOG_WARN("graded %s attempt %u: error (%s)%s | total %lld ms", j->sj.id,
		         j->sj.attempt, j->error, p == STORE_PUT_KEPT ? " (done result kept)" : "",
		         SPAN(j->t_taken, now));
#undef SPAN
}

static void on_put(void *arg, struct redisReply *r, const char *err)
{
	struct job *j = arg;
	struct node *n = j->n;
	enum store_put p;
	j->io_pending = false;
	if (r && store_put_parse(r, &p) == 0) {
		log_finished(j, p);
		if (strcmp(j->res.status, "done") == 0)
			n->graded++;
		else
			n->errors++;
		job_release(j, true); /* persisted: the offset may move past it */
		return;
	}
	if (j->abandon || n->freeing) {
		LOG_ERR("job %s: result not persisted before exit (%s); it will be graded again",
		        j->name, r ? "unexpected reply" : err);
		job_release(j, false);
		return;
	}
	redis_retry(j, r ? "unexpected reply to the result script" : err);
}

static void job_persist(struct job *j)
{
	j->st = J_PERSIST;
	j->redis_tries = 0;
	j->res.job = j->sj;
	j->res.node = j->n->cfg.id;
	j->res.started_ms = j->started_ms;
	j->t_persist_start = util_mono_ms();
	job_step(j);
}

/* ---- the state machine ---- */

static void job_step(struct job *j)
{
	struct node *n = j->n;
	int r = 0;
	switch (j->st) {
	case J_MARK:
		r = store_mark_grading(n->store, &j->sj, n->cfg.id, j->started_ms, on_mark, j);
		break;
	case J_SOURCE:
		r = fetch_source(n->store, j->gj->source_key, j->gj->source_sha256.data, on_source,
		                 j);
		break;
	case J_BUNDLE: {
		char dir[PATH_MAX];
		if (fetch_bundle_cached(n->cfg.cache_dir, j->gj->tests_hash, dir, sizeof dir) ==
		    0) {
			on_bundle(j, 0, "", dir);
			return;
		}
		r = fetch_bundle(n->store, n->cfg.cache_dir, j->gj->tests_hash, on_bundle, j);
		break;
	}
	case J_TESTLIST: {
		char path[PATH_MAX + 32], why[256];
		int rc;
		pub_path(j, path, sizeof path);
		struct pub_list *p = pub_load(path, &rc, why, sizeof why);
		if (p) {
			pub_free(j->pub);
			j->pub = p;
			j->st = J_RUN;
			start_run(j);
			return;
		}
		char key[128];
		snprintf(key, sizeof key, "gq:published:%s", j->gj->tests_hash);
		const char *argv[] = { "GET", key };
		size_t lens[] = { 3, strlen(key) };
		r = store_cmd(n->store, on_list_get, j, 2, argv, lens);
		break;
	}
	case J_COLLECT:
		start_collect(j);
		return;
	case J_RUN:
		start_run(j);
		return;
	case J_PERSIST:
		r = store_put_result(n->store, &j->res, on_put, j);
		break;
	}
	if (r == 0) {
		j->io_pending = true;
	} else if (r == -ENOTCONN) {
		redis_retry(j, store_last_error(n->store));
	} else {
		redis_retry(j, strerror(-r)); /* ENOMEM: try again later */
	}
}

static void job_timer(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;
	if (j->abandon) {
		job_release(j, false);
		return;
	}
	job_step(j);
}

static void take(struct node *n, struct broker_msg *m)
{
	Gradeq__GradingJob *gj = NULL;
	char err[256], reason[320];
	int r = codec_job_decode(m->payload, m->len, &gj, err, sizeof err);
	if (r < 0) {
		snprintf(reason, sizeof reason, "undecodable job (%s): %s",
		         r == -EMSGSIZE          ? "too large"
		         : r == -EPROTONOSUPPORT ? "unsupported schema"
		                                 : "bad message",
		         err);
		LOG_WARN("message %d@%lld: %s; sent to the dead-letter topic", (int)m->partition,
		         (long long)m->offset, reason);
		n->poison++;
		broker_dead_letter(n->broker, m, reason);
		return;
	}
	unsigned slot = 0;
	while (slot < n->nslots && n->slots[slot])
		slot++;
	struct job *j = calloc(1, sizeof *j);
	if (j)
		j->timer = evtimer_new(n->base, job_timer, j);
	if (slot == n->nslots || !j || !j->timer) { /* cannot happen / ENOMEM: give it back */
		LOG_ERR("cannot take message %d@%lld now", (int)m->partition, (long long)m->offset);
		if (j)
			free(j);
		codec_job_free(gj);
		broker_msg_free(n->broker, m);
		return;
	}
	j->n = n;
	j->slot = (int)slot;
	j->msg = m;
	j->gj = gj;
	j->sj = (struct store_job){ .id = gj->submission_id,
		                    .course = gj->course,
		                    .exercise = gj->exercise,
		                    .student = gj->student,
		                    .attempt = gj->attempt };
	snprintf(j->name, sizeof j->name, "%s-%u", gj->submission_id, gj->attempt);
	j->started_ms = util_now_ms();
	j->t_taken = util_mono_ms();
	j->st = J_MARK;
	n->slots[slot] = j;
	n->busy++;
	LOG_DEBUG("job %s: taken from %d@%lld into slot %u (%s/%s/%s, retry %u)", j->name,
	          (int)m->partition, (long long)m->offset, slot, gj->course, gj->exercise,
	          gj->student, gj->retry);
	job_step(j);
}

static void pump(struct node *n)
{
	if (n->stopping || !n->broker)
		return;
	for (int i = 0; i < PUMP_BATCH && n->busy < n->nslots; i++) {
		struct broker_msg *m = NULL;
		int r = broker_next(n->broker, &m);
		if (r < 0) {
			LOG_WARN("consumer: %s", strerror(-r));
			break;
		}
		if (r == 0)
			break;
		take(n, m);
		if (i == PUMP_BATCH - 1)
			event_active(n->ev_pump, 0, 0); /* more next turn */
	}
	set_paused(n);
}

/* ---- events ---- */

static void on_broker_fd(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	broker_poll(n->broker);
	pump(n);
}

static void on_pump(evutil_socket_t fd, short what, void *arg)
{
	pump(arg);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	if (n->broker && !n->finishing)
		broker_poll(n->broker);
	pump(n);
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	if (!store_up(n->store) || n->finishing)
		return;
	struct heartbeat_info hi = { .id = n->cfg.id,
		                     .host = n->host,
		                     .version = GRADEQ_VERSION,
		                     .slots = n->nslots,
		                     .busy = n->busy,
		                     .started_ms = n->started_ms,
		                     .now_ms = util_now_ms() };
	heartbeat_send(n->store, &hi, NULL, NULL);
}

static void on_store_state(void *arg, bool up)
{
	struct node *n = arg;
	if (!up) {
		LOG_WARN("redis: %s", store_last_error(n->store));
		return;
	}
	LOG_INFO("redis: connected to %s", n->cfg.redis_address);
	on_heartbeat(-1, 0, n);
	/* jobs waiting for Redis go now rather than at the end of their backoff */
	for (unsigned i = 0; i < n->nslots; i++) {
		struct job *j = n->slots[i];
		if (j && j->redis_tries > 0 && evtimer_pending(j->timer, NULL)) {
			evtimer_del(j->timer);
			event_active(j->timer, EV_TIMEOUT, 0);
		}
	}
}

/* ---- shutdown ---- */

static void on_exit_now(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	event_base_loopexit(n->base, NULL);
}

static void on_cleared(void *arg, struct redisReply *r, const char *err)
{
	struct node *n = arg;
	if (!n->freeing)
		event_active(n->ev_exit, 0, 0);
}

static void check_drained(struct node *n)
{
	if (!n->stopping || n->busy > 0 || n->finishing)
		return;
	n->finishing = true;
	LOG_INFO("drained (%lu graded, %lu errors, %lu dead letters, %lu stopped by a revoke); "
	         "leaving the group",
	         n->graded, n->errors, n->poison, n->revoked);
	int r = broker_close(n->broker, CLOSE_TIMEOUT_MS);
	if (r < 0) {
		LOG_WARN("consumer close: %s", strerror(-r));
		n->exit_code = 1;
	}
	/* a clean exit leaves no stale heartbeat; do not wait long for it */
	struct timeval two = { 2, 0 };
	evtimer_add(n->ev_exit, &two);
	if (!store_up(n->store) || heartbeat_clear(n->store, n->cfg.id, on_cleared, n) < 0)
		event_active(n->ev_exit, 0, 0);
}

static void force_stop(struct node *n)
{
	n->force = true;
	n->exit_code = 1;
	for (unsigned i = 0; i < n->nslots; i++) {
		struct job *j = n->slots[i];
		if (j)
			job_stop(j, false);
	}
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	LOG_ERR("drain deadline passed with %u job(s) left; giving them back", n->busy);
	force_stop(n);
}

void node_shutdown(struct node *n)
{
	if (n->stopping) {
		if (!n->force) {
			LOG_WARN("second stop signal: cancelling %u job(s)", n->busy);
			force_stop(n);
		}
		return;
	}
	n->stopping = true;
	LOG_INFO("stopping: no new jobs; waiting for %u running job(s)", n->busy);
	set_paused(n);
	/* Jobs that have not started running are given back right away (another node
	 * takes them); running ones finish within their timeouts. */
	for (unsigned i = 0; i < n->nslots; i++) {
		struct job *j = n->slots[i];
		if (!j || j->st == J_RUN || j->st == J_PERSIST)
			continue;
		if (j->io_pending) {
			j->abandon = true;
		} else {
			evtimer_del(j->timer);
			job_release(j, false);
		}
	}
	struct timeval tv = { (time_t)(n->cfg.max_timeout_s + DRAIN_GRACE_S), 0 };
	evtimer_add(n->ev_deadline, &tv);
	check_drained(n);
}

int node_exit_code(const struct node *n)
{
	return n->exit_code;
}

/* ---- construction ---- */

struct node *node_new(struct event_base *base, const struct node_config *cfg, char *err,
                      size_t errlen)
{
	struct node *n = calloc(1, sizeof *n);
	if (!n) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n->base = base;
	n->cfg = *cfg;
	n->nslots = (unsigned)cfg->slots;
	n->started_ms = util_now_ms();
	if (gethostname(n->host, sizeof n->host - 1) != 0)
		snprintf(n->host, sizeof n->host, "unknown");
	n->slots = calloc(n->nslots, sizeof *n->slots);
	if (!n->slots) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	int r = util_mkdir_p(cfg->cache_dir, 0755);
	if (r == 0)
		r = util_mkdir_p(cfg->work_dir, 0711);
	if (r < 0) {
		snprintf(err, errlen, "cannot create %s or %s: %s", cfg->cache_dir, cfg->work_dir,
		         strerror(-r));
		goto fail;
	}

	/* Job cgroups live under a parent of this node's own: two nodes on one host can be
	 * handed the same job during a rebalance, and must never share (and so kill) its
	 * cgroup.
	 * The work dir's hash tells apart two nodes of the same id on one host (two local
	 * clusters, a test cluster beside a real node). */
	char cg_parent[GQ_NAME_MAX + 1];
	char wh[65];
	util_sha256_hex(cfg->work_dir, strlen(cfg->work_dir), wh);
	if (strlen(cfg->id) + sizeof "gradeq--12345678" - 1 <= GQ_NAME_MAX) {
		snprintf(cg_parent, sizeof cg_parent, "gradeq-%.48s-%.8s", cfg->id, wh);
	} else {
		char h[65];
		util_sha256_hex(cfg->id, strlen(cfg->id), h);
		snprintf(cg_parent, sizeof cg_parent, "gradeq-%.16s-%.8s", h, wh);
	}
	struct runner_config rc = {
		.mode = strcmp(cfg->runner_mode, "cold") == 0    ? RUNNER_COLD
		        : strcmp(cfg->runner_mode, "bwrap") == 0 ? RUNNER_BWRAP
		                                                 : RUNNER_WARM,
		.slots = n->nslots,
		.cgroup_name = cg_parent,
		.use_bubblewrap = cfg->use_bubblewrap,
		.venv = cfg->venv,
		.runtime = cfg->runtime,
		.jail_lib = cfg->jail_lib,
		.work_root = cfg->work_dir,
		.base_uid = (unsigned)cfg->sandbox_uid,
		.tests_uid = (unsigned)cfg->tests_uid,
		.cpu_s = (unsigned)cfg->rl_cpu,
		.nproc = (unsigned)cfg->rl_nproc,
		.nofile = (unsigned)cfg->rl_nofile,
		.as_mb = (unsigned)cfg->rl_as,
		.fsize_mb = (unsigned)cfg->rl_fsize,
		.stack_mb = (unsigned)cfg->rl_stack,
		.timeout_s = (unsigned)cfg->timeout_s,
		.max_timeout_s = (unsigned)cfg->max_timeout_s,
		.memory_mb = (unsigned)cfg->memory_mb,
		.max_memory_mb = (unsigned)cfg->max_memory_mb,
		.output_kb = (unsigned)cfg->output_kb,
		.tmp_mb = (unsigned)cfg->tmp_mb,
	};
	if (!cfg->use_bubblewrap)
		LOG_WARN("security.use_bubblewrap = false: submissions run WITHOUT a sandbox");
	char why[512] = "";
	n->runner = runner_new(base, &rc, why, sizeof why);
	if (!n->runner) {
		snprintf(err, errlen, "sandbox: %s", why);
		goto fail;
	}
	if (runner_fallback_reason(n->runner)[0])
		LOG_WARN("%s; its results record isolation \"in-process\" (forgeable: see "
		         "docs/security.md)",
		         runner_fallback_reason(n->runner));
	LOG_INFO("sandbox ready (cgroup %s, %u slot(s), %s runner, runtime %s)",
	         runner_cgroup_mode(n->runner), n->nslots, runner_mode_name(n->runner),
	         cfg->runtime);

	n->store = store_new(base, cfg->redis_host, cfg->redis_port, cfg->creds.redis_user,
	                     cfg->creds.redis_password, on_store_state, n);
	if (!n->store) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}

	bool kafka = strcmp(cfg->broker_kind, "kafka") == 0;
	struct broker_config bc = { .brokers = kafka ? cfg->kafka_brokers : cfg->redis_address,
		                    .topic = kafka ? cfg->kafka_topic : cfg->broker_stream,
		                    .group = kafka ? cfg->kafka_group : cfg->broker_group,
		                    .client_id = cfg->id,
		                    .log_cb = broker_log,
		                    .log_opaque = n,
		                    .visibility_ms = (int)cfg->visibility_timeout_s * 1000,
		                    .max_deliveries = (int)cfg->max_deliveries };
	node_config_broker_auth(cfg, &bc.auth);
	n->broker = kafka ? broker_kafka_consumer_new(&bc, on_rebalance, n, why, sizeof why)
	                  : broker_redis_consumer_new(&bc, on_rebalance, n, why, sizeof why);
	if (!n->broker) {
		snprintf(err, errlen, "%s", why);
		goto fail;
	}

	n->ev_broker = event_new(base, broker_fd(n->broker), EV_READ | EV_PERSIST, on_broker_fd, n);
	n->ev_tick = event_new(base, -1, EV_PERSIST, on_tick, n);
	n->ev_hb = event_new(base, -1, EV_PERSIST, on_heartbeat, n);
	n->ev_pump = event_new(base, -1, 0, on_pump, n);
	n->ev_deadline = evtimer_new(base, on_deadline, n);
	n->ev_exit = evtimer_new(base, on_exit_now, n);
	if (!n->ev_broker || !n->ev_tick || !n->ev_hb || !n->ev_pump || !n->ev_deadline ||
	    !n->ev_exit) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	struct timeval tick = { 0, TICK_MS * 1000 };
	struct timeval hb = { HEARTBEAT_INTERVAL_MS / 1000, (HEARTBEAT_INTERVAL_MS % 1000) * 1000 };
	event_add(n->ev_broker, NULL);
	event_add(n->ev_tick, &tick);
	event_add(n->ev_hb, &hb);
	if (kafka)
		LOG_INFO("node %s: %u slot(s), kafka %s topic %s group %s, redis %s", cfg->id,
		         n->nslots, cfg->kafka_brokers, cfg->kafka_topic, cfg->kafka_group,
		         cfg->redis_address);
	else
		LOG_INFO("node %s: %u slot(s), redis stream %s group %s (visibility %llds, %lld "
		         "deliveries at most), redis %s",
		         cfg->id, n->nslots, cfg->broker_stream, cfg->broker_group,
		         cfg->visibility_timeout_s, cfg->max_deliveries, cfg->redis_address);
	return n;
fail:
	node_free(n);
	return NULL;
}

void node_free(struct node *n)
{
	if (!n)
		return;
	n->freeing = true;
	/* Order matters: cancelled runs and failed Redis callbacks release their jobs, and a
	 * released job gives its message back to the broker, which goes last. */
	runner_free(n->runner);
	store_free(n->store);
	for (unsigned i = 0; n->slots && i < n->nslots; i++)
		if (n->slots[i])
			job_release(n->slots[i], false);
	struct event *evs[] = { n->ev_broker, n->ev_tick,     n->ev_hb,
		                n->ev_pump,   n->ev_deadline, n->ev_exit };
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		if (evs[i])
			event_free(evs[i]);
	broker_free(n->broker);
	free(n->slots);
	free(n);
}
