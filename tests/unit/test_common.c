/* user/common/: the strict UTF-8 decoder, the string set, RFC 3339 times and --since/--until
 * values, and the terminal sanitiser, each against hand-checked values and edge cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/sanitize.h"
#include "common/strset.h"
#include "common/timeutil.h"
#include "common/utf8.h"

/* ---------------------------------------------------------------- utf8 */

/* the decoded length of the n bytes s, and the code point when valid */
static size_t dec(const char *s, size_t n, uint32_t *cp)
{
	*cp = 0xffffffff;
	return cw_utf8_decode((const unsigned char *)s, n, cp);
}

static void test_utf8_valid(void **state)
{
	uint32_t cp;

	(void)state;
	assert_int_equal(dec("A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(dec("\x7f", 1, &cp), 1);
	assert_int_equal(cp, 0x7f);
	assert_int_equal(dec("\xc2\x80", 2, &cp), 2);	/* lowest 2-byte */
	assert_int_equal(cp, 0x80);
	assert_int_equal(dec("\xdf\xbf", 2, &cp), 2);
	assert_int_equal(cp, 0x7ff);
	assert_int_equal(dec("\xe0\xa0\x80", 3, &cp), 3);	/* lowest 3-byte */
	assert_int_equal(cp, 0x800);
	assert_int_equal(dec("\xe2\x82\xac", 3, &cp), 3);	/* euro sign */
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(dec("\xef\xbf\xbf", 3, &cp), 3);
	assert_int_equal(cp, 0xffff);
	assert_int_equal(dec("\xf0\x90\x80\x80", 4, &cp), 4);	/* lowest 4-byte */
	assert_int_equal(cp, 0x10000);
	assert_int_equal(dec("\xf4\x8f\xbf\xbf", 4, &cp), 4);	/* U+10FFFF, the last one */
	assert_int_equal(cp, 0x10ffff);
	/* only the first sequence counts; n may be larger */
	assert_int_equal(dec("\xc3\xa9xyz", 5, &cp), 2);
	assert_int_equal(cp, 0xe9);
	/* cp may be NULL */
	assert_int_equal(cw_utf8_decode((const unsigned char *)"\xc3\xa9", 2, NULL), 2);
	/* nothing may be read: not even the first byte */
	assert_int_equal(cw_utf8_decode((const unsigned char *)"a", 0, NULL), 0);
}

static void test_utf8_overlong(void **state)
{
	uint32_t cp;

	(void)state;
	assert_int_equal(dec("\xc0\x80", 2, &cp), 0);	/* NUL, overlong */
	assert_int_equal(dec("\xc0\xaf", 2, &cp), 0);	/* '/', overlong */
	assert_int_equal(dec("\xc1\xbf", 2, &cp), 0);
	assert_int_equal(dec("\xe0\x80\x80", 3, &cp), 0);
	assert_int_equal(dec("\xe0\x9f\xbf", 3, &cp), 0);	/* U+07FF in 3 bytes */
	assert_int_equal(dec("\xf0\x80\x80\x80", 4, &cp), 0);
	assert_int_equal(dec("\xf0\x8f\xbf\xbf", 4, &cp), 0);	/* U+FFFF in 4 bytes */
	assert_int_equal(cp, 0xffffffff);	/* untouched when invalid */
}

static void test_utf8_surrogates(void **state)
{
	uint32_t cp;

	(void)state;
	assert_int_equal(dec("\xed\x9f\xbf", 3, &cp), 3);	/* U+D7FF: just below */
	assert_int_equal(cp, 0xd7ff);
	assert_int_equal(dec("\xed\xa0\x80", 3, &cp), 0);	/* U+D800 */
	assert_int_equal(dec("\xed\xb0\x80", 3, &cp), 0);	/* U+DC00 */
	assert_int_equal(dec("\xed\xbf\xbf", 3, &cp), 0);	/* U+DFFF */
	assert_int_equal(dec("\xee\x80\x80", 3, &cp), 3);	/* U+E000: just above */
	assert_int_equal(cp, 0xe000);
	/* a CESU-8 pair is two surrogates, not one character */
	assert_int_equal(dec("\xed\xa0\xbd\xed\xb0\x80", 6, &cp), 0);
}

static void test_utf8_above_max(void **state)
{
	uint32_t cp;

	(void)state;
	assert_int_equal(dec("\xf4\x90\x80\x80", 4, &cp), 0);	/* U+110000 */
	assert_int_equal(dec("\xf5\x80\x80\x80", 4, &cp), 0);	/* lead bytes F5..FF */
	assert_int_equal(dec("\xf7\xbf\xbf\xbf", 4, &cp), 0);
	assert_int_equal(dec("\xf8\x88\x80\x80\x80", 5, &cp), 0);	/* old 5-byte form */
	assert_int_equal(dec("\xfc\x84\x80\x80\x80\x80", 6, &cp), 0);
	assert_int_equal(dec("\xfe", 1, &cp), 0);
	assert_int_equal(dec("\xff", 1, &cp), 0);
}

static void test_utf8_cut_and_broken(void **state)
{
	uint32_t cp;

	(void)state;
	/* n too small for the sequence the lead byte announces */
	assert_int_equal(dec("\xc3\xa9", 1, &cp), 0);
	assert_int_equal(dec("\xe2\x82\xac", 2, &cp), 0);
	assert_int_equal(dec("\xe2\x82\xac", 1, &cp), 0);
	assert_int_equal(dec("\xf0\x9f\x90\x8d", 3, &cp), 0);
	assert_int_equal(dec("A", 0, &cp), 0);
	/* a continuation byte where a lead is expected, and a lead without continuations */
	assert_int_equal(dec("\x80", 1, &cp), 0);
	assert_int_equal(dec("\xbf", 1, &cp), 0);
	assert_int_equal(dec("\xe2\x28\xa1", 3, &cp), 0);
	assert_int_equal(dec("\xe2\x82\x28", 3, &cp), 0);
	assert_int_equal(dec("\xf0\x9f\x90\x41", 4, &cp), 0);
	assert_int_equal(dec("\xc3\xc3", 2, &cp), 0);
}

static void test_utf8_nul_inside(void **state)
{
	uint32_t cp;

	(void)state;
	/* NUL itself is a valid one-byte character */
	assert_int_equal(dec("\0", 1, &cp), 1);
	assert_int_equal(cp, 0);
	/* a NUL is no continuation: the sequence is cut there, whatever n says */
	assert_int_equal(dec("\xc3\0", 2, &cp), 0);
	assert_int_equal(dec("\xe2\x82\0", 3, &cp), 0);
	assert_int_equal(dec("\xf0\0\x90\x8d", 4, &cp), 0);
	/* so a NUL-terminated string may be passed with n = 4 */
	assert_int_equal(dec("\xe2\x82", 4, &cp), 0);
	assert_int_equal(dec("\xc3\xa9", 4, &cp), 2);
	assert_int_equal(dec("", 4, &cp), 1);
}

/* ---------------------------------------------------------------- strset */

/* The published FNV-1a 64-bit test vectors, and the properties the set relies on. */
static void test_fnv1a_properties(void **state)
{
	(void)state;
	assert_true(cw_fnv1a("foobar", 6) == cw_fnv1a("foobar", 6));
	/* n bytes, not up to a NUL; bytes past n do not count, a NUL within n does */
	assert_true(cw_fnv1a("foobarXYZ", 6) == cw_fnv1a("foobar", 6));
	assert_true(cw_fnv1a("a\0b", 3) != cw_fnv1a("a\0c", 3));
	assert_true(cw_fnv1a("", 0) != cw_fnv1a("\0", 1));
	/* FNV-1a's step from the empty hash: xor the byte, times the 64-bit FNV prime */
	assert_true(cw_fnv1a("a", 1) == ((cw_fnv1a("", 0) ^ 'a') * 1099511628211ULL));
	assert_true(cw_fnv1a("\xff", 1) == ((cw_fnv1a("", 0) ^ 0xff) * 1099511628211ULL));
	assert_true(cw_fnv1a("ab", 2) != cw_fnv1a("ba", 2));
	assert_true(cw_fnv1a("", 0) == 0xcbf29ce484222325ULL);
	assert_true(cw_fnv1a("a", 1) == 0xaf63dc4c8601ec8cULL);
	assert_true(cw_fnv1a("foobar", 6) == 0x85944171f73967e8ULL);
}

static void test_strset_basic(void **state)
{
	struct cw_strset set = CW_STRSET_INIT;
	const char *a, *b;

	(void)state;
	assert_false(cw_strset_has(&set, "x", 1));	/* empty, never allocated */
	assert_null(cw_strset_get(&set, "", 0));
	assert_int_equal(cw_strset_add(&set, "abc", 3), 1);
	assert_int_equal(cw_strset_add(&set, "abc", 3), 0);
	assert_int_equal(cw_strset_add(&set, "abcdef", 3), 0);	/* only n bytes count */
	assert_int_equal(set.n, 1);
	assert_true(cw_strset_has(&set, "abc", 3));
	assert_false(cw_strset_has(&set, "ab", 2));	/* a prefix is another name */
	assert_false(cw_strset_has(&set, "abcd", 4));
	assert_false(cw_strset_has(&set, "abc\0", 4));	/* an embedded NUL too */
	/* the empty name is a name */
	assert_int_equal(cw_strset_add(&set, "", 0), 1);
	assert_true(cw_strset_has(&set, "", 0));
	/* intern: the stored, NUL-terminated copy, the same pointer every time */
	char buf[] = "queue-xyz";
	a = cw_strset_intern(&set, buf, 5);
	assert_non_null(a);
	assert_ptr_not_equal(a, buf);
	assert_string_equal(a, "queue");
	memset(buf, 'z', 5);
	b = cw_strset_intern(&set, "queue", 5);
	assert_ptr_equal(a, b);
	assert_ptr_equal(cw_strset_get(&set, "queue", 5), a);
	assert_int_equal(cw_strset_add(&set, "queue", 5), 0);
	assert_int_equal(set.n, 3);
	/* free empties the set and leaves it usable */
	cw_strset_free(&set);
	assert_int_equal(set.n, 0);
	assert_false(cw_strset_has(&set, "abc", 3));
	assert_int_equal(cw_strset_add(&set, "abc", 3), 1);
	assert_true(cw_strset_has(&set, "abc", 3));
	cw_strset_free(&set);
	cw_strset_free(&set);	/* twice is harmless */
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

#define MANY 10000

/* 10k names, many of them prefixes of each other ("q", "q1", "q12", ...): every one found,
 * none confused with its neighbours, sorted bytewise. */
static void test_strset_many_prefixes(void **state)
{
	struct cw_strset set = CW_STRSET_INIT;
	char **names = calloc(MANY, sizeof(*names));
	const char **sorted;
	char name[64];

	(void)state;
	assert_non_null(names);
	for (int i = 0; i < MANY; i++) {
		/* "q", "q1", "q12", "q123" ... chains, and plain numbers sharing their digits */
		if (i % 2)
			snprintf(name, sizeof(name), "q%.*s", i % 9, "123456789");
		else
			snprintf(name, sizeof(name), "%d", i);
		if (i % 2)
			snprintf(name + strlen(name), sizeof(name) - strlen(name), "-%d", i);
		names[i] = strdup(name);
		assert_non_null(names[i]);
		assert_int_equal(cw_strset_add(&set, names[i], strlen(names[i])), 1);
	}
	assert_int_equal(set.n, MANY);
	for (int i = 0; i < MANY; i++) {
		size_t n = strlen(names[i]);
		const char *got = cw_strset_get(&set, names[i], n);

		assert_non_null(got);
		assert_string_equal(got, names[i]);
		assert_int_equal(cw_strset_add(&set, names[i], n), 0);
		assert_ptr_equal(cw_strset_intern(&set, names[i], n), got);
		/* one byte longer is another name */
		snprintf(name, sizeof(name), "%sx", names[i]);
		assert_false(cw_strset_has(&set, name, n + 1));
	}
	/* the prefixes the names share are not members unless added on their own */
	assert_false(cw_strset_has(&set, "q", 1));
	assert_false(cw_strset_has(&set, "q1", 2));
	assert_false(cw_strset_has(&set, "q12", 3));
	assert_false(cw_strset_has(&set, "q-1", 3));
	assert_true(cw_strset_has(&set, "q1-1", 4));
	assert_true(cw_strset_has(&set, "q-9", 3));
	assert_true(cw_strset_has(&set, "10", 2));
	assert_true(cw_strset_has(&set, "100", 3));
	assert_false(cw_strset_has(&set, "1", 1));	/* odd numbers are q-names */
	assert_int_equal(set.n, MANY);

	sorted = cw_strset_sorted(&set);
	assert_non_null(sorted);
	qsort(names, MANY, sizeof(*names), cmp_str);
	for (int i = 0; i < MANY; i++)
		assert_string_equal(sorted[i], names[i]);
	assert_null(sorted[MANY]);
	free(sorted);

	for (int i = 0; i < MANY; i++)
		free(names[i]);
	free(names);
	cw_strset_free(&set);
}

static void test_strset_sorted_edges(void **state)
{
	struct cw_strset set = CW_STRSET_INIT;
	const char **v;

	(void)state;
	v = cw_strset_sorted(&set);	/* empty: a non-NULL, empty array */
	assert_non_null(v);
	assert_null(v[0]);
	free(v);
	/* bytewise order: "B" < "a" < "ab" < "b" < "\xc3\xa9" */
	const char *in[] = { "b", "\xc3\xa9", "ab", "a", "B", "" };
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(cw_strset_add(&set, in[i], strlen(in[i])), 1);
	v = cw_strset_sorted(&set);
	assert_non_null(v);
	assert_string_equal(v[0], "");
	assert_string_equal(v[1], "B");
	assert_string_equal(v[2], "a");
	assert_string_equal(v[3], "ab");
	assert_string_equal(v[4], "b");
	assert_string_equal(v[5], "\xc3\xa9");
	assert_null(v[6]);
	free(v);
	/* a long name (past the arena's chunk size) is kept whole */
	size_t big = 100000;
	char *s = malloc(big + 1);
	assert_non_null(s);
	memset(s, 'x', big);
	s[big] = 0;
	assert_int_equal(cw_strset_add(&set, s, big), 1);
	assert_string_equal(cw_strset_get(&set, s, big), s);
	assert_false(cw_strset_has(&set, s, big - 1));
	free(s);
	cw_strset_free(&set);
}

/* ---------------------------------------------------------------- time */

static int64_t ts(const char *s)
{
	int64_t us = 12345;

	assert_int_equal(cw_parse_ts(s, &us), 0);
	return us;
}

static void bad_ts(const char *s)
{
	int64_t us = 12345;

	assert_int_equal(cw_parse_ts(s, &us), -1);
	assert_true(us == 12345);	/* untouched */
}

#define T0 1795521791LL	/* 2026-11-24T12:03:11Z (Python's calendar.timegm) */

static void test_parse_ts_values(void **state)
{
	(void)state;
	assert_true(ts("1970-01-01T00:00:00Z") == 0);
	assert_true(ts("2026-11-24T12:03:11Z") == T0 * 1000000);
	assert_true(ts("2026-11-24T12:03:11.123456Z") == T0 * 1000000 + 123456);
	assert_true(ts("2000-02-29T00:00:00Z") == 951782400LL * 1000000);	/* leap day */
	/* fractions: padded to microseconds, digits past the sixth dropped (not rounded) */
	assert_true(ts("2026-11-24T12:03:11.5Z") == T0 * 1000000 + 500000);
	assert_true(ts("2026-11-24T12:03:11.000001Z") == T0 * 1000000 + 1);
	assert_true(ts("2026-11-24T12:03:11.1234569Z") == T0 * 1000000 + 123456);
	assert_true(ts("2026-11-24T12:03:11.999999999Z") == T0 * 1000000 + 999999);
	/* offsets are east of UTC: subtracted */
	assert_true(ts("2026-11-24T14:03:11+02:00") == T0 * 1000000);
	assert_true(ts("2026-11-24T10:33:11-01:30") == T0 * 1000000);
	assert_true(ts("2026-11-25T01:48:11.25+13:45") == T0 * 1000000 + 250000);
	assert_true(ts("2026-11-24T12:03:11+00:00") == T0 * 1000000);
	assert_true(ts("2026-11-24T12:03:11-00:00") == T0 * 1000000);
	/* "t", "z" and a space are RFC 3339 too */
	assert_true(ts("2026-11-24t12:03:11z") == T0 * 1000000);
	assert_true(ts("2026-11-24 12:03:11Z") == T0 * 1000000);
	/* a leap second is the next second's start */
	assert_true(ts("2016-12-31T23:59:60Z") == 1483228800LL * 1000000);
	/* before the epoch: negative, the fraction still counts forward */
	assert_true(ts("1969-12-31T23:59:59Z") == -1000000);
	assert_true(ts("1969-12-31T23:59:59.5Z") == -500000);
	assert_true(ts("1970-01-01T00:59:59+01:00") == -1000000);
}

static void test_parse_ts_rejects(void **state)
{
	(void)state;
	bad_ts("");
	bad_ts("2026-11-24T12:03:11");	/* no offset */
	bad_ts("2026-11-24");
	bad_ts("2026-11-24T12:03Z");
	bad_ts("2026-11-24X12:03:11Z");
	bad_ts("26-11-24T12:03:11Z");
	bad_ts("2026-13-24T12:03:11Z");
	bad_ts("2026-00-24T12:03:11Z");
	bad_ts("2026-11-00T12:03:11Z");
	bad_ts("2026-11-32T12:03:11Z");
	bad_ts("2026-11-24T24:00:00Z");
	bad_ts("2026-11-24T12:60:00Z");
	bad_ts("2026-11-24T12:03:61Z");
	bad_ts("2026-11-24T12:03:11.Z");	/* a dot needs a digit */
	bad_ts("2026-11-24T12:03:11,5Z");
	bad_ts("2026-11-24T12:03:11+0200");	/* the colon is required */
	bad_ts("2026-11-24T12:03:11+2:00");
	bad_ts("2026-11-24T12:03:11Zjunk");
	bad_ts("2026-11-24T12:03:11Z ");
	bad_ts(" 2026-11-24T12:03:11Z");
	bad_ts("2026-1a-24T12:03:11Z");
	int64_t us = 7;
	assert_int_equal(cw_parse_ts(NULL, &us), -1);
	assert_true(us == 7);
}

/* Dates that do not exist and offsets no clock shows: timegm would normalise them into
 * another day ("Feb 31" = "Mar 3"), so they are rejected instead. */
static void test_parse_ts_calendar(void **state)
{
	(void)state;
	bad_ts("2026-02-31T00:00:00Z");
	bad_ts("2026-02-30T00:00:00Z");
	bad_ts("2026-02-29T00:00:00Z");	/* 2026 is not a leap year */
	bad_ts("1900-02-29T00:00:00Z");	/* divisible by 100, not by 400 */
	bad_ts("2100-02-29T00:00:00Z");
	bad_ts("2026-04-31T00:00:00Z");
	bad_ts("2026-06-31T00:00:00Z");
	bad_ts("2026-09-31T00:00:00Z");
	bad_ts("2026-11-31T00:00:00Z");
	bad_ts("2026-11-24T12:03:11+99:99");
	bad_ts("2026-11-24T12:03:11+24:00");
	bad_ts("2026-11-24T12:03:11-00:60");
	bad_ts("2026-11-24T12:03:11+01:75");
	/* the edges that do exist stay accepted */
	assert_true(ts("2024-02-29T00:00:00Z") == 1709164800LL * 1000000);
	assert_true(ts("2000-02-29T00:00:00Z") == 951782400LL * 1000000);
	assert_true(ts("2026-02-28T00:00:00Z") == 1772236800LL * 1000000);
	assert_true(ts("2026-01-31T00:00:00Z") == 1769817600LL * 1000000);
	assert_true(ts("2026-03-31T00:00:00Z") == 1774915200LL * 1000000);
	assert_true(ts("2026-12-31T00:00:00Z") == 1798675200LL * 1000000);
	assert_true(ts("2026-04-30T00:00:00Z") == 1777507200LL * 1000000);
	assert_true(ts("2026-11-24T23:03:11+23:00") == (T0 - 12 * 3600) * 1000000);
	assert_true(ts("2026-11-24T12:03:11-23:59") == (T0 + 23 * 3600 + 59 * 60) * 1000000);
	assert_true(ts("2026-12-31T23:59:60Z") == 1798761600LL * 1000000);	/* leap second */
}

static void fmt(int64_t us, const char *want)
{
	char out[40];

	cw_format_ts(us, out, sizeof(out));
	assert_string_equal(out, want);
	/* and back */
	assert_true(ts(out) == us);
}

static void test_format_ts(void **state)
{
	char out[40];

	(void)state;
	fmt(0, "1970-01-01T00:00:00.000000Z");
	fmt(T0 * 1000000 + 123456, "2026-11-24T12:03:11.123456Z");
	fmt(1, "1970-01-01T00:00:00.000001Z");
	/* negative: the second below, and the fraction counted up from it */
	fmt(-1, "1969-12-31T23:59:59.999999Z");
	fmt(-999999, "1969-12-31T23:59:59.000001Z");
	fmt(-1000000, "1969-12-31T23:59:59.000000Z");
	fmt(-1000001, "1969-12-31T23:59:58.999999Z");
	fmt(-1500000, "1969-12-31T23:59:58.500000Z");
	fmt(-86400LL * 1000000, "1969-12-31T00:00:00.000000Z");
	/* nanoseconds are truncated to microseconds */
	cw_format_ts_ns(1500000000123456789ULL, out, sizeof(out));
	assert_string_equal(out, "2017-07-14T02:40:00.123456Z");
	/* a short buffer is cut, still terminated */
	cw_format_ts(0, out, 11);
	assert_string_equal(out, "1970-01-01");
}

static void test_fmt_clock(void **state)
{
	char out[40];

	(void)state;
	cw_fmt_clock(T0 * 1000000 + 999999, false, out, sizeof(out));
	assert_string_equal(out, "12:03:11");
	cw_fmt_clock(T0 * 1000000, true, out, sizeof(out));
	assert_string_equal(out, "2026-11-24 12:03:11");
}

#define NOW (T0 * 1000000 + 250000)

static int64_t when(const char *s)
{
	int64_t us = 12345;

	assert_int_equal(cw_parse_when(s, NOW, &us), 0);
	return us;
}

static void bad_when(const char *s, int want)
{
	int64_t us = 12345;

	assert_int_equal(cw_parse_when(s, NOW, &us), want);
	assert_true(us == 12345);
}

static void test_parse_when_relative(void **state)
{
	(void)state;
	assert_true(when("now") == NOW);
	assert_true(when("-1h") == NOW - 3600LL * 1000000);
	assert_true(when("+30m") == NOW + 1800LL * 1000000);
	assert_true(when("-30min") == NOW - 1800LL * 1000000);
	assert_true(when("-2d") == NOW - 2 * 86400LL * 1000000);
	assert_true(when("-90s") == NOW - 90LL * 1000000);
	assert_true(when("-5") == NOW - 5LL * 1000000);	/* no unit: seconds */
	assert_true(when("+0") == NOW);
	assert_true(when("-1.5h") == NOW - 5400LL * 1000000);
	assert_true(when("-.5s") == NOW - 500000);
	assert_true(when("-1e3s") == NOW - 1000LL * 1000000);
	assert_true(when("-1e-3") == NOW - 1000);
	/* RFC 3339 goes through cw_parse_ts */
	assert_true(when("2026-11-24T12:03:11Z") == T0 * 1000000);
	assert_true(when("2026-11-24T13:03:11.000007+01:00") == T0 * 1000000 + 7);
}

static void test_parse_when_rejects(void **state)
{
	int64_t us = 12345;

	(void)state;
	bad_when("", -1);
	bad_when("-", -1);
	bad_when("+", -1);
	bad_when("-h", -1);
	bad_when("-1y", -1);	/* unknown unit */
	bad_when("-1hh", -1);
	bad_when("-1 h", -1);
	bad_when("- 1h", -1);
	bad_when("--1h", -1);
	bad_when("-+1h", -1);
	bad_when("-inf", -1);
	bad_when("-nan", -1);
	bad_when("-0x10", -1);	/* hex is not a decimal number */
	bad_when("yesterday", -1);
	bad_when("NOW", -1);
	bad_when("1h", -1);	/* relative needs a sign */
	assert_int_equal(cw_parse_when(NULL, NOW, &us), -1);
	/* -2: a number, but too far */
	bad_when("-1e400", -2);	/* strtod overflows */
	bad_when("-1e20", -2);
	bad_when("+1e20s", -2);
	bad_when("-1000001d", -2);	/* just over the 1e6-day limit */
	assert_true(when("-1000000d") == NOW - 1000000LL * 86400 * 1000000);	/* the limit itself */
	assert_true(when("+1000000d") == NOW + 1000000LL * 86400 * 1000000);
	/* a clock beyond +-2^62 us cannot take a relative time */
	assert_int_equal(cw_parse_when("-1s", INT64_MAX, &us), -2);
	assert_int_equal(cw_parse_when("+1s", INT64_MIN, &us), -2);
	assert_true(us == 12345);
	assert_int_equal(cw_parse_when("now", INT64_MAX, &us), 0);
	assert_true(us == INT64_MAX);
}

/* ---------------------------------------------------------------- sanitize */

static const char *san(const char *s, size_t len)
{
	static char out[256];

	memset(out, '#', sizeof(out));
	return cw_text_sanitize(out, len, s);
}

/* cw_text_safe writes what cw_text_sanitize does with room enough */
static void both(const char *s, const char *want)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	assert_non_null(f);
	cw_text_safe(f, s);
	fclose(f);
	assert_string_equal(buf, want);
	free(buf);
	assert_string_equal(san(s, 256), want);
}

static void test_sanitize_escapes(void **state)
{
	(void)state;
	both("plain text", "plain text");
	both(NULL, "");
	both("", "");
	both("a\nb\rc\td", "a\\nb\\rc\\td");
	both("\x1b[2J\x1b]0;owned\x07", "\\e[2J\\e]0;owned\\x07");
	both("\x01\x1f\x7f", "\\x01\\x1f\\x7f");
	both("back\\slash \"quoted\"", "back\\slash \"quoted\"");	/* kept as is */
	/* C1 controls, CSI (U+009B) among them, as \u */
	both("\xc2\x80\xc2\x9b" "1m\xc2\x9f", "\\u0080\\u009b1m\\u009f");
	both("\xc2\xa0", "\xc2\xa0");	/* U+00A0 is past C1: kept */
	/* bidi and line-separator format characters */
	both("\xe2\x80\xae" "evil\xe2\x80\xac", "\\u202eevil\\u202c");
	both("\xe2\x80\xa8\xe2\x80\xa9", "\\u2028\\u2029");
	both("\xe2\x81\xa6\xe2\x81\xa9\xd8\x9c\xe2\x80\x8e\xe2\x80\x8f",
	     "\\u2066\\u2069\\u061c\\u200e\\u200f");
	both("\xe2\x80\x8b", "\xe2\x80\x8b");	/* zero width space: not in the list */
	/* valid UTF-8 kept, invalid bytes one \x each */
	both("очередь \xf0\x9f\x90\x8d", "очередь \xf0\x9f\x90\x8d");
	both("\xff\xfe", "\\xff\\xfe");
	both("\xc0\xaf", "\\xc0\\xaf");
	both("\xed\xa0\x80", "\\xed\\xa0\\x80");
	both("a\xe2\x82", "a\\xe2\\x82");	/* cut at the end */
	both("\xe2\x82z", "\\xe2\\x82z");
	both("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
}

static void test_sanitize_cut(void **state)
{
	char one[1];

	(void)state;
	/* the result is at most len - 1 bytes and ends between whole units */
	assert_string_equal(san("ab\ncd", 6), "ab\\nc");
	assert_string_equal(san("ab\ncd", 5), "ab\\n");
	assert_string_equal(san("ab\ncd", 4), "ab");	/* not "ab\" */
	assert_string_equal(san("ab\ncd", 3), "ab");
	assert_string_equal(san("\x01", 5), "\\x01");
	assert_string_equal(san("\x01", 4), "");	/* not "\x0" */
	assert_string_equal(san("x\xc2\x9b", 8), "x\\u009b");
	assert_string_equal(san("x\xc2\x9b", 7), "x");
	assert_string_equal(san("a\xc3\xa9", 4), "a\xc3\xa9");
	assert_string_equal(san("a\xc3\xa9", 3), "a");	/* not half an é */
	assert_string_equal(san("\xf0\x9f\x90\x8d!", 5), "\xf0\x9f\x90\x8d");
	assert_string_equal(san("\xf0\x9f\x90\x8d!", 4), "");
	assert_string_equal(san("abc", 1), "");
	/* len 0 writes nothing at all */
	one[0] = '#';
	assert_ptr_equal(cw_text_sanitize(one, 0, "abc"), one);
	assert_int_equal(one[0], '#');
	/* a long hostile string fills the buffer with whole escapes only */
	char in[200], out[50];
	memset(in, 0x1b, sizeof(in) - 1);
	in[sizeof(in) - 1] = 0;
	cw_text_sanitize(out, sizeof(out), in);
	assert_int_equal(strlen(out), 48);	/* 24 "\e", no half escape */
	assert_int_equal(out[47], 'e');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_overlong),
		cmocka_unit_test(test_utf8_surrogates),
		cmocka_unit_test(test_utf8_above_max),
		cmocka_unit_test(test_utf8_cut_and_broken),
		cmocka_unit_test(test_utf8_nul_inside),
		cmocka_unit_test(test_fnv1a_properties),
		cmocka_unit_test(test_strset_basic),
		cmocka_unit_test(test_strset_many_prefixes),
		cmocka_unit_test(test_strset_sorted_edges),
		cmocka_unit_test(test_parse_ts_values),
		cmocka_unit_test(test_parse_ts_rejects),
		cmocka_unit_test(test_parse_ts_calendar),
		cmocka_unit_test(test_format_ts),
		cmocka_unit_test(test_fmt_clock),
		cmocka_unit_test(test_parse_when_relative),
		cmocka_unit_test(test_parse_when_rejects),
		cmocka_unit_test(test_sanitize_escapes),
		cmocka_unit_test(test_sanitize_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
