/* broker.c - the adapter-independent half of broker.h: checks the call fits the handle
 * (producer or consumer) and dispatches through the adapter's ops table. */
#include <errno.h>
#include <stddef.h>

#include "broker_int.h"
#include "creds.h"

int broker_publish(struct broker *b, const char *key, const void *payload, size_t len,
                   broker_ack_cb cb, void *opaque)
{
	if (!b || !b->ops->publish || (!payload && len))
		return -EINVAL;
	return b->ops->publish(b, key, payload, len, cb, opaque);
}

bool broker_up(const struct broker *b)
{
	return b && b->ops->up(b);
}

int broker_next(struct broker *b, struct broker_msg **out)
{
	if (!b || !b->consumer || !out)
		return -EINVAL;
	return b->ops->next(b, out);
}

void broker_done(struct broker *b, struct broker_msg *m)
{
	if (b && m)
		b->ops->done(b, m);
}

void broker_msg_free(struct broker *b, struct broker_msg *m)
{
	if (b && m)
		b->ops->msg_free(b, m);
}

int broker_dead_letter(struct broker *b, struct broker_msg *m, const char *reason)
{
	if (!b || !b->consumer || !m)
		return -EINVAL;
	return b->ops->dead_letter(b, m, reason ? reason : "");
}

int broker_pause(struct broker *b)
{
	if (!b || !b->consumer)
		return -EINVAL;
	return b->ops->pause(b);
}

int broker_resume(struct broker *b)
{
	if (!b || !b->consumer)
		return -EINVAL;
	return b->ops->resume(b);
}

int broker_close(struct broker *b, int timeout_ms)
{
	if (!b)
		return -EINVAL;
	return b->ops->close(b, timeout_ms < 0 ? 0 : timeout_ms);
}

int broker_fd(struct broker *b)
{
	return b ? b->ops->fd(b) : -1;
}

void broker_poll(struct broker *b)
{
	if (b)
		b->ops->poll(b);
}

void broker_free(struct broker *b)
{
	if (b)
		b->ops->free(b);
}

void broker_auth_from_creds(const struct creds *k, bool kafka, struct broker_auth *out)
{
	if (!kafka) {
		*out = (struct broker_auth){ .user = k->redis_user, .password = k->redis_password };
		return;
	}
	bool sasl = creds_kafka_sasl(k);
	*out = (struct broker_auth){
		.security_protocol = k->kafka_security_protocol,
		.sasl_mechanism = sasl ? k->kafka_sasl_mechanism : NULL,
		.user = sasl ? k->kafka_sasl_username : NULL,
		.password = sasl ? k->kafka_sasl_password : NULL,
		.ssl_ca_file = k->kafka_ssl_ca_file[0] ? k->kafka_ssl_ca_file : NULL,
	};
}
