/* cli_http.c - libcurl requests to the dispatcher with timeouts and one-line errors. */
#include "cli_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "token.h"
#include "util.h"

#define CLI_CONNECT_TIMEOUT_MS 5000L
#define CLI_MAX_RESPONSE (64L * 1024 * 1024)

struct cli_req {
	CURL *easy;
	struct curl_slist *headers;
	char *buf; /* response body */
	size_t len, cap;
	bool too_big;
	long retry_after;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct cli_req *r = userdata;
	size_t n = size * nmemb;

	if (r->len + n > (size_t)CLI_MAX_RESPONSE) {
		r->too_big = true;
		return 0; /* aborts the transfer */
	}
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		while (cap < r->len + n + 1)
			cap *= 2;
		char *nb = realloc(r->buf, cap);
		if (!nb)
			return 0;
		r->buf = nb;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, ptr, n);
	r->len += n;
	r->buf[r->len] = '\0';
	return n;
}

static size_t on_header(char *line, size_t size, size_t nitems, void *userdata)
{
	struct cli_req *r = userdata;
	size_t n = size * nitems;
	static const char name[] = "retry-after:";

	if (n > sizeof name - 1 && strncasecmp(line, name, sizeof name - 1) == 0) {
		char v[32];
		size_t vl = n - (sizeof name - 1);
		if (vl >= sizeof v)
			vl = sizeof v - 1;
		memcpy(v, line + sizeof name - 1, vl);
		v[vl] = '\0';
		/* trim spaces and CRLF; Retry-After as an HTTP date is treated as absent */
		char *s = v;
		while (*s == ' ' || *s == '\t')
			s++;
		char *e = s + strlen(s);
		while (e > s && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
			*--e = '\0';
		long long secs;
		if (util_parse_ll(s, 0, 86400, &secs) == 0)
			r->retry_after = (long)secs;
	}
	return n;
}

struct cli_req *cli_http_req_new(const struct cli_env *env, const char *method, const char *path,
                                 const char *content_type, const void *body, size_t len,
                                 long timeout_s)
{
	struct cli_req *r = calloc(1, sizeof *r);
	char url[2048], hdr[GQ_TOKEN_MAX + 64];

	if (!r)
		return NULL;
	r->retry_after = -1;
	r->easy = curl_easy_init();
	if (!r->easy)
		goto fail;
	snprintf(url, sizeof url, "%s%s", env->url, path);
	if (env->token) {
		snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", env->token);
		r->headers = curl_slist_append(r->headers, hdr);
	}
	if (content_type) {
		snprintf(hdr, sizeof hdr, "Content-Type: %s", content_type);
		r->headers = curl_slist_append(r->headers, hdr);
	}
	/* no "Expect: 100-continue" round trip for large bodies */
	r->headers = curl_slist_append(r->headers, "Expect:");
	r->headers = curl_slist_append(r->headers, "Accept: application/json");
	if (!r->headers)
		goto fail;

	CURL *e = r->easy;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "gradeq/" GRADEQ_VERSION);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CLI_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, timeout_s > 0 ? timeout_s : 60L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? (const char *)body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
	}
	return r;
fail:
	cli_req_free(r);
	return NULL;
}

void cli_req_free(struct cli_req *r)
{
	if (!r)
		return;
	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r->buf);
	free(r);
}

void *cli_req_easy(struct cli_req *r)
{
	return r->easy;
}

void cli_req_finish(struct cli_req *r, int curl_code, struct cli_resp *resp)
{
	memset(resp, 0, sizeof *resp);
	resp->retry_after = r->retry_after;
	if (curl_code != CURLE_OK) {
		if (r->too_big)
			snprintf(resp->curl_err, sizeof resp->curl_err,
			         "response larger than %ld bytes", CLI_MAX_RESPONSE);
		else
			snprintf(resp->curl_err, sizeof resp->curl_err, "%s",
			         r->errbuf[0] ? r->errbuf : curl_easy_strerror(curl_code));
	} else {
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &resp->status);
	}
	resp->body = r->buf ? r->buf : strdup("");
	resp->len = r->buf ? r->len : 0;
	r->buf = NULL;
	r->len = r->cap = 0;
}

int cli_http_call(const struct cli_env *env, const char *method, const char *path,
                  const char *content_type, const void *body, size_t len, long timeout_s,
                  struct cli_resp *resp)
{
	struct cli_req *r = cli_http_req_new(env, method, path, content_type, body, len, timeout_s);
	if (!r) {
		memset(resp, 0, sizeof *resp);
		snprintf(resp->curl_err, sizeof resp->curl_err, "out of memory");
		return -EIO;
	}
	CURLcode rc = curl_easy_perform(r->easy);
	cli_req_finish(r, rc, resp);
	cli_req_free(r);
	return resp->status ? 0 : -EIO;
}

void cli_resp_clear(struct cli_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
}

void cli_resp_reason(const struct cli_env *env, const struct cli_resp *resp, char *out,
                     size_t outlen)
{
	if (resp->status == 0) {
		snprintf(
			out, outlen,
			"cannot reach dispatcher at %s: %s (is the cluster up? scripts/cluster up)",
			env->url, resp->curl_err);
		return;
	}
	json_t *j = resp->body ? json_loadb(resp->body, resp->len, 0, NULL) : NULL;
	const char *msg = j ? json_string_value(json_object_get(j, "error")) : NULL;
	if (msg && *msg) {
		/* keep it one line whatever the server sent */
		char line[512];
		snprintf(line, sizeof line, "%s", msg);
		for (char *p = line; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		snprintf(out, outlen, "%s (HTTP %ld)", line, resp->status);
	} else {
		snprintf(out, outlen, "dispatcher answered HTTP %ld without an error message",
		         resp->status);
	}
	json_decref(j);
}

json_t *cli_http_json(const struct cli_env *env, const char *method, const char *path,
                      const char *content_type, const void *body, size_t len, long timeout_s,
                      char *err, size_t errlen)
{
	struct cli_resp resp;
	json_t *j = NULL;

	cli_http_call(env, method, path, content_type, body, len, timeout_s, &resp);
	if (resp.status < 200 || resp.status > 299) {
		cli_resp_reason(env, &resp, err, errlen);
		goto out;
	}
	json_error_t jerr;
	j = json_loadb(resp.body, resp.len, 0, &jerr);
	if (!j || !json_is_object(j)) {
		snprintf(err, errlen, "dispatcher sent a malformed answer to %s %s: %s", method,
		         path, j ? "not a JSON object" : jerr.text);
		json_decref(j);
		j = NULL;
	}
out:
	cli_resp_clear(&resp);
	return j;
}

int cli_http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void cli_http_global_cleanup(void)
{
	curl_global_cleanup();
}
