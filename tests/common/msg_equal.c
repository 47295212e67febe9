/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Field-by-field equality of two decoded messages, for the protocol's
 * round-trip tests and fuzzers (not part of libmig: nothing in a program
 * compares messages).
 */
#include <stdbool.h>
#include <string.h>

#include "msg_equal.h"

static bool
delta_equal(const struct mig_msg_disk_delta *a,
    const struct mig_msg_disk_delta *b)
{
	struct mig_disk_range	x, y;
	uint32_t		i;

	if (a->index != b->index || a->size != b->size ||
	    a->flags != b->flags || a->pass != b->pass ||
	    a->nranges != b->nranges)
		return false;
	for (i = 0; i < a->nranges; i++) {
		x = mig_delta_range(a, i);
		y = mig_delta_range(b, i);
		if (x.off != y.off || x.len != y.len)
			return false;
	}
	return true;
}

static bool
disks_equal(const struct mig_msg_reserve *a, const struct mig_msg_reserve *b)
{
	uint16_t	i;

	if (a->ndisks != b->ndisks)
		return false;
	for (i = 0; i < a->ndisks && i < MIG_DISKS_MAX; i++)
		if (a->disks[i].index != b->disks[i].index ||
		    a->disks[i].kind != b->disks[i].kind ||
		    a->disks[i].size != b->disks[i].size)
			return false;
	return true;
}

static bool
reserve_equal(const struct mig_msg_reserve *a, const struct mig_msg_reserve *b)
{
	return strcmp(a->name, b->name) == 0 &&
	    memcmp(a->uuid, b->uuid, MIG_UUID_LEN) == 0 &&
	    a->config_len == b->config_len &&
	    (a->config_len == 0 ||
	    memcmp(a->config, b->config, a->config_len) == 0) &&
	    a->mem_kib == b->mem_kib && a->xen_major == b->xen_major &&
	    a->xen_minor == b->xen_minor && strcmp(a->arch, b->arch) == 0 &&
	    a->page_size == b->page_size && a->flags == b->flags &&
	    a->features == b->features && disks_equal(a, b);
}

static bool
hello_equal(const struct mig_msg_hello *a, const struct mig_msg_hello *b)
{
	return strcmp(a->version, b->version) == 0 &&
	    strcmp(a->hostname, b->hostname) == 0 &&
	    a->xen_major == b->xen_major && a->xen_minor == b->xen_minor &&
	    strcmp(a->arch, b->arch) == 0 && a->page_size == b->page_size &&
	    a->mem_total_kib == b->mem_total_kib &&
	    a->mem_free_kib == b->mem_free_kib &&
	    a->features == b->features &&
	    a->max_data_frame == b->max_data_frame;
}

bool
test_msg_equal(const struct mig_msg *a, const struct mig_msg *b)
{
	const struct mig_msg_progress	*pa = &a->u.progress;
	const struct mig_msg_progress	*pb = &b->u.progress;

	if (a->type != b->type)
		return false;
	switch (a->type) {
	case MIG_MSG_HELLO:
		return hello_equal(&a->u.hello, &b->u.hello);
	case MIG_MSG_RESERVE:
		return reserve_equal(&a->u.reserve, &b->u.reserve);
	case MIG_MSG_RESERVED:
		return a->u.reserved.id == b->u.reserved.id &&
		    a->u.reserved.ttl_sec == b->u.reserved.ttl_sec &&
		    a->u.reserved.features == b->u.reserved.features;
	case MIG_MSG_REFUSED:
		return a->u.refused.reason == b->u.refused.reason &&
		    strcmp(a->u.refused.text, b->u.refused.text) == 0;
	case MIG_MSG_STREAM_START:
		return a->u.stream_start.reservation_id ==
		    b->u.stream_start.reservation_id &&
		    a->u.stream_start.flags == b->u.stream_start.flags;
	case MIG_MSG_DATA:
		return a->u.data.zstd == b->u.data.zstd &&
		    a->u.data.len == b->u.data.len && (a->u.data.len == 0 ||
		    memcmp(a->u.data.data, b->u.data.data, a->u.data.len) == 0);
	case MIG_MSG_STREAM_END:
		return a->u.stream_end.bytes == b->u.stream_end.bytes &&
		    a->u.stream_end.pages == b->u.stream_end.pages &&
		    memcmp(a->u.stream_end.digest, b->u.stream_end.digest,
		    MIG_DIGEST_LEN) == 0;
	case MIG_MSG_RECEIVED:
		return a->u.received.domid == b->u.received.domid;
	case MIG_MSG_COMMIT:
		return true;
	case MIG_MSG_ACTIVATED:
		return a->u.activated.status == b->u.activated.status &&
		    a->u.activated.domid == b->u.activated.domid &&
		    strcmp(a->u.activated.text, b->u.activated.text) == 0;
	case MIG_MSG_CANCEL:
		return strcmp(a->u.cancel.text, b->u.cancel.text) == 0;
	case MIG_MSG_ERROR:
		return a->u.error.code == b->u.error.code &&
		    strcmp(a->u.error.text, b->u.error.text) == 0;
	case MIG_MSG_PROGRESS:
		return pa->phase == pb->phase && pa->round == pb->round &&
		    pa->pages_sent == pb->pages_sent &&
		    pa->dirty_left == pb->dirty_left &&
		    pa->bytes == pb->bytes &&
		    pa->downtime_ms == pb->downtime_ms;
	case MIG_MSG_PING:
	case MIG_MSG_PONG:
		return a->u.ping.nonce == b->u.ping.nonce;
	case MIG_MSG_XL_TUNNEL:
		return a->u.xl_tunnel.flags == b->u.xl_tunnel.flags &&
		    strcmp(a->u.xl_tunnel.name, b->u.xl_tunnel.name) == 0;
	case MIG_MSG_QUERY:
		return a->u.query.reservation_id == b->u.query.reservation_id &&
		    memcmp(a->u.query.uuid, b->u.query.uuid,
		    MIG_UUID_LEN) == 0 &&
		    strcmp(a->u.query.name, b->u.query.name) == 0;
	case MIG_MSG_ANSWER:
		return a->u.answer.state == b->u.answer.state &&
		    strcmp(a->u.answer.text, b->u.answer.text) == 0;
	case MIG_MSG_STREAM_ACK:
		return a->u.stream_ack.bytes == b->u.stream_ack.bytes;
	case MIG_MSG_DISK:
		return a->u.disk.index == b->u.disk.index &&
		    a->u.disk.size == b->u.disk.size &&
		    a->u.disk.flags == b->u.disk.flags;
	case MIG_MSG_DISK_DELTA:
		return delta_equal(&a->u.disk_delta, &b->u.disk_delta);
	default:
		return false;
	}
}
