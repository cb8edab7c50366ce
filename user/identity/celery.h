/* Celery identity of a process from its argv or setproctitle title: which worker, which
 * queues, which role. Pure functions (no I/O); the rules reproduce Celery 5.2's own parsing
 * (click options, celery.utils.nodenames) so the names we log are the names Celery uses. */
#ifndef CW_CELERY_H
#define CW_CELERY_H

#include <stdbool.h>
#include <stddef.h>

/* Roles are static strings; compare with strcmp or against these. */
#define CW_ROLE_MAIN	"main"	/* a worker's MainProcess */
#define CW_ROLE_POOL	"pool"	/* a worker's pool child (prefork ForkPoolWorker-N) */
#define CW_ROLE_BEAT	"beat"	/* celery beat, standalone or embedded (worker -B) */
#define CW_ROLE_OTHER	"other"	/* any other Celery command, launcher, or not Celery */

struct cw_identity {
	bool is_celery;		/* argv is a Celery invocation (or a Celery title) at all */
	char *command;		/* "worker", "beat", "multi", "inspect", ... or NULL */
	const char *role;	/* static string: "main", "pool", "beat", "other"; never NULL */
	char *worker;		/* expanded node name ("w1@web1"), or NULL */
	char **queues;		/* consumed queues, in order, deduplicated; NULL if unknown */
	size_t nqueues;		/* may be 0 with queues != NULL: "-X celery" consumes nothing */
	char *app, *pool;	/* NULL if unknown; pool defaults to "prefork" for workers */
	char *loglevel;		/* -l value as given, NULL if absent */
	char *logfile;		/* -f/--logfile, %n/%h/%d/%p/%i/%I expanded as the MainProcess does */
	char *pidfile;		/* --pidfile, expanded the same way; NULL if absent */
	int concurrency;	/* -c; -1 unknown (absent, 0, invalid: Celery then uses its config) */
	int max_tasks_per_child;	/* -1 unknown */
	long max_memory_per_child_kb;	/* -1 unknown */
	bool beat_embedded;	/* worker -B, or the beat child of such a worker */
	bool detach;		/* -D/--detach: this process only launches the real one */
	bool from_title;	/* parsed from a setproctitle title, not a real argv */
};

/*
 * Fill id from argv (argc entries; NULL entries are treated as ""). Recognised forms:
 *   celery ..., /usr/bin/celery ..., .venv/bin/celery ...
 *   /bin/sh /usr/bin/celery ...           (the kernel running Debian's shell wrapper)
 *   python3 /usr/bin/celery ...            (what that wrapper execs)
 *   python3[.X] [-opts] -m celery ...      (also -mcelery, celery.__main__)
 *   env [VAR=x ...] <any of the above>
 *   titles: "[celeryd: NODE:MainProcess] -active- (ARGV)", "[celeryd: NODE:ForkPoolWorker-N]",
 *           "[celery beat] ARGV", "[celery beat]", "[celery events:dump] ARGV", ...
 * Options follow click as Celery 5.2 declares them: global options (-A/--app, -b, --config,
 * ...) before the subcommand, "-Ax", "-A x", "--app=x", "--app x"; a repeated option keeps its
 * LAST value (click does so; "-Q a -Q b" consumes only b). Also accepts -A after the
 * subcommand (Celery 4 style). Roles:
 *   worker                     main; with -D/--detach "other" (it forks, re-execs, exits)
 *   worker -B                  main, beat_embedded
 *   beat                       beat (also with --detach: beat daemonizes without exec)
 *   title ...:MainProcess]     main; any other process name in a celeryd title is pool
 *   anything else Celery       other (multi, inspect, call, purge, status, events, ...)
 *   not Celery                 other, is_celery false
 * Never fails on hostile input. Returns 0, or -ENOMEM (id is then empty, is_celery false).
 */
int cw_identity_from_argv(struct cw_identity *id, const char *const *argv, size_t argc,
			  const char *hostname);
/* Free the members and leave id empty (role "other", numbers -1); safe to call twice. */
void cw_identity_free(struct cw_identity *id);
/* Deep copy; dst need not be initialised (it is overwritten, not freed). 0 or -ENOMEM. */
int cw_identity_copy(struct cw_identity *dst, const struct cw_identity *src);
/* The empty identity: not Celery, role "other", numbers -1, pointers NULL. */
void cw_identity_init(struct cw_identity *id);

/*
 * Worker node name from a -n value (NULL if absent), exactly as Celery 5.2's
 * host_format(default_nodename(n)) with gethostname() = hostname:
 *   no '@' in n: "celery@" + n (so "-n w1" is "celery@w1"), empty n: "celery@<hostname>";
 *   "%h" hostname, "%n" hostname before the first dot, "%d" after it, "%i" "0", "%I" "";
 *   expansion is re.sub(r"%(\w)"), so "%%" stays "%%" and "%%h" is "%" + hostname.
 * Unknown keys (%x, %_, %1) make Celery refuse to start; here they are left as they are.
 * Returns a malloc'd string, or NULL on allocation failure.
 */
char *cw_expand_nodename(const char *n_option, const char *hostname);
/* Celery's node_format(s, nodename) in a MainProcess: %p node, %n its name, %h its host,
 * %d host's domain, %i "0", %I "" (used for --pidfile and --logfile). malloc'd or NULL. */
char *cw_node_format(const char *s, const char *nodename);

/* NUL-separated bytes (as in /proc/PID/cmdline) -> malloc'd NULL-terminated argv. Every NUL
 * ends an argument; bytes after the last NUL form one more. Returns argc; on allocation
 * failure, or len 0, *argv_out is an empty array (or NULL) and 0 is returned. */
size_t cw_split_nul(const char *buf, size_t len, char ***argv_out);
void cw_free_argv(char **argv);

/* Twin of the kernel-side exec filter, for tests documenting what it admits: true if some
 * argument's basename (text after the last '/') is exactly "celery". */
bool cw_argv_mentions_celery(const char *const *argv, size_t argc);

/* True if a worker with this --pool value forks pool processes (prefork, Celery's default,
 * also spelled "processes"); NULL, an unknown pool, counts as prefork. */
bool cw_pool_is_prefork(const char *pool);

/* True if argv[0] is a Celery setproctitle title ("[celeryd...", "[celery ..."). */
bool cw_argv_is_title(const char *const *argv, size_t argc);

#endif
