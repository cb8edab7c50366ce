/* See deathmarks.h. */
#include "engine/deathmarks.h"

#include <errno.h>
#include <stdlib.h>

#include "common/grow.h"

int cw_death_marks_fit(struct cw_death_marks *m, const struct cw_timeline *tl)
{
	if (cw_grow_zeroed((void **)&m->procs, &m->nprocs, tl->nprocs, sizeof(*m->procs)) ||
	    cw_grow_zeroed((void **)&m->fails, &m->nfails, tl->nexecfails, sizeof(*m->fails)))
		return -ENOMEM;
	return 0;
}

bool cw_death_marks_first(struct cw_death_marks *m, const struct cw_timeline *tl,
			  const struct cw_death *d)
{
	if (d->proc >= 0 && d->proc < m->nprocs) {
		long mark = tl->procs[d->proc].born + 1;
		if (m->procs[d->proc] == mark)
			return false;
		m->procs[d->proc] = mark;
		return true;
	}
	if (d->execfail < 0 || d->execfail >= m->nfails || m->fails[d->execfail])
		return false;
	m->fails[d->execfail] = true;
	return true;
}

void cw_death_marks_free(struct cw_death_marks *m)
{
	free(m->procs);
	free(m->fails);
	m->procs = NULL;
	m->fails = NULL;
	m->nprocs = m->nfails = 0;
}
