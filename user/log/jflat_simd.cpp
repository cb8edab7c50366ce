// simdjson's On-Demand API behind the C interface of jflat.h: one forward walk over a line,
// every value consumed (so all of it is checked), appended to the flat table. Anything
// simdjson refuses (lone surrogates such as the writer's \udcXX escapes, numbers beyond
// 64 bits, invalid UTF-8, json-c's lenient syntax) returns -1: the caller asks json-c.
#include <cstdlib>
#include <cstring>
#include <string>
#include <new>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "log/jflat.h"

using namespace simdjson;

struct cw_jsimd {
	ondemand::parser parser;
	std::vector<char> buf;	// the line plus simdjson's padding
};

static int walk(cw_jflat *f, ondemand::value v, int32_t parent, const char *key, size_t klen,
		int depth);

static int walk_object(cw_jflat *f, ondemand::object o, int32_t self, int depth)
{
	for (auto r : o) {
		ondemand::field fld;
		std::string_view k;
		if (std::move(r).get(fld) || fld.unescaped_key().get(k))
			return -1;
		if (walk(f, fld.value(), self, k.data(), k.size(), depth + 1))
			return -1;
	}
	return 0;
}

static int walk_array(cw_jflat *f, ondemand::array a, int32_t self, int depth)
{
	for (auto r : a) {
		ondemand::value e;
		if (std::move(r).get(e) || walk(f, e, self, nullptr, 0, depth + 1))
			return -1;
	}
	return 0;
}

static int walk_number(cw_jflat *f, ondemand::value v, int32_t parent, const char *key,
		       size_t klen)
{
	std::string_view tok = v.raw_json_token();	// before the value is consumed
	ondemand::number num;
	if (v.get_number().get(num))
		return -1;
	bool is_double = num.get_number_type() == ondemand::number_type::floating_point_number;
	int32_t i = cw_jflat_add(f, parent, key, klen, is_double ? CW_J_DOUBLE : CW_J_INT);
	if (i < 0)
		return -1;
	// doubles: the text through strtod, as json-c reads it (Debian's simdjson 3.0.1 turns
	// some long mantissas into 0: fuzz_jflat found 18.46744073223372036854775808); the
	// number was checked by get_number() above
	if (is_double)
		f->n[i].d = strtod(std::string(tok).c_str(), nullptr);
	else if (num.get_number_type() == ondemand::number_type::unsigned_integer)
		f->n[i].i = INT64_MAX;	// json-c's clamping
	else
		f->n[i].i = num.get_int64();
	return 0;
}

static int walk(cw_jflat *f, ondemand::value v, int32_t parent, const char *key, size_t klen,
		int depth)
{
	ondemand::json_type t;
	int32_t i;

	if (depth > CW_JFLAT_MAX_DEPTH || v.type().get(t))
		return -1;
	switch (t) {
	case ondemand::json_type::object: {
		ondemand::object o;
		if (v.get_object().get(o) || (i = cw_jflat_add(f, parent, key, klen, CW_J_OBJECT)) < 0)
			return -1;
		return walk_object(f, o, i, depth);
	}
	case ondemand::json_type::array: {
		ondemand::array a;
		if (v.get_array().get(a) || (i = cw_jflat_add(f, parent, key, klen, CW_J_ARRAY)) < 0)
			return -1;
		return walk_array(f, a, i, depth);
	}
	case ondemand::json_type::string: {
		std::string_view s;
		int32_t off;
		if (v.get_string().get(s) || (off = cw_jflat_str(f, s.data(), s.size())) < 0 ||
		    (i = cw_jflat_add(f, parent, key, klen, CW_J_STRING)) < 0)
			return -1;
		f->n[i].s = off;
		return 0;
	}
	case ondemand::json_type::number:
		return walk_number(f, v, parent, key, klen);
	case ondemand::json_type::boolean: {
		bool b;
		if (v.get_bool().get(b) || (i = cw_jflat_add(f, parent, key, klen, CW_J_BOOL)) < 0)
			return -1;
		f->n[i].b = b;
		return 0;
	}
	case ondemand::json_type::null: {
		bool null;
		if (v.is_null().get(null) || !null)
			return -1;
		return cw_jflat_add(f, parent, key, klen, CW_J_NULL) < 0 ? -1 : 0;
	}
	}
	return -1;
}

extern "C" struct cw_jsimd *cw_jsimd_new(void)
{
	return new (std::nothrow) cw_jsimd();
}

extern "C" void cw_jsimd_free(struct cw_jsimd *s)
{
	delete s;
}

extern "C" int cw_jsimd_parse(struct cw_jsimd *s, struct cw_jflat *f, const char *line, size_t n)
{
	try {
		if (s->buf.size() < n + SIMDJSON_PADDING)
			s->buf.resize(n + SIMDJSON_PADDING);
		memcpy(s->buf.data(), line, n);
		memset(s->buf.data() + n, 0, SIMDJSON_PADDING);
		ondemand::document doc;
		ondemand::object root;
		if (s->parser.iterate(s->buf.data(), n, s->buf.size()).get(doc) ||
		    doc.get_object().get(root))
			return -1;
		cw_jflat_reset(f);
		int32_t i = cw_jflat_add(f, -1, nullptr, 0, CW_J_OBJECT);
		if (i < 0 || walk_object(f, root, i, 1))
			return -1;
		const char *rest;
		return doc.current_location().get(rest) ? 0 : -1;	// past the end: nothing after
	} catch (...) {	// std::bad_alloc from the buffer or the parser
		return -1;
	}
}
