/* What logread.c and logread_pipe.c share: the parsers, json-c's reading of a line. */
#ifndef CW_LOGREAD_INT_H
#define CW_LOGREAD_INT_H

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

#include "log/jflat.h"
#include "log/logread.h"

/* Both parsers and the table they fill, reused from line to line. */
struct cw_parsers {
	struct cw_jsimd *simd;
	json_tokener *tok;
	struct cw_jflat flat;
};

int cw_parsers_init(struct cw_parsers *ps);
void cw_parsers_fini(struct cw_parsers *ps);
bool cw_line_blank(const char *s, size_t n);
/* json-c's reading of the line into ev (file and line set), in ps->flat: the reference for
 * what is accepted and for every message. NULL, or why the line is skipped. */
const char *cw_read_line_jsonc(struct cw_parsers *ps, const char *line, size_t n,
			       struct cw_event *ev, char *why, size_t whylen);
/* cw_logread_stream with the reading and simdjson's parsing in a second thread, a few
 * hundred lines ahead: the same events, messages and counts, in the same order. */
int cw_logread_pipe(FILE *in, const char *name, cw_event_cb cb, void *ctx,
		    struct cw_logread_stats *st, FILE *errf);

#endif
