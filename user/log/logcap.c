/* The event log's growth cap; see logcap.h. */
#include "log/logcap.h"

#include <stdio.h>
#include <string.h>

#include "log/eventlog.h"

/* Never suppressed: deaths (what explain is for), the recorder's own lines (what the log
 * knows about itself, suppressions included), and broker samples (at most one per
 * --interval, and explain's queue growth is made of them). */
static const char *const exempt[] = {
	"exit", "oom", "tracer_start", "tracer_stop", "lost", "suppressed", "dropped", "sample",
};

static bool is_exempt(const char *type)
{
	if (!type[0])
		return true;	/* not a line of ours: nothing to name it by, write it */
	for (size_t i = 0; i < sizeof(exempt) / sizeof(exempt[0]); i++)
		if (!strcmp(type, exempt[i]))
			return true;
	return false;
}

void cw_logcap_init(struct cw_logcap *c, uint64_t limit, uint64_t now_ns)
{
	memset(c, 0, sizeof(*c));
	c->limit = limit;
	c->window_ns = 60ull * 1000000000ull;
	c->window_start = now_ns;
}

static void count_type(struct cw_logcap *c, const char *type)
{
	size_t i;

	for (i = 0; i < CW_LOGCAP_TYPES && c->names[i][0]; i++)
		if (!strcmp(c->names[i], type))
			break;
	if (i == CW_LOGCAP_TYPES)
		i--;	/* more kinds than slots: the last one gathers the rest (never happens today) */
	else if (!c->names[i][0])
		snprintf(c->names[i], sizeof(c->names[i]), "%s", type);
	c->by_type[i]++;
}

bool cw_logcap_admit(struct cw_logcap *c, const char *type, uint64_t now_ns)
{
	(void)now_ns;	/* the window moves in cw_logcap_roll, every second, not here */
	if (!c->limit)
		return true;
	if (c->used < c->limit || is_exempt(type)) {
		c->used++;	/* exempt lines count too: the cap is on the log's growth */
		return true;
	}
	c->count++;
	c->total++;
	count_type(c, type);
	return false;
}

static void format_line(const struct cw_logcap *c, struct jw *w, uint64_t realtime_ns, uint32_t pid)
{
	cw_line_begin(w, "suppressed", realtime_ns, pid);
	jw_str(w, "reason", "log_cap");
	jw_uint(w, "count", c->count);
	jw_obj_begin(w, "by_type");
	for (size_t i = 0; i < CW_LOGCAP_TYPES && c->names[i][0]; i++)
		jw_uint(w, c->names[i], c->by_type[i]);
	jw_obj_end(w);
	jw_uint(w, "total", c->total);
	jw_end(w);
}

bool cw_logcap_roll(struct cw_logcap *c, uint64_t now_ns, bool force, struct jw *w,
		    uint64_t realtime_ns, uint32_t pid)
{
	bool wrote = false;

	if (!force && now_ns - c->window_start < c->window_ns)
		return false;
	if (c->count) {
		format_line(c, w, realtime_ns, pid);
		wrote = true;
	}
	c->window_start = now_ns;
	c->used = 0;
	c->count = 0;
	memset(c->names, 0, sizeof(c->names));
	memset(c->by_type, 0, sizeof(c->by_type));
	return wrote;
}
