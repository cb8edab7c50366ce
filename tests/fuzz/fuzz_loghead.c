/* libFuzzer target: one line -> the cheap type/ts read (user/log/loghead.c) and the full
 * parse (cw_lineparser_feed). When the cheap read is sure, the full parse either skips the
 * line or reads the same type and ts: --until's pre-filter never drops a line the window
 * would have kept. */
#include <stdlib.h>
#include <string.h>

#include "log/loghead.h"
#include "log/logread.h"

#include "fuzz.h"

static struct cw_lineparser *parser;

struct head {
	enum cw_log_type type;
	int64_t ts;
};

static int keep_head(const struct cw_event *ev, void *ctx)
{
	struct head *h = ctx;

	h->type = ev->type;
	h->ts = ev->ts;
	return 1;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char why[256];
	enum cw_log_type type;
	int64_t ts;
	struct head full = {CW_LOG_NONE, CW_NONE};

	if (!parser && !(parser = cw_lineparser_new()))
		abort();
	if (!size || size > 1 << 16)
		return 0;
	const char *line = (const char *)data;
	if (!cw_loghead_read(line, size, &type, &ts))
		return 0;
	if (cw_lineparser_feed(parser, line, size, "fuzz", 1, keep_head, &full, why,
			       sizeof(why)) != 1)
		return 0;	/* skipped by the full parse */
	if (full.type != type || full.ts != ts)
		abort();
	return 0;
}
