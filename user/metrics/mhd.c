/* See mhd.h. */
#include "metrics/mhd.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static struct cw_mhd mhd;
static const struct cw_mhd *loaded;
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static int sym(void *lib, const char *name, void *slot, char *err, size_t errlen)
{
	void *p = dlsym(lib, name);

	if (!p) {
		snprintf(err, errlen, "%s has no %s", CW_MHD_SONAME, name);
		return -1;
	}
	*(void **)slot = p;
	return 0;
}

static const struct cw_mhd *load(char *err, size_t errlen)
{
	void *lib = dlopen(CW_MHD_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		snprintf(err, errlen, "cannot load %s: %s", CW_MHD_SONAME, dlerror());
		return NULL;
	}
	if (sym(lib, "MHD_start_daemon", &mhd.start_daemon, err, errlen) ||
	    sym(lib, "MHD_stop_daemon", &mhd.stop_daemon, err, errlen) ||
	    sym(lib, "MHD_create_response_from_buffer", &mhd.create_response_from_buffer, err, errlen) ||
	    sym(lib, "MHD_add_response_header", &mhd.add_response_header, err, errlen) ||
	    sym(lib, "MHD_queue_response", &mhd.queue_response, err, errlen) ||
	    sym(lib, "MHD_destroy_response", &mhd.destroy_response, err, errlen)) {
		dlclose(lib);
		return NULL;
	}
	return &mhd;	/* never closed: the server's thread runs its code until the process ends */
}

const struct cw_mhd *cw_mhd_load(char *err, size_t errlen)
{
	pthread_mutex_lock(&load_lock);
	if (!loaded)
		loaded = load(err, errlen);
	pthread_mutex_unlock(&load_lock);
	return loaded;
}
