/* kafka_conf.c - see kafka_conf.h. */
#include "kafka_conf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int kconf_set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err, size_t errlen)
{
	char why[256];
	if (rd_kafka_conf_set(conf, k, v, why, sizeof why) != RD_KAFKA_CONF_OK) {
		snprintf(err, errlen, "kafka setting %s=%s: %s", k,
		         strcmp(k, "sasl.password") ? v : "(hidden)", why);
		return -EINVAL;
	}
	return 0;
}

int kconf_apply(rd_kafka_conf_t *conf, const struct kconf_kv *kvs, size_t n,
                const struct broker_config *cfg, char *err, size_t errlen)
{
	const struct broker_auth *a = &cfg->auth;
	const struct kconf_kv sec[] = {
		{ "security.protocol", a->security_protocol },
		{ "sasl.mechanisms", a->sasl_mechanism },
		{ "sasl.username", a->sasl_mechanism ? a->user : NULL },
		{ "sasl.password", a->sasl_mechanism ? a->password : NULL },
		{ "ssl.ca.location", a->ssl_ca_file },
	};
	const char *const *props = cfg->props;
	for (size_t i = 0; i < n; i++)
		if (kvs[i].v && kconf_set(conf, kvs[i].k, kvs[i].v, err, errlen) < 0)
			return -EINVAL;
	for (size_t i = 0; i < sizeof sec / sizeof sec[0]; i++)
		if (sec[i].v && kconf_set(conf, sec[i].k, sec[i].v, err, errlen) < 0)
			return -EINVAL;
	for (size_t i = 0; props && props[i]; i += 2) {
		if (!props[i + 1]) {
			snprintf(err, errlen, "kafka setting %s: no value", props[i]);
			return -EINVAL;
		}
		if (kconf_set(conf, props[i], props[i + 1], err, errlen) < 0)
			return -EINVAL;
	}
	return 0;
}
