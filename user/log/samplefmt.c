/* Broker samples as `sample` lines; see samplefmt.h. */
#include "log/samplefmt.h"

#include <stdio.h>
#include <unistd.h>

#include "log/eventlog.h"

static void queue_json(struct jw *w, const struct cw_queue_depth *q)
{
	char key[8];

	jw_obj_begin(w, NULL);
	jw_str(w, "queue", q->queue);
	jw_int(w, "depth", q->depth);
	jw_obj_begin(w, "by_priority");
	for (int p = 0; p < CW_NPRIO; p++) {
		snprintf(key, sizeof(key), "%d", cw_priority_steps[p]);
		jw_int(w, key, q->by_priority[p]);
	}
	jw_obj_end(w);
	if (q->arrived >= 0)
		jw_int(w, "arrived", q->arrived);
	else
		jw_null(w, "arrived");
	if (q->drained >= 0)
		jw_int(w, "drained", q->drained);
	else
		jw_null(w, "drained");
	if (q->error)
		jw_str(w, "error", q->error);
	jw_obj_end(w);
}

/* A count, or null when Redis did not answer or the count is unknown (-1). */
static void count_or_null(struct jw *w, const char *key, bool ok, int64_t v)
{
	if (ok && v >= 0)
		jw_int(w, key, v);
	else
		jw_null(w, key);
}

void cw_sample_json(struct jw *w, const struct cw_sample *s)
{
	jw_reset(w);
	cw_line_begin(w, "sample", s->realtime_ns, (uint32_t)getpid());
	jw_bool(w, "redis_ok", s->redis_ok);
	if (!s->redis_ok)
		jw_str(w, "error", s->error);
	jw_arr_begin(w, "queues");
	for (size_t i = 0; s->redis_ok && i < s->nqueues; i++)
		queue_json(w, &s->queues[i]);
	jw_arr_end(w);
	count_or_null(w, "unacked", s->redis_ok, s->unacked);
	count_or_null(w, "unacked_index", s->redis_ok, s->unacked_index);
	jw_double(w, "latency_ms", s->latency_ms, 3);
	if (s->queues_omitted)
		jw_uint(w, "queues_omitted", s->queues_omitted);
	if (s->dropped_before)
		jw_uint(w, "dropped_samples", s->dropped_before);
	jw_end(w);
}
