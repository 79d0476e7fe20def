/* codec.h - encode and decode GradingJob / GradingResult (proto/gradeq.proto).
 * Decoding treats the bytes as hostile: size cap first, then protobuf-c, then a check of
 * every field (schema version, names, hash formats, limits). */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "gradeq.pb-c.h"

#define GQ_SCHEMA_VERSION 1
#define GQ_JOB_MAX_BYTES (64 * 1024)
#define GQ_RESULT_MAX_BYTES (4 * 1024 * 1024)

/* Returns a malloc'd buffer (caller frees) with *len set, or NULL on ENOMEM. */
uint8_t *codec_job_encode(const Gradeq__GradingJob *job, size_t *len);
uint8_t *codec_result_encode(const Gradeq__GradingResult *res, size_t *len);

/* Decodes and validates. On success returns 0 and *out (free with codec_job_free).
 * -EMSGSIZE: over the cap; -EBADMSG: not protobuf or a field fails validation;
 * -EPROTONOSUPPORT: unknown schema_version. err says which field. *out untouched on error. */
int codec_job_decode(const uint8_t *buf, size_t len, Gradeq__GradingJob **out, char *err,
                     size_t errlen);
void codec_job_free(Gradeq__GradingJob *job);

int codec_result_decode(const uint8_t *buf, size_t len, Gradeq__GradingResult **out, char *err,
                        size_t errlen);
void codec_result_free(Gradeq__GradingResult *res);
