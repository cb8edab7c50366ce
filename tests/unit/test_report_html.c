/* Unit tests of where the --html page goes: created 0640 whatever the umask, never through a
 * symlink, never over a file that is someone else's, linked elsewhere or not a regular file,
 * and written beside the target then renamed, so a failed run leaves the old page whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "explain/causes.h"
#include "explain/report.h"
#include "explain/timeline.h"

static char dir[64];
static struct cw_timeline tl;
static struct cw_analysis an;
static struct cw_report_in in;

/* an empty log's page (a few kB: the inline CSS) in a fresh directory */
static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/cw-html-XXXXXX");
	if (!mkdtemp(dir) || cw_timeline_init(&tl))
		return -1;
	if (cw_analyze(&tl, CW_NONE, CW_NONE, NULL, &an))
		return -1;
	in = (struct cw_report_in){.tl = &tl, .a = &an};
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	cw_analysis_free(&an);
	cw_timeline_free(&tl);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static char *slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* the directory holds exactly n entries: no temporary file left behind */
static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* command lines and stderr tails come from a 0640 log: the page is 0640 too */
static void test_created_0640_whatever_the_umask(void **state)
{
	(void)state;
	char path[128], err[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/new.html", dir);
	mode_t old = umask(0);
	int r = cw_report_html(path, &in, err, sizeof(err));
	umask(old);
	assert_int_equal(r, 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_true(strncmp(slurp(path), "<!DOCTYPE html>", 15) == 0);
	assert_int_equal(entries(), 1);
}

/* our own old page (0644 from an older version) is replaced whole, and ends up 0640 */
static void test_replaces_own_page(void **state)
{
	(void)state;
	char path[128], err[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/old.html", dir);
	put(path, "old page\n");
	int before = entries();
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(cw_report_html(path, &in, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_true(strncmp(slurp(path), "<!DOCTYPE html>", 15) == 0);
	assert_int_equal(entries(), before);	/* renamed over it: no temporary file left */
}

static void test_refuses_symlink(void **state)
{
	(void)state;
	char path[128], target[128], err[256];

	snprintf(path, sizeof(path), "%s/link.html", dir);
	snprintf(target, sizeof(target), "%s/victim", dir);
	assert_int_equal(symlink(target, path), 0);
	assert_int_not_equal(cw_report_html(path, &in, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "symbolic link"));
	assert_non_null(strstr(err, path));
	assert_int_equal(access(target, F_OK), -1);
	assert_int_equal(unlink(path), 0);
}

/* a file someone else owns is neither written nor replaced */
static void test_refuses_foreign_file(void **state)
{
	(void)state;
	char path[128], err[256];

	if (geteuid() != 0)
		skip();
	snprintf(path, sizeof(path), "%s/theirs.html", dir);
	put(path, "their page\n");
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_not_equal(cw_report_html(path, &in, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "belongs to uid 65534"));
	assert_non_null(strstr(err, path));
	assert_string_equal(slurp(path), "their page\n");
	assert_int_equal(unlink(path), 0);
}

/* a hard link planted to a file elsewhere is not written through */
static void test_refuses_hard_link(void **state)
{
	(void)state;
	char path[128], other[128], err[256];

	snprintf(path, sizeof(path), "%s/linked.html", dir);
	snprintf(other, sizeof(other), "%s/precious", dir);
	put(other, "precious\n");
	assert_int_equal(link(other, path), 0);
	assert_int_not_equal(cw_report_html(path, &in, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "hard links"));
	assert_non_null(strstr(err, path));
	assert_string_equal(slurp(other), "precious\n");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(unlink(other), 0);
}

/* a FIFO (or a device, a directory) is not a page: refused, not written to */
static void test_refuses_fifo(void **state)
{
	(void)state;
	char path[128], err[256], buf[16];

	snprintf(path, sizeof(path), "%s/fifo.html", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	int rd = open(path, O_RDONLY | O_NONBLOCK);	/* so an old build's open cannot hang */
	assert_true(rd >= 0);
	assert_int_not_equal(cw_report_html(path, &in, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "not a regular file"));
	assert_true(read(rd, buf, sizeof(buf)) <= 0);	/* nothing written */
	close(rd);
	assert_int_equal(unlink(path), 0);
}

/* a write that fails (here: the file size limit) leaves the old page whole, no temp file */
static void test_failed_write_keeps_old_page(void **state)
{
	(void)state;
	char path[128], err[256];
	struct rlimit old, small = {.rlim_cur = 100};
	int before = entries();

	snprintf(path, sizeof(path), "%s/keep.html", dir);
	put(path, "old page\n");
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small.rlim_max = old.rlim_max;
	signal(SIGXFSZ, SIG_IGN);	/* EFBIG instead of the signal */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	int r = cw_report_html(path, &in, err, sizeof(err));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_not_equal(r, 0);
	assert_non_null(strstr(err, path));
	assert_string_equal(slurp(path), "old page\n");
	assert_int_equal(entries(), before + 1);
	assert_int_equal(unlink(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_created_0640_whatever_the_umask),
		cmocka_unit_test(test_replaces_own_page),
		cmocka_unit_test(test_refuses_symlink),
		cmocka_unit_test(test_refuses_foreign_file),
		cmocka_unit_test(test_refuses_hard_link),
		cmocka_unit_test(test_refuses_fifo),
		cmocka_unit_test(test_failed_write_keeps_old_page),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
