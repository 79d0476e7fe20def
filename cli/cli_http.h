/* cli_http.h - the CLI's calls to the dispatcher (docs/http-api.md) over libcurl.
 * One request at a time with cli_http_call(); the batch command drives many through
 * curl multi with cli_http_easy_new() and cli_http_finish(). Every failure becomes one
 * line a person can act on: transport errors name the URL and suggest starting the
 * cluster, HTTP errors carry the server's JSON "error". */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

struct cli_resp {
	long status; /* HTTP status, 0 when no response arrived */
	char *body;  /* malloc'd, NUL-terminated (may be empty) */
	size_t len;
	long retry_after;   /* seconds from Retry-After, -1 when absent */
	char curl_err[256]; /* transport error text when status is 0 */
};

/* A request being built for curl multi. Owns its easy handle, headers and buffers. */
struct cli_req;

/* Makes a request: method "GET" | "POST" | "PUT"; path starts with '/'; body may be
 * NULL. The body is referenced, not copied: it must outlive the request. */
struct cli_req *cli_http_req_new(const struct cli_env *env, const char *method, const char *path,
                                 const char *content_type, const void *body, size_t len,
                                 long timeout_s);
void cli_req_free(struct cli_req *r);
/* The CURL easy handle of r (void * to keep curl.h out of most modules). */
void *cli_req_easy(struct cli_req *r);
/* After curl reported r done with code curl_code: fills resp (ownership of the body
 * moves to resp; free with cli_resp_clear). */
void cli_req_finish(struct cli_req *r, int curl_code, struct cli_resp *resp);

/* Blocking request (its own easy handle). Returns 0 when a response arrived (any
 * status), -EIO on a transport error; resp filled in both cases. */
int cli_http_call(const struct cli_env *env, const char *method, const char *path,
                  const char *content_type, const void *body, size_t len, long timeout_s,
                  struct cli_resp *resp);
void cli_resp_clear(struct cli_resp *resp);

/* One-line reason for a failed response: the transport error ("cannot reach dispatcher
 * at URL: ... (is the cluster up? scripts/cluster up)") or the server's "error" with
 * the status. */
void cli_resp_reason(const struct cli_env *env, const struct cli_resp *resp, char *out,
                     size_t outlen);

/* cli_http_call() expecting status want (or any 2xx when want is 0) and a JSON object
 * body. Returns the parsed object (caller json_decref) or NULL with err. */
json_t *cli_http_json(const struct cli_env *env, const char *method, const char *path,
                      const char *content_type, const void *body, size_t len, long timeout_s,
                      char *err, size_t errlen);

/* Initialises libcurl once per process (call from main). */
int cli_http_global_init(void);
void cli_http_global_cleanup(void);
