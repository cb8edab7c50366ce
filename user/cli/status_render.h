/* `celerywatch status` output: the snapshot of status_collect.h as text or JSON. */
#ifndef CW_CLI_STATUS_RENDER_H
#define CW_CLI_STATUS_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "cli/status_collect.h"

void status_text(FILE *o, const struct status *st, bool color);
void status_json(FILE *o, const struct status *st);

#endif
