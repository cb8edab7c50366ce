/* libFuzzer target: a process's arguments (NUL-separated, as /proc/PID/cmdline and the exec
 * record hold them; a setproctitle title is one argument) -> the Celery identity
 * (user/identity/celery.c). The first line of the input is the host name, the rest argv.
 * Asserts the documented shape of the result: role one of the four static strings, queues
 * present when counted and each a C string, numbers -1 or positive, a title parse marked
 * as such; a deep copy equals the original; the filter twins agree with the argv; and the
 * node-name helpers give a string for any input. */
#include <stdlib.h>
#include <string.h>

#include "identity/celery.h"

#include "fuzz.h"

static void check_str(const char *a, const char *b)
{
	if (!a != !b || (a && strcmp(a, b)))
		abort();
}

static void check_identity(const struct cw_identity *id)
{
	const char *r = id->role;

	if (!r || (strcmp(r, CW_ROLE_MAIN) && strcmp(r, CW_ROLE_POOL) && strcmp(r, CW_ROLE_BEAT) &&
		   strcmp(r, CW_ROLE_OTHER)))
		abort();
	if (!id->is_celery && strcmp(r, CW_ROLE_OTHER))
		abort();
	if (id->nqueues && !id->queues)
		abort();
	for (size_t i = 0; i < id->nqueues; i++) {
		if (!id->queues[i])
			abort();
		for (size_t j = 0; j < i; j++)	/* deduplicated */
			if (!strcmp(id->queues[i], id->queues[j]))
				abort();
	}
	if (id->concurrency == 0 || id->concurrency < -1 || id->max_tasks_per_child == 0 ||
	    id->max_tasks_per_child < -1 || id->max_memory_per_child_kb < -1)
		abort();
	const char *strs[] = { id->command, id->worker, id->app, id->pool, id->loglevel,
			       id->logfile, id->pidfile };
	size_t n = 0;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strs[i])
			n += strlen(strs[i]);
	(void)n;
}

static void check_copy(const struct cw_identity *a)
{
	struct cw_identity b;

	if (cw_identity_copy(&b, a))
		return;
	if (a->is_celery != b.is_celery || strcmp(a->role, b.role) || a->nqueues != b.nqueues ||
	    !a->queues != !b.queues || a->concurrency != b.concurrency ||
	    a->beat_embedded != b.beat_embedded || a->detach != b.detach ||
	    a->from_title != b.from_title)
		abort();
	check_str(a->command, b.command);
	check_str(a->worker, b.worker);
	check_str(a->app, b.app);
	check_str(a->pool, b.pool);
	check_str(a->logfile, b.logfile);
	check_str(a->pidfile, b.pidfile);
	for (size_t i = 0; i < a->nqueues; i++)
		check_str(a->queues[i], b.queues[i]);
	cw_identity_free(&b);
	cw_identity_free(&b);	/* documented safe twice */
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t hlen = nl ? (size_t)(nl - (const char *)data) : 0;
	char *host = strndup((const char *)data, hlen);
	const char *args = nl ? nl + 1 : (const char *)data;
	size_t alen = size - (size_t)(args - (const char *)data);
	char **argv = NULL;
	struct cw_identity id;

	if (size > 4096)
		return -1;
	if (!host)
		return 0;
	size_t argc = cw_split_nul(args, alen, &argv);
	if (!argv) {
		free(host);
		return 0;
	}
	const char *const *av = (const char *const *)argv;
	if (cw_identity_from_argv(&id, av, argc, host) == 0) {
		check_identity(&id);
		if (id.from_title && !cw_argv_is_title(av, argc))
			abort();
		check_copy(&id);
		cw_identity_free(&id);
		cw_identity_free(&id);
	}
	/* NULL entries are documented as "" */
	if (argc > 1) {
		char *saved = argv[argc - 1];
		argv[argc - 1] = NULL;
		if (cw_identity_from_argv(&id, av, argc, host) == 0) {
			check_identity(&id);
			cw_identity_free(&id);
		}
		argv[argc - 1] = saved;
	}
	(void)cw_argv_mentions_celery(av, argc);
	(void)cw_pool_is_prefork(argc ? argv[0] : NULL);
	for (size_t i = 0; i < argc && i < 4; i++) {
		char *a = cw_expand_nodename(argv[i], host), *b = cw_node_format(argv[i], host);
		if (!a || !b || !strchr(a, '@'))	/* a node name always has its '@' */
			abort();
		free(a);
		free(b);
	}
	cw_free_argv(argv);
	free(host);
	return 0;
}
