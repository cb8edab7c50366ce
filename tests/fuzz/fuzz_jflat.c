/* libFuzzer target: one line -> both producers of the flat table (user/log/jflat*.{c,cpp}).
 * simdjson's walker may refuse more than json-c (the reader then asks json-c), never less, and
 * whatever it accepts must come out exactly as json-c reads it: same nodes, types, keys,
 * numbers and strings, member by member (json-c's view: a string ends at its first NUL,
 * the last of duplicate keys counts; the root's index finds what a scan finds). Also: no
 * crash, no read out of bounds, on any bytes. */
#include <string.h>

#include <json-c/json.h>

#include "log/jflat.h"
#include "log/jflat_jsonc.h"

#include "fuzz.h"

static struct cw_jsimd *simd;
static struct cw_jflat fa, fb;
static json_tokener *tok;

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

/* What the reader's json-c path accepts: one object, nothing but blanks after it. */
static int jsonc_reads(const char *line, size_t n)
{
	json_tokener_reset(tok);
	json_object *o = json_tokener_parse_ex(tok, line, (int)n);
	int ok = o && json_tokener_get_error(tok) == json_tokener_success &&
		 json_object_is_type(o, json_type_object) &&
		 blank(line + json_tokener_get_parse_end(tok), n - json_tokener_get_parse_end(tok)) &&
		 !cw_jflat_from_jsonc(&fb, o);
	json_object_put(o);
	return ok;
}

static bool same(int32_t a, int32_t b);

/* Objects compare by lookup (duplicate keys: json-c keeps one member, the walker all). */
static bool same_members(int32_t a, int32_t b)
{
	for (int32_t c = fa.n[a].child; c >= 0; c = fa.n[c].next) {
		const char *k = fa.strs + fa.n[c].key;
		if (!same(cw_jget(&fa, a, k), cw_jget(&fb, b, k)))
			return false;
	}
	for (int32_t c = fb.n[b].child; c >= 0; c = fb.n[c].next)
		if (cw_jget(&fa, a, fb.strs + fb.n[c].key) < 0)
			return false;
	return true;
}

static bool same(int32_t a, int32_t b)
{
	if (a < 0 || b < 0 || fa.n[a].type != fb.n[b].type)
		return false;
	const struct cw_jnode *x = &fa.n[a], *y = &fb.n[b];
	switch (x->type) {
	case CW_J_BOOL: return x->b == y->b;
	case CW_J_INT: return x->i == y->i;
	case CW_J_DOUBLE: return x->d == y->d;
	case CW_J_STRING: return !strcmp(fa.strs + x->s, fb.strs + y->s);
	case CW_J_OBJECT: return same_members(a, b);
	case CW_J_ARRAY:
		for (a = x->child, b = y->child; a >= 0 && b >= 0; a = fa.n[a].next, b = fb.n[b].next)
			if (!same(a, b))
				return false;
		return a < 0 && b < 0;
	default: return true;
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (!simd && (!(simd = cw_jsimd_new()) || !(tok = json_tokener_new())))
		abort();
	if (!size || size > 1 << 16)
		return 0;
	const char *line = (const char *)data;
	if (cw_jsimd_parse(simd, &fa, line, size))
		return 0;	/* refused: the reader asks json-c, as before */
	if (cw_jflat_index(&fa))	/* fa's root by its index, fb's by a scan */
		abort();
	if (!jsonc_reads(line, size) || !same(0, 0))
		abort();
	return 0;
}
