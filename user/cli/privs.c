/* Capability drop after attach; see privs.h. */
#include "cli/privs.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/capability.h>
#include <sys/prctl.h>

static const cap_value_t keep[] = {CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH};
#define NKEEP (sizeof(keep) / sizeof(keep[0]))

static bool held(cap_t now, cap_value_t c)
{
	cap_flag_value_t v = CAP_CLEAR;

	cap_get_flag(now, c, CAP_PERMITTED, &v);
	return v == CAP_SET;
}

static bool kept_cap(cap_value_t c)
{
	for (size_t i = 0; i < NKEEP; i++)
		if (keep[i] == c)
			return true;
	return false;
}

/* The bounding set first: dropping from it needs CAP_SETPCAP, which goes next. */
static void drop_bounding(void)
{
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
		if (!kept_cap(c) && CAP_IS_SUPPORTED(c))
			prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

int cw_privs_drop(const char **kept)
{
	cap_t now = cap_get_proc(), want = cap_init();
	size_t n = 0;
	int ret = 0;

	if (!now || !want) {
		ret = -errno;
		goto out;
	}
	for (size_t i = 0; i < NKEEP; i++) {
		if (!held(now, keep[i]))
			continue;
		cap_set_flag(want, CAP_PERMITTED, 1, &keep[i], CAP_SET);
		cap_set_flag(want, CAP_EFFECTIVE, 1, &keep[i], CAP_SET);
		kept[n++] = keep[i] == CAP_SYS_PTRACE ? "cap_sys_ptrace" : "cap_dac_read_search";
	}
	drop_bounding();
	if (cap_set_proc(want))
		ret = -errno;
out:
	kept[n] = NULL;
	if (now)
		cap_free(now);
	if (want)
		cap_free(want);
	return ret;
}
