/* libFuzzer target: any bytes through our JSON writer and back. docs/events.md promises that
 * every string is escaped per RFC 8259 and that bytes which are not valid UTF-8 are written as
 * \udcXX, so Python's json.loads(line) then .encode("utf-8", "surrogateescape") gives back
 * the original bytes exactly. This target decodes the lines it writes the way Python does
 * (decode_py below: our own decoder, independent of the writer) and asserts:
 *  1. jw_strn of the whole input (NULs included) decodes to the input, byte for byte; the line
 *     has no raw control byte, one '\n' at its end, and json-c parses it to the input with each
 *     \udcXX as U+FFFD (what explain's reader sees in place of a non-UTF-8 byte);
 *  2. an exec record with the input as its argv (byte 0's low bit: argv_truncated) is
 *     formatted by cw_fmt_record, read back by cw_logread_stream as one exec event, and each
 *     argv element the reader gives equals the redacted argument (cw_redact_argbuf, or its
 *     _truncated twin), in its json-c form; redaction keeps the number of arguments. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "events.h"
#include "identity/redact.h"
#include "log/eventfmt.h"
#include "log/jsonw.h"
#include "log/logread.h"

#include "fuzz.h"

/* The decoded string: its bytes as Python's surrogateescape gives them (py) and as json-c
 * gives them (jc: a lone surrogate becomes U+FFFD). */
struct dec {
	unsigned char *py, *jc;
	size_t npy, njc;
};

static int hex4(const unsigned char *s, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = s[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		*v = *v * 16 + d;
	}
	return 0;
}

static size_t put_utf8(unsigned char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Length of one strictly valid UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), 0 if there is none. Written here, not taken from common/utf8.c,
 * so the writer's decoder is checked against a second one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* The JSON string starting after the '"' at *s (up to end); *s is left after the closing
 * '"'. Aborts on anything Python's json.loads or the surrogateescape encode would refuse. */
static void decode_py(const unsigned char **s, const unsigned char *end, struct dec *d)
{
	const unsigned char *p = *s;
	size_t cap = (size_t)(end - p) + 1;

	d->py = malloc(cap);
	d->jc = malloc(cap);
	d->npy = d->njc = 0;
	if (!d->py || !d->jc)
		abort();
	for (;;) {
		if (p >= end)
			abort();	/* unterminated */
		if (*p == '"')
			break;
		if (*p < 0x20)
			abort();	/* a raw control byte: not JSON */
		if (*p != '\\') {
			size_t l = utf8_len(p, (size_t)(end - p));
			if (!l)
				abort();	/* raw invalid UTF-8 in the line */
			memcpy(d->py + d->npy, p, l);
			memcpy(d->jc + d->njc, p, l);
			d->npy += l;
			d->njc += l;
			p += l;
			continue;
		}
		if (end - p < 2)
			abort();
		unsigned char e = p[1], c;
		p += 2;
		switch (e) {
		case '"': c = '"'; break;
		case '\\': c = '\\'; break;
		case '/': c = '/'; break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u': {
			unsigned cp, lo;
			if (end - p < 4 || hex4(p, &cp))
				abort();
			p += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 6 && p[0] == '\\' &&
			    p[1] == 'u' && !hex4(p + 2, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
				p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc80 && cp <= 0xdcff) {
				d->py[d->npy++] = (unsigned char)(cp - 0xdc00);	/* surrogateescape */
				d->njc += put_utf8(d->jc + d->njc, 0xfffd);
				continue;
			} else if (cp >= 0xd800 && cp <= 0xdfff) {
				abort();	/* surrogateescape cannot encode it */
			}
			unsigned char tmp[4];
			size_t l = put_utf8(tmp, cp);
			memcpy(d->py + d->npy, tmp, l);
			memcpy(d->jc + d->njc, tmp, l);
			d->npy += l;
			d->njc += l;
			continue;
		}
		default:
			abort();
		}
		d->py[d->npy++] = c;
		d->jc[d->njc++] = c;
	}
	*s = p + 1;
}

static void dec_free(struct dec *d)
{
	free(d->py);
	free(d->jc);
}

/* bytes -> jw_escape -> decode_py: must come back exactly; *d holds both forms */
static void roundtrip(const char *b, size_t n, struct dec *d)
{
	struct jw w;

	jw_init(&w);
	jw_escape(&w, b, n);
	if (w.oom)
		abort();
	const unsigned char *s = (const unsigned char *)(w.buf ? w.buf : "");
	/* decode_py stops at a '"', which the escaper never leaves bare: append one */
	size_t len = w.len;
	unsigned char *q = malloc(len + 1);
	if (!q)
		abort();
	memcpy(q, s, len);
	q[len] = '"';
	const unsigned char *p = q;
	decode_py(&p, q + len + 1, d);
	if (p != q + len + 1 || d->npy != n || memcmp(d->py, b, n))
		abort();
	free(q);
	jw_free(&w);
}

/* 1: jw_strn on a whole line, read by the Python rules and by json-c */
static void check_line(const unsigned char *data, size_t size)
{
	struct jw w;
	struct dec d;

	jw_init(&w);
	jw_begin(&w);
	jw_strn(&w, "s", (const char *)data, size);
	jw_end(&w);
	if (w.oom || w.len < 8 || memcmp(w.buf, "{\"s\":\"", 6) || w.buf[w.len - 1] != '\n' ||
	    memchr(w.buf, '\n', w.len - 1))
		abort();
	const unsigned char *p = (const unsigned char *)w.buf + 6;
	decode_py(&p, (const unsigned char *)w.buf + w.len, &d);
	if (d.npy != size || memcmp(d.py, data, size))
		abort();
	if ((const char *)p != w.buf + w.len - 2 || memcmp(p, "}\n", 2))
		abort();

	json_object *o = json_tokener_parse(w.buf), *v;
	if (!o || !json_object_object_get_ex(o, "s", &v) || !json_object_is_type(v, json_type_string))
		abort();
	if ((size_t)json_object_get_string_len(v) != d.njc ||
	    memcmp(json_object_get_string(v), d.jc, d.njc))
		abort();
	json_object_put(o);
	dec_free(&d);
	jw_free(&w);
}

struct expect {
	const char *clean;	/* redacted argument buffer */
	size_t n;
	int events;
};

/* the reader's exec event against the redacted arguments, split as jw_argv splits them */
static int on_event(const struct cw_event *ev, void *ctx)
{
	struct expect *x = ctx;
	size_t i = 0;
	int k = 0;

	x->events++;
	if (ev->type != CW_LOG_EXEC)
		abort();
	while (i < x->n) {
		const char *end = memchr(x->clean + i, '\0', x->n - i);
		size_t n = end ? (size_t)(end - (x->clean + i)) : x->n - i;
		if (k < CW_LOG_MAX_ARGS) {
			struct dec d;
			if (k >= ev->argc)
				abort();
			roundtrip(x->clean + i, n, &d);
			if (strlen(ev->argv[k]) != d.njc || memcmp(ev->argv[k], d.jc, d.njc))
				abort();
			dec_free(&d);
		}
		k++;
		i += n + 1;
	}
	if (ev->argc != (k < CW_LOG_MAX_ARGS ? k : CW_LOG_MAX_ARGS))
		abort();
	return 0;
}

static size_t nargs(const char *b, size_t n)
{
	size_t k = 0, i = 0;

	while (i < n) {
		const char *end = memchr(b + i, '\0', n - i);
		i += (end ? (size_t)(end - (b + i)) : n - i) + 1;
		k++;
	}
	return k;
}

/* 2: the exec line, as the recorder writes it, through the reader explain uses */
static void check_exec(const unsigned char *data, size_t size)
{
	static struct cw_exec e;
	static char clean[2 * CW_ARGV_LEN + 16];
	struct cw_fmt f;
	struct cw_ptable t;
	struct jw w;
	const char *newq[CW_FMT_MAX_NEWQ];
	size_t nnew = 0;
	bool truncated = size && (data[0] & 1);

	if (size)
		data++, size--;
	if (size > CW_ARGV_LEN)
		size = CW_ARGV_LEN;
	memset(&e, 0, sizeof(e));
	e.hdr.type = CW_EV_EXEC;
	e.hdr.size = sizeof(e);
	e.hdr.pid = 4766;
	e.hdr.ts_ns = 1500000;
	e.hdr.start_ns = 1000000000;
	e.ppid = 1;
	e.old_pid = e.hdr.pid;
	e.tracked = CW_TRACK_EXEC;
	e.argv_len = (uint16_t)size;
	e.argv_truncated = truncated;
	memcpy(e.argv, data, size);
	strcpy(e.comm, "python3");

	cw_fmt_init(&f, "web1", true);
	f.boot_to_real_ns = 1795521791000000000ll;
	f.ns_per_tick = 10000000;
	cw_ptable_init(&t);
	jw_init(&w);
	if (cw_fmt_record(&f, &t, &e, sizeof(e), &w, newq, &nnew) || w.oom || !w.len)
		abort();

	struct expect x = { .clean = clean };
	x.n = truncated ? cw_redact_argbuf_truncated(e.argv, size, clean, sizeof(clean)) :
			  cw_redact_argbuf(e.argv, size, clean, sizeof(clean));
	if (x.n > sizeof(clean) || nargs(clean, x.n) != nargs(e.argv, size))
		abort();
	FILE *in = fmemopen(w.buf, w.len, "r");
	if (!in)
		abort();
	if (cw_logread_stream(in, "fuzz", on_event, &x, NULL, NULL) || x.events != 1)
		abort();	/* every exec line the recorder writes is read back */
	fclose(in);
	jw_free(&w);
	cw_ptable_free(&t);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size > 4 * CW_ARGV_LEN)
		return -1;
	check_line(data, size);
	check_exec(data, size);
	return 0;
}
