/* Where the unit tests' hand-written logs live: $CW_TEST_DATA, else tests/unit/data/ next
 * to this header, found from __FILE__. make compiles the tests from the repository root, so
 * __FILE__ is the relative "tests/unit/...": run the tests from the repository root, or set
 * CW_TEST_DATA. */
#ifndef CW_TESTDATA_H
#define CW_TESTDATA_H

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

#endif
