/* api_health.c - GET /healthz: are the job queue (Redis Streams or Kafka) and Redis
 * reachable right now. "broker" names the queue's state whatever its kind; "kafka" is kept
 * for a Kafka queue (older readers look for it). */
#include <string.h>

#include "api.h"
#include "disp.h"
#include "http.h"
#include "jobq.h"
#include "redis_async.h"

void api_health(struct hreq *h)
{
	bool k = jobq_up(h->d->jobq), r = rds_up(h->d->rds);
	json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "status", k && r ? "ok" : "unavailable",
	                      "broker", k ? "up" : "down", "broker_kind", h->d->cfg.broker_kind,
	                      "redis", r ? "up" : "down");
	if (strcmp(h->d->cfg.broker_kind, "kafka") == 0)
		json_object_set_new(j, "kafka", json_string(k ? "up" : "down"));
	if (k && r) {
		http_reply_json(h, 200, j);
		return;
	}
	if (!r) /* e.g. "authentication refused as user ...": what to fix */
		json_object_set_new(j, "redis_error", json_string(rds_last_error(h->d->rds)));
	/* 503 with the same fields; http_reply_unavailable would replace the body. */
	json_object_set_new(j, "error",
	                    json_string(k ? "Redis unavailable" : "grading queue unavailable"));
	http_reply_json(h, 503, j);
}
