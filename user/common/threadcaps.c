/* See threadcaps.h. */
#include "common/threadcaps.h"

#include <sys/capability.h>

void cw_thread_drop_caps(void)
{
	cap_t none = cap_init();

	if (!none)
		return;
	cap_set_proc(none);	/* capset(2) acts on the calling thread only */
	cap_free(none);
}
