/* The not-watched note of a death; see stderr_note.h. */
#include "explain/stderr_note.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

const char *cw_stderr_note(const struct cw_death *d)
{
	return d->stderr_unwatched ? CW_STDERR_UNWATCHED : NULL;
}

/* celery worker --logfile=PATH, --logfile PATH, -f PATH, -fPATH; the command line is argv
 * joined by spaces, so a path with a space is cut at it (as ps shows it) */
bool cw_death_logfile(const struct cw_death *d, char *out, size_t len)
{
	const char *c = d->cmdline, *v = NULL;

	for (const char *w = c; w && *w; w = strchr(w, ' '), w = w ? w + 1 : NULL) {
		if (!strncmp(w, "--logfile=", 10))
			v = w + 10;
		else if (!strncmp(w, "--logfile ", 10))
			v = w + 10;
		else if (!strncmp(w, "-f ", 3))
			v = w + 3;
		else if (!strncmp(w, "-f", 2) && w[2] && w[2] != ' ')
			v = w + 2;
	}
	if (!v || !*v || *v == ' ' || *v == '-')
		return false;
	snprintf(out, len, "%.*s", (int)strcspn(v, " "), v);
	return true;
}
