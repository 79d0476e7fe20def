/* broker_lag.c - the adapter-independent half of the queue-lag monitor (broker.h): a
 * thread that calls the adapter's refresh every interval and keeps the latest snapshot;
 * readers copy it under the mutex and never wait for the cluster. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker_int.h"

struct broker_lag {
	broker_lag_refresh_fn refresh;
	void (*ctx_free)(void *ctx);
	void *ctx; /* owned */
	int interval_ms;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	/* the snapshot, under mu */
	struct broker_lag_part *parts;
	size_t n;
	int64_t taken_ms;
	int state; /* -EAGAIN none yet, 0 ok, -EIO last refresh failed */
	char error[256];
};

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *lag_thread(void *arg)
{
	struct broker_lag *l = arg;
	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		pthread_mutex_unlock(&l->mu);
		struct broker_lag_part *parts = NULL;
		size_t n = 0;
		char why[256] = "";
		int rc = l->refresh(l->ctx, &parts, &n, why, sizeof why);
		pthread_mutex_lock(&l->mu);
		if (rc == 0) {
			free(l->parts);
			l->parts = parts;
			l->n = n;
			l->taken_ms = wall_ms();
			l->state = 0;
			l->error[0] = '\0';
		} else {
			l->state = -EIO;
			snprintf(l->error, sizeof l->error, "%s", why);
		}
		if (l->stop)
			break;
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += l->interval_ms / 1000;
		until.tv_nsec += (long)(l->interval_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!l->stop && pthread_cond_timedwait(&l->cv, &l->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

struct broker_lag *broker_lag_start(broker_lag_refresh_fn refresh, void (*ctx_free)(void *),
                                    void *ctx, int interval_ms, char *err, size_t errlen)
{
	struct broker_lag *l = calloc(1, sizeof *l);
	if (!l) {
		snprintf(err, errlen, "lag monitor: out of memory");
		ctx_free(ctx);
		return NULL;
	}
	l->refresh = refresh;
	l->ctx_free = ctx_free;
	l->ctx = ctx;
	l->interval_ms = interval_ms;
	l->state = -EAGAIN;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	int r = pthread_create(&l->thread, NULL, lag_thread, l);
	if (r != 0) {
		snprintf(err, errlen, "lag monitor: thread: %s", strerror(r));
		broker_lag_free(l);
		return NULL;
	}
	l->started = true;
	return l;
}

int broker_lag_get(struct broker_lag *l, struct broker_lag_part *out, size_t max, int64_t *taken_ms,
                   char *err, size_t errlen)
{
	if (!l || (!out && max))
		return -EINVAL;
	pthread_mutex_lock(&l->mu);
	int rc = l->state;
	if (rc == 0) {
		size_t n = l->n < max ? l->n : max;
		memcpy(out, l->parts, n * sizeof *out);
		if (taken_ms)
			*taken_ms = l->taken_ms;
		rc = (int)n;
	} else if (rc == -EIO) {
		snprintf(err, errlen, "%s", l->error);
	} else {
		snprintf(err, errlen, "not measured yet");
	}
	pthread_mutex_unlock(&l->mu);
	return rc;
}

void broker_lag_free(struct broker_lag *l)
{
	if (!l)
		return;
	if (l->started) {
		pthread_mutex_lock(&l->mu);
		l->stop = true;
		pthread_cond_signal(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->thread, NULL);
	}
	if (l->ctx_free)
		l->ctx_free(l->ctx);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l->parts);
	free(l);
}
