/* Unit tests of the reader's two parsers (user/log/jflat*): simdjson's walker fills the flat
 * table for ordinary lines and refuses what only json-c reads (the writer's \udcXX escapes,
 * numbers beyond 64 bits, json-c's lenient syntax, deep nesting); through cw_logread_stream
 * those lines still come out as json-c read them, and skipped lines keep json-c's messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log/jflat.h"
#include "log/logread.h"

static int simd_reads(const char *line)
{
	struct cw_jsimd *s = cw_jsimd_new();
	struct cw_jflat f = {0};

	assert_non_null(s);
	int r = cw_jsimd_parse(s, &f, line, strlen(line));
	cw_jsimd_free(s);
	cw_jflat_free(&f);
	return r;
}

static void test_walker_accepts_and_refuses(void **state)
{
	(void)state;
	assert_int_equal(simd_reads("{\"a\":[1,{\"b\":null}],\"c\":\"x\\u00e9\"}\n"), 0);
	assert_int_equal(simd_reads("  {\"a\":true}  \r\n"), 0);
	assert_int_equal(simd_reads("{\"a\":\"x\\udc80\"}\n"), -1);	/* lone low surrogate */
	assert_int_equal(simd_reads("{\"a\":123456789012345678901234}\n"), -1);
	assert_int_equal(simd_reads("{\"a\":1,}\n"), -1);		/* json-c takes it */
	assert_int_equal(simd_reads("{\"a\":1} x\n"), -1);		/* text after */
	assert_int_equal(simd_reads("[1]\n"), -1);			/* not an object */
	assert_int_equal(simd_reads("{\"a\":1\n"), -1);		/* cut short */
	assert_int_equal(simd_reads("{\"a\":\"\xff\"}\n"), -1);	/* not UTF-8 */
	assert_int_equal(simd_reads("{\"a\":nul}\n"), -1);
	char deep[256] = "{\"a\":";
	for (int i = 0; i < CW_JFLAT_MAX_DEPTH + 1; i++)
		strcat(deep, "[");
	for (int i = 0; i < CW_JFLAT_MAX_DEPTH + 1; i++)
		strcat(deep, "]");
	strcat(deep, "}\n");
	assert_int_equal(simd_reads(deep), -1);
}

static void test_lookup_last_duplicate_wins(void **state)
{
	struct cw_jsimd *s = cw_jsimd_new();
	struct cw_jflat f = {0};
	const char *line = "{\"a\":1,\"b\":{\"c\":\"x\"},\"a\":\"two\",\"n\":-7,\"d\":2.5}\n";

	(void)state;
	assert_int_equal(cw_jsimd_parse(s, &f, line, strlen(line)), 0);
	assert_string_equal(cw_jstr(&f, cw_jget(&f, 0, "a")), "two");	/* as json-c */
	assert_string_equal(cw_jstr(&f, cw_jget(&f, cw_jget(&f, 0, "b"), "c")), "x");
	assert_int_equal(f.n[cw_jget(&f, 0, "n")].i, -7);
	assert_int_equal(cw_jtype(&f, cw_jget(&f, 0, "d")), CW_J_DOUBLE);
	assert_int_equal(cw_jget(&f, 0, "zz"), -1);
	assert_null(cw_jstr(&f, cw_jget(&f, 0, "n")));
	assert_int_equal(cw_jflat_index(&f), 0);	/* the root by its index: the same answers */
	assert_true(f.idx_built);
	assert_string_equal(cw_jstr(&f, cw_jget(&f, 0, "a")), "two");
	assert_int_equal(f.n[cw_jget(&f, 0, "n")].i, -7);
	assert_int_equal(cw_jget(&f, 0, "zz"), -1);
	assert_int_equal(cw_jget(&f, 0, ""), -1);
	cw_jsimd_free(s);
	cw_jflat_free(&f);
}

struct got {
	int n;
	char comm[64];
};

static int keep_comm(const struct cw_event *ev, void *ctx)
{
	struct got *g = ctx;

	g->n++;
	snprintf(g->comm, sizeof(g->comm), "%s", ev->comm ? ev->comm : "(null)");
	return 0;
}

#define EXIT_HEAD "{\"v\":2,\"type\":\"exit\",\"ts\":\"2026-11-24T10:00:00Z\",\"host\":\"h\",\"pid\":5," \
	"\"pstart\":6,\"exit_code\":1,"

/* The writer's escape of a byte that is not UTF-8: json-c's U+FFFD, as before. */
static void test_surrogate_line_read_by_jsonc(void **state)
{
	const char *text = EXIT_HEAD "\"comm\":\"a\\udc80b\"}\n" EXIT_HEAD "\"comm\":\"plain\",}\n";
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	struct got g = {0};
	struct cw_logread_stats st = {0};

	(void)state;
	assert_int_equal(cw_logread_stream(in, "mem", keep_comm, &g, &st, NULL), 0);
	fclose(in);
	assert_int_equal(g.n, 2);
	assert_int_equal(st.skipped, 0);
	assert_string_equal(g.comm, "plain");	/* json-c's trailing comma, as before */
	in = fmemopen((void *)text, strlen(EXIT_HEAD) + 19, "r");
	g.n = 0;
	assert_int_equal(cw_logread_stream(in, "mem", keep_comm, &g, NULL, NULL), 0);
	fclose(in);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.comm, "a\xef\xbf\xbd" "b");
}

/* A number out of range is reported with json-c's text for it, from either parser. */
static void test_bad_number_message(void **state)
{
	const char *text = EXIT_HEAD "\"maxrss_kb\":1.5e300}\n" EXIT_HEAD "\"maxrss_kb\":1e999}\n";
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	char *err = NULL;
	size_t len = 0;
	FILE *errf = open_memstream(&err, &len);
	struct got g = {0};

	(void)state;
	assert_int_equal(cw_logread_stream(in, "mem", keep_comm, &g, NULL, errf), 0);
	fclose(errf);
	fclose(in);
	assert_int_equal(g.n, 0);
	assert_non_null(strstr(err, "mem:1: \"maxrss_kb\" is not an integer within +-2^53: 1.5e300"));
	assert_non_null(strstr(err, "mem:2: \"maxrss_kb\" is not an integer within +-2^53: 1e999"));
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walker_accepts_and_refuses),
		cmocka_unit_test(test_lookup_last_duplicate_wins),
		cmocka_unit_test(test_surrogate_line_read_by_jsonc),
		cmocka_unit_test(test_bad_number_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
