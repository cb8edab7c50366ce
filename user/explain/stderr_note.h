/* What a death's stderr tail may lack, in words (--tail-window: the write hook was off when
 * it died), and where else its last words may be: the worker's own --logfile. */
#ifndef CW_STDERR_NOTE_H
#define CW_STDERR_NOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "explain/analysis.h"

#define CW_STDERR_UNWATCHED "stderr was not watched at the time (--tail-window)"

/* The note for d, or NULL when its tail was watched (or the log does not say). */
const char *cw_stderr_note(const struct cw_death *d);
/* The --logfile (-f) its command line gives, into out; false when there is none. */
bool cw_death_logfile(const struct cw_death *d, char *out, size_t len);

#endif
