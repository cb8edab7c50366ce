/* JSON line builder: escaping of hostile bytes, structure, timestamps. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "log/jsonw.h"

static char *escaped(const char *s, size_t n)
{
	static struct jw w;
	jw_reset(&w);
	jw_escape(&w, s, n);
	return w.len ? w.buf : (char *)"";
}

static void test_plain_and_specials(void **state)
{
	(void)state;
	assert_string_equal(escaped("hello", 5), "hello");
	assert_string_equal(escaped("a\"b\\c", 5), "a\\\"b\\\\c");
	assert_string_equal(escaped("l1\nl2\r\t", 7), "l1\\nl2\\r\\t");
	assert_string_equal(escaped("\x01\x1f\x7f", 3), "\\u0001\\u001f\\u007f");
	assert_string_equal(escaped("a\0b", 3), "a\\u0000b");
	assert_string_equal(escaped("\b\f", 2), "\\b\\f");
}

static void test_utf8_kept_invalid_escaped(void **state)
{
	(void)state;
	/* valid multi-byte sequences pass through untouched */
	assert_string_equal(escaped("очередь", strlen("очередь")), "очередь");
	assert_string_equal(escaped("\xf0\x9f\x90\x8d", 4), "\xf0\x9f\x90\x8d");
	/* a lone continuation byte, a truncated sequence, an overlong, a surrogate, > U+10FFFF */
	assert_string_equal(escaped("\x80", 1), "\\udc80");
	assert_string_equal(escaped("a\xd0", 2), "a\\udcd0");
	assert_string_equal(escaped("\xc0\xaf", 2), "\\udcc0\\udcaf");
	assert_string_equal(escaped("\xe0\x80\xaf", 3), "\\udce0\\udc80\\udcaf");
	assert_string_equal(escaped("\xed\xa0\x80", 3), "\\udced\\udca0\\udc80");
	assert_string_equal(escaped("\xf4\x90\x80\x80", 4), "\\udcf4\\udc90\\udc80\\udc80");
	assert_string_equal(escaped("\xff\xfe", 2), "\\udcff\\udcfe");
	/* truncated 3-byte sequence at the end, then valid text after an invalid byte */
	assert_string_equal(escaped("\xe2\x82", 2), "\\udce2\\udc82");
	assert_string_equal(escaped("\xe2\x82\xac\xe2", 4), "\xe2\x82\xac\\udce2");
}

/* Every line built from arbitrary bytes is one line and parses as JSON. */
static void test_random_bytes_never_break_a_line(void **state)
{
	(void)state;
	struct jw w;
	unsigned seed = 12345;
	char buf[300];

	jw_init(&w);
	for (int round = 0; round < 5000; round++) {
		size_t n = (size_t)(rand_r(&seed) % sizeof(buf));
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)(rand_r(&seed) & 0xff);
		jw_reset(&w);
		jw_begin(&w);
		jw_strn(&w, "s", buf, n);
		jw_argv(&w, "argv", buf, n);
		jw_end(&w);
		assert_false(w.oom);
		assert_int_equal(w.buf[w.len - 1], '\n');
		assert_null(memchr(w.buf, '\n', w.len - 1));
		assert_null(memchr(w.buf, '\0', w.len));
		struct json_tokener *tok = json_tokener_new();
		json_object *o = json_tokener_parse_ex(tok, w.buf, (int)w.len);
		assert_non_null(o);
		assert_int_equal(json_tokener_get_error(tok), json_tokener_success);
		assert_int_equal(json_object_object_length(o), 2);
		json_object_put(o);
		json_tokener_free(tok);
	}
	jw_free(&w);
}

/* Valid UTF-8 without NUL survives a round trip through a real JSON parser unchanged. */
static void test_round_trip_valid_text(void **state)
{
	(void)state;
	const char *cases[] = {"", "celery -A app worker -Q 'low_priority'", "quote\"back\\slash",
			       "new\nline\ttab", "\x01\x02\x1b[31mred", "日本語 \xf0\x9f\x90\x8d", "}\n{\"type\":\"forged\"}"};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jw w;
		jw_init(&w);
		jw_begin(&w);
		jw_str(&w, "s", cases[i]);
		jw_end(&w);
		json_object *o = json_tokener_parse(w.buf);
		assert_non_null(o);
		json_object *s;
		assert_true(json_object_object_get_ex(o, "s", &s));
		assert_string_equal(json_object_get_string(s), cases[i]);
		json_object_put(o);
		jw_free(&w);
	}
}

static void test_structure(void **state)
{
	(void)state;
	struct jw w;
	jw_init(&w);
	jw_begin(&w);
	jw_int(&w, "i", -5);
	jw_uint(&w, "u", UINT64_MAX);
	jw_bool(&w, "t", true);
	jw_null(&w, "n");
	jw_str(&w, "ns", NULL);
	jw_double(&w, "d", 1.5, 2);
	jw_double(&w, "nan", 0.0 / 0.0, 2);
	jw_obj_begin(&w, "o");
	jw_arr_begin(&w, "a");
	jw_int(&w, NULL, 1);
	jw_str(&w, NULL, "x");
	jw_obj_begin(&w, NULL);
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_argv(&w, "argv", "a\0\0b\0", 5);
	jw_end(&w);
	assert_string_equal(w.buf, "{\"i\":-5,\"u\":18446744073709551615,\"t\":true,\"n\":null,\"ns\":null,"
				   "\"d\":1.50,\"nan\":null,\"o\":{\"a\":[1,\"x\",{}]},\"argv\":[\"a\",\"\",\"b\"]}\n");
	jw_free(&w);
}

/* One number, alone in an object, as jw_double writes it. */
static void one_double(struct jw *w, double v, int decimals)
{
	jw_reset(w);
	jw_begin(w);
	jw_double(w, "d", v, decimals);
	jw_end(w);
}

/* Any finite double at any precision is written whole (a fixed buffer held 64 bytes and 1e300
 * needs 301), and the line still parses; NaN and the infinities are not JSON: null. */
static void test_double_any_size(void **state)
{
	static const char big[] = "1000000000000000052504760255204420248704468581108159154915854115511802"
		"4579889081957863713750804478640437044438328838781769425232353604305756"
		"4479218478670698284838720092657580373783023379478809005936895323497079"
		"9945081119038967640880074652742780142494579258788820056842838115669472"
		"196386865459400540160";
	static const char tenth[] = "0.10000000000000000555111512312578270211815834045410156250000000000000"
		"00000000000000000000000000000000";
	static const char negmax[] = "-179769313486231570814527423731704356798070567525844996598917476803157"
		"2607800285387605895586327668781715404589535143824642343213268894641827"
		"6846754670353751698604991057655128207624549009038932894407586850845513"
		"3942304583236903222948165808559332123348274797826204144723168738177180"
		"919299881250404026184124858368";
	char want[1024];
	struct jw w;

	(void)state;
	jw_init(&w);
	one_double(&w, 1e300, 0);
	snprintf(want, sizeof(want), "{\"d\":%s}\n", big);
	assert_string_equal(w.buf, want);
	one_double(&w, 1e300, 3);
	snprintf(want, sizeof(want), "{\"d\":%s.000}\n", big);
	assert_string_equal(w.buf, want);
	one_double(&w, -DBL_MAX, 0);
	snprintf(want, sizeof(want), "{\"d\":%s}\n", negmax);
	assert_string_equal(w.buf, want);
	one_double(&w, 0.1, 100);
	snprintf(want, sizeof(want), "{\"d\":%s}\n", tenth);
	assert_string_equal(w.buf, want);
	json_object *j = json_tokener_parse(w.buf);
	assert_non_null(j);
	json_object_put(j);
	one_double(&w, 1e308, 2);
	assert_int_equal(w.len, strlen("{\"d\":}\n") + 309 + 3);
	one_double(&w, 0.0 / 0.0, 3);
	assert_string_equal(w.buf, "{\"d\":null}\n");
	one_double(&w, HUGE_VAL, 3);
	assert_string_equal(w.buf, "{\"d\":null}\n");
	one_double(&w, -HUGE_VAL, 0);
	assert_string_equal(w.buf, "{\"d\":null}\n");
	one_double(&w, -2.5, 1);
	assert_string_equal(w.buf, "{\"d\":-2.5}\n");
	jw_free(&w);
}

static void test_argv_without_trailing_nul(void **state)
{
	(void)state;
	struct jw w;
	jw_init(&w);
	jw_argv(&w, NULL, "celery\0worker", 13);
	assert_string_equal(w.buf, "[\"celery\",\"worker\"]");
	jw_reset(&w);
	jw_argv(&w, NULL, "", 0);
	assert_string_equal(w.buf, "[]");
	jw_free(&w);
}

static void test_timestamp(void **state)
{
	(void)state;
	char ts[40];
	jw_format_ts(ts, sizeof(ts), 0);
	assert_string_equal(ts, "1970-01-01T00:00:00.000000Z");
	jw_format_ts(ts, sizeof(ts), 1795521791123456789ull);
	assert_string_equal(ts, "2026-11-24T12:03:11.123456Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_specials),
		cmocka_unit_test(test_utf8_kept_invalid_escaped),
		cmocka_unit_test(test_random_bytes_never_break_a_line),
		cmocka_unit_test(test_round_trip_valid_text),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_double_any_size),
		cmocka_unit_test(test_argv_without_trailing_nul),
		cmocka_unit_test(test_timestamp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
