/* suppressed lines; see suppfmt.h and docs/events.md. */
#include "log/suppfmt.h"

#include <stdio.h>

#include "log/eventlog.h"

static const char *const type_names[CW_EV_MAX] = {
	[CW_EV_EXEC] = "exec", [CW_EV_EXEC_FAIL] = "exec_fail", [CW_EV_FORK] = "fork",
	[CW_EV_EXIT] = "exit", [CW_EV_SIGNAL] = "signal", [CW_EV_OOM] = "oom", [CW_EV_RENAME] = "rename",
};

uint64_t cw_supp_delta(const struct cw_supp_counts *now, const struct cw_supp_counts *prev)
{
	uint64_t d = 0;

	for (int t = 1; t < CW_EV_MAX; t++)
		d += now->by_type[t] - prev->by_type[t];
	return d;
}

static uint64_t prev_of(const struct cw_supp_counts *prev, uint32_t uid)
{
	for (uint64_t i = 0; i < prev->nuid; i++)
		if (prev->uid[i].uid == uid)
			return prev->uid[i].n;
	return 0;
}

void cw_fmt_suppressed(struct jw *w, uint64_t realtime_ns, uint32_t pid, const struct cw_supp_counts *now,
		       const struct cw_supp_counts *prev, uint64_t total)
{
	char key[16];

	cw_line_begin(w, "suppressed", realtime_ns, pid);
	jw_str(w, "reason", "rate_limit");
	jw_uint(w, "count", cw_supp_delta(now, prev));
	jw_obj_begin(w, "by_type");
	for (int t = 1; t < CW_EV_MAX; t++)
		if (now->by_type[t] != prev->by_type[t])
			jw_uint(w, type_names[t], now->by_type[t] - prev->by_type[t]);
	jw_obj_end(w);
	jw_obj_begin(w, "by_uid");
	for (uint64_t i = 0; i < now->nuid; i++) {
		uint64_t was = prev_of(prev, now->uid[i].uid);
		if (now->uid[i].n <= was)
			continue;
		snprintf(key, sizeof(key), "%u", now->uid[i].uid);
		jw_uint(w, key, now->uid[i].n - was);
	}
	jw_obj_end(w);
	jw_uint(w, "total", total);
	jw_end(w);
}
