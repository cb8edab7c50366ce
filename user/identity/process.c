/* A process as read from /proc; see process.h. */
#include "identity/process.h"

#include <stdlib.h>
#include <string.h>

void cw_proc_free(struct cw_proc *p)
{
	if (!p)
		return;
	cw_free_argv(p->argv);
	free(p->cgroup);
	free(p->exe);
	cw_identity_free(&p->id);
	memset(p, 0, sizeof(*p));
	cw_identity_init(&p->id);
}
