/* json-c's reading of a line into the flat table (jflat.h): the lines simdjson refuses, and
 * the skipped ones, whose messages are json-c's as they always were. */
#ifndef CW_JFLAT_JSONC_H
#define CW_JFLAT_JSONC_H

#include <json-c/json.h>

#include "log/jflat.h"

/* f holds o's tree afterwards (reset first). 0, or -1 when out of memory. */
int cw_jflat_from_jsonc(struct cw_jflat *f, json_object *o);

#endif
