/* Event log reader: one line at a time, parsed by simdjson's On-Demand API into a reused flat
 * table (jflat.h), checked against schema v1/v2 and flattened into struct cw_event
 * (logfields.c). A line simdjson refuses, or that the checks skip, is read again by json-c:
 * what it accepts and every message stay what they were. A bad line costs one message on
 * errf, never the run. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "log/logread.h"
#include "log/jflat_jsonc.h"
#include "log/logfields.h"
#include "log/loghead.h"
#include "log/logopen.h"

#define READ_BUFFER (1 << 20)

/* Both parsers and the table they fill, reused from line to line. */
struct parsers {
	struct cw_jsimd *simd;
	json_tokener *tok;
	struct cw_jflat flat;
};

static int parsers_init(struct parsers *ps)
{
	memset(ps, 0, sizeof(*ps));
	ps->simd = cw_jsimd_new();
	ps->tok = json_tokener_new();
	return ps->simd && ps->tok ? 0 : -ENOMEM;
}

static void parsers_fini(struct parsers *ps)
{
	cw_jsimd_free(ps->simd);
	if (ps->tok)
		json_tokener_free(ps->tok);
	cw_jflat_free(&ps->flat);
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

/* json-c's reading of the line: the reference for what is accepted and for every message. */
static const char *read_line_jsonc(struct parsers *ps, const char *line, size_t n,
				   struct cw_event *ev, char *why, size_t whylen)
{
	bool complete = line[n - 1] == '\n';
	const char *reason;

	json_tokener_reset(ps->tok);
	json_object *o = json_tokener_parse_ex(ps->tok, line, (int)n);
	enum json_tokener_error jerr = json_tokener_get_error(ps->tok);
	if (!o || jerr != json_tokener_success) {
		json_object_put(o);
		if (!complete)
			return "truncated last line (the recorder stopped mid-write?)";
		if (jerr == json_tokener_continue)
			return "not JSON: the object is cut short";
		snprintf(why, whylen, "not JSON: %s", json_tokener_error_desc(jerr));
		return why;
	}
	size_t end = json_tokener_get_parse_end(ps->tok);
	if (!blank(line + end, n - end))
		reason = "not JSON: text after the object";
	else if (cw_jflat_from_jsonc(&ps->flat, o) || cw_jflat_index(&ps->flat))
		reason = "out of memory";
	else
		reason = cw_logfields_extract(&ps->flat, 0, ev, why, whylen);
	json_object_put(o);	/* ev's strings are in ps->flat */
	return reason;
}

/* Parse and check one line into ev (file and line already set). Returns NULL, or the reason
 * the line is skipped. */
static const char *read_line(struct parsers *ps, const char *line, size_t n, struct cw_event *ev,
			     char *why, size_t whylen)
{
	const char *file = ev->file;
	long lineno = ev->line;

	if (!cw_jsimd_parse(ps->simd, &ps->flat, line, n) && !cw_jflat_index(&ps->flat) &&
	    !cw_logfields_extract(&ps->flat, 0, ev, why, whylen))
		return NULL;
	/* refused by simdjson or by the checks: json-c reads it from scratch */
	cw_logfields_clear(ev);
	ev->file = file;
	ev->line = lineno;
	return read_line_jsonc(ps, line, n, ev, why, whylen);
}

/* Whether the pre-filter drops the line unparsed. */
static bool declined(cw_line_want want, void *ctx, const char *line, size_t n)
{
	enum cw_log_type type;
	int64_t ts;

	return want && cw_loghead_read(line, n, &type, &ts) && !want(type, ts, ctx);
}

static int read_stream(FILE *in, const char *name, cw_line_want want, cw_event_cb cb,
		       void *ctx, struct cw_logread_stats *st, FILE *errf)
{
	struct cw_event *ev = malloc(sizeof(*ev));
	struct parsers ps;
	char *line = NULL, why[256];
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int ret = parsers_init(&ps);

	if (!ev || ret) {
		free(ev);
		parsers_fini(&ps);
		return -ENOMEM;
	}
	while ((n = getline(&line, &cap, in)) > 0) {
		lineno++;
		if (st)
			st->lines++;
		if (blank(line, (size_t)n))
			continue;
		if (declined(want, ctx, line, (size_t)n)) {
			if (st)
				st->unread++;
			continue;
		}
		cw_logfields_clear(ev);
		ev->file = name;
		ev->line = lineno;
		const char *reason = read_line(&ps, line, (size_t)n, ev, why, sizeof(why));
		if (reason) {
			if (errf)
				fprintf(errf, "%s:%ld: %s; line skipped\n", name, lineno, reason);
			if (st)
				st->skipped++;
		} else {
			if (st)
				st->events++;
			ret = cb(ev, ctx);
		}
		if (ret)
			break;
	}
	if (!ret && ferror(in))
		ret = -EIO;
	free(line);
	free(ev);
	parsers_fini(&ps);
	return ret;
}

int cw_logread_stream(FILE *in, const char *name, cw_event_cb cb, void *ctx,
		      struct cw_logread_stats *st, FILE *errf)
{
	return read_stream(in, name, NULL, cb, ctx, st, errf);
}

int cw_logread_file(const char *path, cw_event_cb cb, void *ctx,
		    struct cw_logread_stats *st, FILE *errf)
{
	return cw_logread_file_want(path, NULL, cb, ctx, st, errf);
}

int cw_logread_file_want(const char *path, cw_line_want want, cw_event_cb cb, void *ctx,
			 struct cw_logread_stats *st, FILE *errf)
{
	if (!strcmp(path, "-"))
		return read_stream(stdin, "<stdin>", want, cb, ctx, st, errf);
	FILE *f = cw_log_fopen(path);
	if (!f)
		return -errno;
	/* stdio's 4 KiB buffer is a read(2) per 15 lines */
	setvbuf(f, NULL, _IOFBF, READ_BUFFER);
	int ret = read_stream(f, path, want, cb, ctx, st, errf);
	fclose(f);
	return ret;
}

static int first_ts_cb(const struct cw_event *ev, void *ctx)
{
	*(int64_t *)ctx = ev->ts;
	return 1;
}

int64_t cw_logread_first_ts(const char *path)
{
	int64_t ts = CW_NONE;

	if (!strcmp(path, "-"))
		return CW_NONE;
	cw_logread_file(path, first_ts_cb, &ts, NULL, NULL);
	return ts;
}

struct cw_lineparser {
	struct parsers ps;
	struct cw_event ev;
};

struct cw_lineparser *cw_lineparser_new(void)
{
	struct cw_lineparser *p = calloc(1, sizeof(*p));

	if (p && parsers_init(&p->ps)) {
		parsers_fini(&p->ps);
		free(p);
		p = NULL;
	}
	return p;
}

void cw_lineparser_free(struct cw_lineparser *p)
{
	if (!p)
		return;
	parsers_fini(&p->ps);
	free(p);
}

int cw_lineparser_feed(struct cw_lineparser *p, const char *line, size_t n, const char *name,
		       long lineno, cw_event_cb cb, void *ctx, char *why, size_t whylen)
{
	char buf[256];

	if (!n || blank(line, n))
		return 0;
	cw_logfields_clear(&p->ev);
	p->ev.file = name;
	p->ev.line = lineno;
	const char *reason = read_line(&p->ps, line, n, &p->ev, buf, sizeof(buf));
	int ret = reason ? -EINVAL : cb(&p->ev, ctx);
	if (reason)
		snprintf(why, whylen, "%s", reason);
	return ret;
}
