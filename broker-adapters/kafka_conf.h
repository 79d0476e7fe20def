/* kafka_conf.h - librdkafka settings from a table, with one-line errors; shared by the
 * Kafka adapter and the lag monitor. Private to broker-adapters/. */
#pragma once
#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "broker.h"

struct kconf_kv {
	const char *k, *v; /* v NULL: left at librdkafka's default */
};

/* Sets kvs[0..n), then cfg's credentials (cfg->auth: security.protocol, sasl.*,
 * ssl.ca.location), then the operator's props (cfg->props, NULL-terminated key, value
 * pairs) so that those win. 0, or -EINVAL with "kafka setting k=v: why" in err (a
 * password is never shown); conf stays the caller's either way. */
int kconf_apply(rd_kafka_conf_t *conf, const struct kconf_kv *kvs, size_t n,
                const struct broker_config *cfg, char *err, size_t errlen);
