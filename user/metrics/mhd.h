/* libmicrohttpd, loaded when --metrics asks for it and not before.
 *
 * Why: linked at build time, libmicrohttpd brings GnuTLS and its dependencies (p11-kit,
 * nettle, hogweed, gmp, unistring, idn2, tasn1, ffi) into every recorder, and GnuTLS's
 * constructor touches them: ~2.3 MiB of RSS in a recorder that serves no metrics
 * (docs/benchmarks.md). server.c calls the library through this table only. */
#ifndef CW_MHD_H
#define CW_MHD_H

#include <stddef.h>
#include <sys/socket.h>
#include <microhttpd.h>

/* Debian 12's libmicrohttpd12; another soname can be given at build time. */
#ifndef CW_MHD_SONAME
#define CW_MHD_SONAME "libmicrohttpd.so.12"
#endif

struct cw_mhd {
	__typeof__(&MHD_start_daemon) start_daemon;
	__typeof__(&MHD_stop_daemon) stop_daemon;
	__typeof__(&MHD_create_response_from_buffer) create_response_from_buffer;
	__typeof__(&MHD_add_response_header) add_response_header;
	__typeof__(&MHD_queue_response) queue_response;
	__typeof__(&MHD_destroy_response) destroy_response;
};

/* The table, filled once (later calls return the same). NULL with a sentence in err. */
const struct cw_mhd *cw_mhd_load(char *err, size_t errlen);

#endif
