/* Built-in rotation: the shift keeps at most N files and moves links rather than their
 * targets; gzip round-trips through the reader's opener; the writer rotates between batches
 * so every file holds whole lines; sizes parse strictly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "log/logopen.h"
#include "log/rotate.h"
#include "log/writer.h"

static char dir[64], logp[128];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/cw-rotate-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(logp, sizeof(logp), "%s/ev.jsonl", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* the whole content through the reader's opener (gzip or not) */
static char *slurp(const char *path)
{
	static char buf[1 << 20];
	FILE *f = cw_log_fopen(path);
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static bool exists(const char *fmt, const char *suffix)
{
	char p[256];
	snprintf(p, sizeof(p), fmt, logp, suffix);
	return access(p, F_OK) == 0;
}

static void test_shift_keeps_n(void **state)
{
	char p[256];
	(void)state;
	put(logp, "0\n");
	snprintf(p, sizeof(p), "%s.1.gz", logp);
	put(p, "1\n");
	snprintf(p, sizeof(p), "%s.2", logp);
	put(p, "2\n");
	snprintf(p, sizeof(p), "%s.3.gz", logp);
	put(p, "3\n");
	char err[256];
	assert_int_equal(cw_rotate_shift(logp, 3, err, sizeof(err)), 0);
	assert_false(exists("%s%s", ""));
	assert_string_equal(slurp((snprintf(p, sizeof(p), "%s.1", logp), p)), "0\n");
	assert_string_equal(slurp((snprintf(p, sizeof(p), "%s.2.gz", logp), p)), "1\n");
	assert_string_equal(slurp((snprintf(p, sizeof(p), "%s.3", logp), p)), "2\n");
	assert_false(exists("%s.3%s", ".gz"));	/* the oldest went */
	assert_false(exists("%s.4%s", ""));
	assert_false(exists("%s.4%s", ".gz"));
}

static void test_shift_moves_links_not_targets(void **state)
{
	char p[256], victim[256];
	(void)state;
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	put(victim, "precious\n");
	put(logp, "0\n");
	snprintf(p, sizeof(p), "%s.1", logp);
	assert_int_equal(symlink(victim, p), 0);	/* planted in a shared directory */
	char err[256];
	assert_int_equal(cw_rotate_shift(logp, 1, err, sizeof(err)), 0);
	assert_string_equal(slurp(victim), "precious\n");	/* the link went, not the file */
}

static void test_gzip_roundtrip(void **state)
{
	char p[256], err[256];
	(void)state;
	put(logp, "{\"a\":1}\n{\"b\":\"\\udcff\"}\n");
	assert_int_equal(cw_gzip_file(logp, err, sizeof(err)), 0);
	assert_int_not_equal(access(logp, F_OK), 0);	/* the source is gone */
	snprintf(p, sizeof(p), "%s.gz", logp);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_string_equal(slurp(p), "{\"a\":1}\n{\"b\":\"\\udcff\"}\n");
}

static void test_gzip_refuses_planted_tmp_link(void **state)
{
	char p[256], victim[256], err[256];
	(void)state;
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	put(victim, "precious\n");
	put(logp, "line\n");
	snprintf(p, sizeof(p), "%s.gz", logp);
	assert_int_equal(symlink(victim, p), 0);
	/* the final rename replaces the link itself; the victim is never written */
	assert_int_equal(cw_gzip_file(logp, err, sizeof(err)), 0);
	assert_string_equal(slurp(victim), "precious\n");
}

static void test_writer_rotates_whole_lines(void **state)
{
	struct cw_output o;
	struct cw_writer *w;
	struct cw_rotation rot = {.size = 4096, .keep = 2, .compress = true};
	char err[256], line[200], p[256];
	(void)state;
	assert_int_equal(cw_output_open(&o, logp, err, sizeof(err)), 0);
	assert_int_equal(cw_writer_start(&w, &o, 0, 42, &rot), 0);
	for (int i = 0; i < 200; i++) {
		int n = snprintf(line, sizeof(line), "{\"n\":%d,\"pad\":\"%080d\"}\n", i, 0);
		assert_int_equal(cw_writer_put(w, line, (size_t)n), 0);
		if (i % 20 == 19)
			assert_int_equal(cw_writer_flush(w, 5000), 0);
	}
	assert_int_equal(cw_writer_stop(w, 5000), 0);
	/* LOG, LOG.1.gz, LOG.2.gz; nothing older; every file starts and ends on a line */
	assert_true(exists("%s%s", ""));
	assert_false(exists("%s.3%s", ".gz"));
	for (int i = 1; i <= 2; i++) {
		snprintf(p, sizeof(p), "%s.%d.gz", logp, i);
		char *text = slurp(p);
		assert_non_null(text);
		assert_int_equal(strncmp(text, "{\"n\":", 5), 0);
		assert_int_equal(text[strlen(text) - 1], '\n');
	}
	assert_int_equal(strncmp(slurp(logp), "{\"n\":", 5), 0);
}

static void test_parse_size(void **state)
{
	(void)state;
	assert_int_equal(cw_parse_size("4096"), 4096);
	assert_int_equal(cw_parse_size("64K"), 65536);
	assert_int_equal(cw_parse_size("100M"), 100LL << 20);
	assert_int_equal(cw_parse_size("1g"), 1LL << 30);
	assert_int_equal(cw_parse_size("4095"), -1);
	assert_int_equal(cw_parse_size("-1M"), -1);
	assert_int_equal(cw_parse_size("10MB"), -1);
	assert_int_equal(cw_parse_size(""), -1);
	assert_int_equal(cw_parse_size("99999999999999999999"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shift_keeps_n, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shift_moves_links_not_targets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gzip_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gzip_refuses_planted_tmp_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_rotates_whole_lines, setup, teardown),
		cmocka_unit_test(test_parse_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
