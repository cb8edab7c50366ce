/* Where the unit tests' hand-written logs live: $CW_TEST_DATA, else tests/unit/data/ next
 * to this header, found from __FILE__. make compiles the tests from the repository root, so
 * __FILE__ is the relative "tests/unit/...": run the tests from the repository root, or set
 * CW_TEST_DATA. */
#ifndef CW_TESTDATA_H
#define CW_TESTDATA_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline const char *data(const char *name)
{
	static char buf[4096];
	const char *dir = getenv("CW_TEST_DATA");

	if (dir) {
		snprintf(buf, sizeof(buf), "%s/%s", dir, name);
		return buf;
	}
	const char *f = __FILE__, *slash = strrchr(f, '/');
	snprintf(buf, sizeof(buf), "%.*sdata/%s", slash ? (int)(slash - f + 1) : 0, f, name);
	return buf;
}

/* Calls fn with the path of every .jsonl log in the data directory; returns how many, or
 * -1 when the directory cannot be read. */
static inline int each_data_log(void (*fn)(const char *path, void *ctx), void *ctx)
{
	char dir[4096], path[8192];
	const char *one = data("x");
	int n = 0;

	snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(one, '/') - one), one);
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (len < 7 || strcmp(e->d_name + len - 6, ".jsonl"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fn(path, ctx);
		n++;
	}
	closedir(d);
	return n;
}

#endif
