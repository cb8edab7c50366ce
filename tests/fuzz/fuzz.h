/* Shared by the fuzz targets: a failed check names its place before libFuzzer's crash report.
 * Targets write `if (bad) abort();`; abort() here is that check. */
#ifndef CW_FUZZ_H
#define CW_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

__attribute__((noreturn)) static inline void fuzz_fail(const char *file, int line)
{
	fprintf(stderr, "%s:%d: check failed\n", file, line);
	(abort)();
}
#define abort() fuzz_fail(__FILE__, __LINE__)

#endif
