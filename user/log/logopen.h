/* Open an event log for reading, gzip'd or not (rotated files: LOG.1.gz), as one FILE*: the
 * reader's getline loop does not care which. */
#ifndef CW_LOGOPEN_H
#define CW_LOGOPEN_H

#include <stdio.h>

/* NULL with errno set when it cannot be opened. A file that starts with gzip's magic bytes is
 * decompressed as it is read (zlib; a corrupt or cut stream reads as an error, EIO). */
FILE *cw_log_fopen(const char *path);

#endif
