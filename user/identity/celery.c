/* Celery identity from an argv or a setproctitle title: worker node name, queues, role.
 * Pure functions. The option rules follow Celery 5.2's click declarations
 * (celery/bin/celery.py, bin/worker.py, bin/beat.py, bin/base.py) and the name expansion
 * follows celery/utils/nodenames.py, both as installed on Debian 12. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "identity/celery.h"
#include "common/strset.h"

/* ---------------------------------------------------------------- small helpers */

static const char *basename_of(const char *s)
{
	const char *slash = strrchr(s, '/');
	return slash ? slash + 1 : s;
}

static const char *arg_at(const char *const *argv, size_t i)
{
	return argv[i] ? argv[i] : "";
}

/* growing string; on allocation failure oom is set and appends become no-ops */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sbuf *b, const char *p, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_adds(struct sbuf *b, const char *p)
{
	sb_add(b, p, strlen(p));
}

/* the finished string, or NULL (and nothing leaked) if any append failed */
static char *sb_take(struct sbuf *b)
{
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	if (!b->s)
		return strdup("");
	return b->s;
}

/* ---------------------------------------------------------------- node names */

struct fmt_key {
	char key;
	const char *val;
};

/*
 * celery.utils.text.simple_format: re.sub(r"%(\w)", ...). Only "%" followed by a word
 * character is a key, so "%%" is not an escape (the "%" key Celery registers is unreachable)
 * and "%%h" is "%" followed by an expanded "%h". Unknown keys raise in Celery (the worker
 * does not start); we keep them literally. Non-ASCII word characters are left alone too.
 */
static char *simple_format(const char *s, const struct fmt_key *keys, size_t nkeys)
{
	struct sbuf b = {0};

	for (size_t i = 0; s[i];) {
		unsigned char c = (unsigned char)s[i + 1];
		bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '_';
		if (s[i] != '%' || !word) {
			sb_add(&b, &s[i], 1);
			i++;
			continue;
		}
		size_t k;
		for (k = 0; k < nkeys && keys[k].key != (char)c; k++)
			;
		if (k < nkeys)
			sb_adds(&b, keys[k].val);
		else
			sb_add(&b, &s[i], 2);
		i += 2;
	}
	return sb_take(&b);
}

/* host_format keys: %h host, %n name (default: host before the first dot), %d domain.
 * %i and %I are the pool process index; in a MainProcess Celery renders them "0" and "". */
static char *host_format(const char *s, const char *host, const char *name, const char *p)
{
	const char *dot = strchr(host, '.');
	size_t hlen = dot ? (size_t)(dot - host) : strlen(host);
	char *hname = strndup(host, hlen);
	char *out;

	if (!hname)
		return NULL;
	struct fmt_key keys[] = {
		{ 'h', host },
		{ 'n', name ? name : hname },
		{ 'd', dot ? dot + 1 : "" },
		{ 'i', "0" },
		{ 'I', "" },
		{ 'p', p ? p : "" },
	};
	out = simple_format(s, keys, p ? 6 : 5);
	free(hname);
	return out;
}

char *cw_expand_nodename(const char *n, const char *hostname)
{
	const char *host = hostname ? hostname : "";
	const char *at;
	struct sbuf b = {0};
	char *node, *out;

	/* default_nodename: nodesplit splits at the first '@'; no '@' means n is the host */
	n = n ? n : "";
	at = strchr(n, '@');
	if (!at) {
		sb_adds(&b, "celery@");
		sb_adds(&b, *n ? n : host);
	} else {
		if (at == n)
			sb_adds(&b, "celery");
		else
			sb_add(&b, n, (size_t)(at - n));
		sb_adds(&b, "@");
		sb_adds(&b, at[1] ? at + 1 : host);
	}
	node = sb_take(&b);
	if (!node)
		return NULL;
	out = host_format(node, host, NULL, NULL);
	free(node);
	return out;
}

char *cw_node_format(const char *s, const char *nodename)
{
	const char *at;
	char *name, *out;

	if (!s)
		return NULL;
	if (!*s)
		return strdup("");
	nodename = nodename ? nodename : "";
	/* nodesplit: "name@host"; no '@' is a bare host; an empty name becomes "celery" */
	at = strchr(nodename, '@');
	if (at && at != nodename)
		name = strndup(nodename, (size_t)(at - nodename));
	else
		name = strdup("celery");
	if (!name)
		return NULL;
	out = host_format(s, at ? at + 1 : nodename, name, nodename);
	free(name);
	return out;
}

/* ---------------------------------------------------------------- argv buffers */

size_t cw_split_nul(const char *buf, size_t len, char ***argv_out)
{
	size_t n = 0, i, start;
	char **argv;

	*argv_out = NULL;
	if (!buf)
		len = 0;
	for (i = 0; i < len; i++)
		if (buf[i] == '\0')
			n++;
	if (len && buf[len - 1] != '\0')
		n++;	/* unterminated last argument (a truncated buffer) */
	argv = calloc(n + 1, sizeof(*argv));
	if (!argv)
		return 0;
	n = 0;
	for (i = 0, start = 0; i <= len; i++) {
		if (i < len && buf[i] != '\0')
			continue;
		if (i == len && start == len)
			break;
		argv[n] = strndup(buf + start, i - start);
		if (!argv[n]) {
			cw_free_argv(argv);
			return 0;
		}
		n++;
		start = i + 1;
	}
	*argv_out = argv;
	return n;
}

void cw_free_argv(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

bool cw_argv_mentions_celery(const char *const *argv, size_t argc)
{
	for (size_t i = 0; argv && i < argc; i++)
		if (argv[i] && !strcmp(basename_of(argv[i]), "celery"))
			return true;
	return false;
}

bool cw_pool_is_prefork(const char *pool)
{
	return !pool || !strcmp(pool, "prefork") || !strcmp(pool, "processes");
}

bool cw_argv_is_title(const char *const *argv, size_t argc)
{
	return argv && argc > 0 && argv[0] && !strncmp(argv[0], "[celery", 7) &&
	       strchr(argv[0], ']');
}

/* ---------------------------------------------------------------- finding "celery" in argv */

static bool is_python(const char *base)
{
	const char *p;

	if (!strncmp(base, "python", 6))
		p = base + 6;
	else if (!strncmp(base, "pypy", 4))
		p = base + 4;
	else
		return false;
	while ((*p >= '0' && *p <= '9') || *p == '.')
		p++;
	if (*p == 'd' || *p == 'm' || *p == 'u' || *p == 't')	/* debug / abi / free-threaded */
		p++;
	return *p == '\0';
}

static bool is_shell(const char *base)
{
	static const char *const shells[] = { "sh", "bash", "dash", "ash", "ksh", "mksh", "zsh" };

	for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
		if (!strcmp(base, shells[i]))
			return true;
	return false;
}

static bool is_celery_script(const char *path)
{
	size_t n = strlen(path);

	if (!strcmp(basename_of(path), "celery"))
		return true;
	/* python3 .../celery/__main__.py */
	return n >= 18 && !strcmp(path + n - 18, "celery/__main__.py");
}

/* Python interpreter options up to the script or -m module (cpython's getopt rules) */
static bool locate_python(const char *const *argv, size_t argc, size_t i, size_t *start)
{
	while (i < argc) {
		const char *a = arg_at(argv, i++);

		if (!strcmp(a, "-"))
			return false;	/* script from stdin */
		if (a[0] != '-') {
			if (!is_celery_script(a))
				return false;
			*start = i;
			return true;
		}
		if (!strcmp(a, "--")) {
			if (i >= argc || !is_celery_script(arg_at(argv, i)))
				return false;
			*start = i + 1;
			return true;
		}
		if (a[1] == '-') {	/* long options: only this one takes a value */
			if (!strcmp(a, "--check-hash-based-pycs"))
				i++;
			continue;
		}
		for (size_t j = 1; a[j]; j++) {
			char c = a[j];

			if (c == 'c')
				return false;	/* python -c 'code' */
			if (c == 'W' || c == 'X' || c == 'm') {
				const char *v = a[j + 1] ? &a[j + 1] : (i < argc ? arg_at(argv, i++) : NULL);

				if (c != 'm')
					break;
				if (!v || (strcmp(v, "celery") && strcmp(v, "celery.__main__")))
					return false;
				*start = i;
				return true;
			}
		}
	}
	return false;
}

/* Shell running a script: "/bin/sh [-e] /usr/bin/celery args" */
static bool locate_shell(const char *const *argv, size_t argc, size_t i, size_t *start)
{
	while (i < argc) {
		const char *a = arg_at(argv, i++);

		if (!strncmp(a, "--", 2))
			continue;	/* "--", "--norc", ...: no values */
		if (a[0] == '-' || a[0] == '+') {
			if (strchr(a, 'c'))
				return false;	/* sh -c 'string' */
			if (!strcmp(a + 1, "o"))
				i++;
			continue;
		}
		if (!is_celery_script(a))
			return false;
		*start = i;
		return true;
	}
	return false;
}

/* Index of the first Celery argument (after "celery" itself), through env/shell/python */
static bool locate_celery(const char *const *argv, size_t argc, size_t *start)
{
	size_t i = 0;

	for (int depth = 0; depth < 4 && i < argc; depth++) {
		const char *base = basename_of(arg_at(argv, i));

		if (!strcmp(base, "celery")) {
			*start = i + 1;
			return true;
		}
		if (is_python(base))
			return locate_python(argv, argc, i + 1, start);
		if (is_shell(base))
			return locate_shell(argv, argc, i + 1, start);
		if (strcmp(base, "env"))
			return false;
		/* env [-i] [-u NAME] [-C DIR] [NAME=VALUE]... command */
		for (i++; i < argc; i++) {
			const char *a = arg_at(argv, i);

			if (!strcmp(a, "-u") || !strcmp(a, "-C"))
				i++;
			else if (a[0] != '-' && !strchr(a, '='))
				break;
		}
	}
	return false;
}

/* ---------------------------------------------------------------- option tables */

enum optkey {
	K_SKIP,
	K_APP, K_NAME, K_LOGLEVEL, K_CONC, K_POOL, K_MAXTASKS, K_MAXMEM, K_QUEUES, K_EXCLUDE,
	K_LOGFILE, K_PIDFILE, K_DETACH, K_BEAT, K_EXIT,
};

struct optdef {
	char short_name;	/* 0: long only */
	const char *long_names[3];
	bool value;
	enum optkey key;
};

/* celery/bin/celery.py group options */
static const struct optdef global_opts[] = {
	{ 'A', { "--app" }, true, K_APP },
	{ 'b', { "--broker" }, true, K_SKIP },
	{ 0, { "--result-backend" }, true, K_SKIP },
	{ 0, { "--loader" }, true, K_SKIP },
	{ 0, { "--config" }, true, K_SKIP },
	{ 0, { "--workdir" }, true, K_SKIP },
	{ 'C', { "--no-color" }, false, K_SKIP },
	{ 'q', { "--quiet" }, false, K_SKIP },
	{ 0, { "--version", "--help" }, false, K_EXIT },
	{ 0 },
};

/* celery/bin/worker.py */
static const struct optdef worker_opts[] = {
	{ 'n', { "--hostname" }, true, K_NAME },
	{ 'D', { "--detach" }, false, K_DETACH },
	{ 'S', { "--statedb" }, true, K_SKIP },
	{ 'l', { "--loglevel" }, true, K_LOGLEVEL },
	{ 'O', { 0 }, true, K_SKIP },
	{ 0, { "--prefetch-multiplier" }, true, K_SKIP },
	{ 'c', { "--concurrency" }, true, K_CONC },
	{ 'P', { "--pool" }, true, K_POOL },
	{ 'E', { "--task-events", "--events" }, false, K_SKIP },
	{ 0, { "--time-limit", "--soft-time-limit" }, true, K_SKIP },
	{ 0, { "--max-tasks-per-child" }, true, K_MAXTASKS },
	{ 0, { "--max-memory-per-child" }, true, K_MAXMEM },
	{ 0, { "--purge", "--discard" }, false, K_SKIP },
	{ 'Q', { "--queues" }, true, K_QUEUES },
	{ 'X', { "--exclude-queues" }, true, K_EXCLUDE },
	{ 'I', { "--include" }, true, K_SKIP },
	{ 0, { "--without-gossip", "--without-mingle", "--without-heartbeat" }, false, K_SKIP },
	{ 0, { "--heartbeat-interval", "--autoscale" }, true, K_SKIP },
	{ 'B', { "--beat" }, false, K_BEAT },
	{ 's', { "--schedule-filename", "--schedule" }, true, K_SKIP },
	{ 0, { "--scheduler" }, true, K_SKIP },
	{ 0 },
};

/* celery/bin/beat.py: --detach has no short form there */
static const struct optdef beat_opts[] = {
	{ 0, { "--detach" }, false, K_DETACH },
	{ 's', { "--schedule" }, true, K_SKIP },
	{ 'S', { "--scheduler" }, true, K_SKIP },
	{ 0, { "--max-interval" }, true, K_SKIP },
	{ 'l', { "--loglevel" }, true, K_LOGLEVEL },
	{ 0 },
};

/* CeleryDaemonCommand's options (bin/base.py), which worker and beat both take, and their
 * -h/--help */
static const struct optdef daemon_opts[] = {
	{ 'f', { "--logfile" }, true, K_LOGFILE },
	{ 0, { "--pidfile" }, true, K_PIDFILE },
	{ 0, { "--uid", "--gid", "--umask" }, true, K_SKIP },
	{ 0, { "--executable" }, true, K_SKIP },
	{ 'h', { "--help" }, false, K_EXIT },
	{ 0 },
};

static const struct optdef no_opts[] = { { 0 } };

/* The options in force at one point of the command line: the command's own table, then the
 * daemon options if it takes them. */
struct scope {
	const struct optdef *own, *daemon;
};

static const struct scope global_scope = { global_opts, NULL };
static const struct scope worker_scope = { worker_opts, daemon_opts };
static const struct scope beat_scope = { beat_opts, daemon_opts };
static const struct scope other_scope = { no_opts, NULL };

/* what one pass over the arguments found; pointers into the argv being parsed */
struct parsed {
	const char *command;
	const char *val[K_EXIT];	/* last value of each value option (click: last wins) */
	bool detach, beat, exit_early;
};

static const struct optdef *find_short(const struct optdef *t, char c)
{
	for (; t->short_name || t->long_names[0]; t++)
		if (t->short_name && t->short_name == c)
			return t;
	return NULL;
}

static const struct optdef *find_long(const struct optdef *t, const char *name, size_t n)
{
	for (; t->short_name || t->long_names[0]; t++)
		for (int k = 0; k < 3 && t->long_names[k]; k++)
			if (strlen(t->long_names[k]) == n && !strncmp(t->long_names[k], name, n))
				return t;
	return NULL;
}

static void apply(struct parsed *ps, const struct optdef *d, const char *v)
{
	switch (d->key) {
	case K_DETACH: ps->detach = true; break;
	case K_BEAT: ps->beat = true; break;
	case K_EXIT: ps->exit_early = true; break;
	case K_SKIP: break;
	default:
		if (d->value && v)
			ps->val[d->key] = v;
	}
}

static const struct optdef *find(const struct optdef *t, char c, const char *l, size_t n)
{
	return c ? find_short(t, c) : find_long(t, l, n);
}

/* After the subcommand, global options are still accepted: Celery 4 took -A there, and
 * "celery multi" passes its options through. */
static const struct optdef *lookup(const struct scope *scope, bool sub, char c, const char *l, size_t n)
{
	const struct optdef *d = find(scope->own, c, l, n);

	if (!d && scope->daemon)
		d = find(scope->daemon, c, l, n);
	if (!d && sub)
		d = find(global_opts, c, l, n);
	return d;
}

/* click's parser, reduced: "--opt=v", "--opt v", "-ov", "-o v", clustered flags "-DB",
 * "--" ends options; an option's value is taken even if it starts with '-'. */
static void parse_args(struct parsed *ps, const char *const *argv, size_t argc)
{
	const struct scope *scope = &global_scope;
	bool sub = false, opts_done = false;
	size_t i = 0;

	while (i < argc) {
		const char *a = arg_at(argv, i++);

		if (opts_done || a[0] != '-' || !a[1]) {
			if (!ps->command) {
				ps->command = a;
				sub = true;
				if (!strcmp(a, "worker"))
					scope = &worker_scope;
				else if (!strcmp(a, "beat"))
					scope = &beat_scope;
				else
					scope = &other_scope;
			}
			continue;
		}
		if (!strcmp(a, "--")) {
			opts_done = true;
			continue;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a, '=');
			size_t n = eq ? (size_t)(eq - a) : strlen(a);
			const struct optdef *d = lookup(scope, sub, 0, a, n);
			const char *v = eq ? eq + 1 : NULL;

			if (!d)
				continue;	/* unknown (user_options, typos): assume a flag */
			if (d->value && !eq && i < argc)
				v = arg_at(argv, i++);
			apply(ps, d, v);
			continue;
		}
		for (size_t j = 1; a[j]; j++) {
			const struct optdef *d = lookup(scope, sub, a[j], NULL, 0);

			if (!d)
				break;
			if (d->value) {
				const char *v = a[j + 1] ? &a[j + 1] : (i < argc ? arg_at(argv, i++) : NULL);

				apply(ps, d, v);
				break;
			}
			apply(ps, d, NULL);
		}
	}
}

/*
 * Python's int(): surrounding whitespace, a sign, digits with single '_' between them.
 * Celery (click type=int) rejects anything else; we report such values as unknown.
 */
static bool parse_pyint(const char *s, long long *out)
{
	long long v = 0;
	bool neg = false, digit = false;

	while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		s++;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	for (; *s; s++) {
		if (*s == '_' && digit && s[1] >= '0' && s[1] <= '9')
			continue;
		if (*s < '0' || *s > '9')
			break;
		if (v > (LLONG_MAX - (*s - '0')) / 10)
			return false;
		v = v * 10 + (*s - '0');
		digit = true;
	}
	while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		s++;
	if (!digit || *s)
		return false;
	*out = neg ? -v : v;
	return true;
}

/* Celery passes these through `value or config` (first true value): 0 means "from the
 * app's configuration", which we cannot see, so only positive values are known. */
static long positive_or_unknown(const char *s, long max)
{
	long long v;

	if (!s || !parse_pyint(s, &v) || v <= 0 || v > max)
		return -1;
	return (long)v;
}

/* ---------------------------------------------------------------- queues */

static size_t count_items(const char *s)
{
	size_t n = 1;

	for (; *s; s++)
		n += *s == ',';
	return n;
}

/*
 * worker.setup_queues: include = "-Q".split(",") selected in order (a dict, so duplicates
 * keep their first place); without -Q every defined queue, by default just "celery"; then
 * each "-X" name is removed. Names are not trimmed: "-Q ' a'" consumes " a", "-Q ''" a queue
 * named "" (what Celery 5.2 does).
 */
static int build_queues(struct cw_identity *id, const char *q, const char *x)
{
	struct cw_strset seen = CW_STRSET_INIT, excl = CW_STRSET_INIT;
	size_t n = q ? count_items(q) : 1, k = 0;
	const char *p, *e;
	int err = -ENOMEM;

	if (!q)
		q = "celery";
	id->queues = calloc(n + 1, sizeof(*id->queues));
	if (!id->queues)
		goto out;
	for (p = x; p; p = *e ? e + 1 : NULL) {
		e = strchrnul(p, ',');
		if (cw_strset_add(&excl, p, (size_t)(e - p)) < 0)
			goto out;
	}
	for (p = q; p; p = *e ? e + 1 : NULL) {
		size_t len;
		int added;

		e = strchrnul(p, ',');
		len = (size_t)(e - p);
		if (cw_strset_has(&excl, p, len))
			continue;
		added = cw_strset_add(&seen, p, len);
		if (added < 0)
			goto out;
		if (!added)
			continue;	/* already selected */
		id->queues[k] = strndup(p, len);
		if (!id->queues[k])
			goto out;
		id->nqueues = ++k;
	}
	err = 0;
out:
	cw_strset_free(&seen);
	cw_strset_free(&excl);
	if (err) {
		for (size_t i = 0; id->queues && i < k; i++)
			free(id->queues[i]);
		free(id->queues);
		id->queues = NULL;
		id->nqueues = 0;
	}
	return err;
}

/* ---------------------------------------------------------------- identity */

void cw_identity_init(struct cw_identity *id)
{
	memset(id, 0, sizeof(*id));
	id->role = CW_ROLE_OTHER;
	id->concurrency = -1;
	id->max_tasks_per_child = -1;
	id->max_memory_per_child_kb = -1;
}

void cw_identity_free(struct cw_identity *id)
{
	if (!id)
		return;
	free(id->command);
	free(id->worker);
	for (size_t i = 0; id->queues && i < id->nqueues; i++)
		free(id->queues[i]);
	free(id->queues);
	free(id->app);
	free(id->pool);
	free(id->loglevel);
	free(id->logfile);
	free(id->pidfile);
	cw_identity_init(id);
}

static int dup_field(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

int cw_identity_copy(struct cw_identity *dst, const struct cw_identity *src)
{
	int err = 0;

	*dst = *src;
	dst->queues = NULL;
	dst->nqueues = 0;
	err |= dup_field(&dst->command, src->command);
	err |= dup_field(&dst->worker, src->worker);
	err |= dup_field(&dst->app, src->app);
	err |= dup_field(&dst->pool, src->pool);
	err |= dup_field(&dst->loglevel, src->loglevel);
	err |= dup_field(&dst->logfile, src->logfile);
	err |= dup_field(&dst->pidfile, src->pidfile);
	if (!dst->role)
		dst->role = CW_ROLE_OTHER;
	if (!err && src->queues) {
		dst->queues = calloc(src->nqueues + 1, sizeof(*dst->queues));
		if (!dst->queues)
			err = -ENOMEM;
		for (size_t i = 0; !err && i < src->nqueues; i++) {
			err = dup_field(&dst->queues[i], src->queues[i]);
			if (!err)
				dst->nqueues = i + 1;
		}
	}
	if (err) {
		cw_identity_free(dst);
		return -ENOMEM;
	}
	return 0;
}

/* what a title says beyond its argv tail */
struct title {
	const char *command;	/* "worker", "beat", "events" or NULL */
	const char *role;
	char *node;		/* celeryd titles: the node name */
	bool pool_fork;		/* ForkPoolWorker: the prefork pool */
	bool bare;		/* nothing after ']' */
	char *tail;		/* argv tail, words separated by spaces, NULL if none */
};

/*
 * Titles written by celery.platforms.set_process_title / set_mp_process_title (5.2):
 *   "[celeryd: NODE:MainProcess] -active- (ARGV[1:])"  worker MainProcess
 *   "[celeryd: NODE:ForkPoolWorker-N]"                  pool child (no argv)
 *   "[celeryd:MainProcess] ..."                         no hostname known
 *   "[celery beat] ARGV[1:]"                            celery beat (no parentheses)
 *   "[celery beat]"                                     beat embedded in a worker (-B)
 *   "[celery events:dump]  ARGV[1:]"                    celery events (two spaces)
 * The node may contain ':' (split at the last one); ']' ends the bracket only when followed
 * by a space or the end.
 */
static int parse_title(const char *t, struct title *ti)
{
	const char *close = NULL, *rest, *inner = t + 1;

	memset(ti, 0, sizeof(*ti));
	ti->role = CW_ROLE_OTHER;
	for (const char *p = t; (p = strchr(p, ']')); p++) {
		if (p[1] == ' ' || !p[1]) {
			close = p;
			break;
		}
	}
	if (!close)
		close = strchr(t, ']');
	rest = close + 1;
	while (*rest == ' ')
		rest++;
	ti->bare = !*rest;

	if (!strncmp(inner, "celeryd", 7)) {
		const char *p = inner + 7, *colon = NULL;

		ti->command = "worker";
		if (*p == ':' && p[1] == ' ')
			p += 2;		/* "[celeryd: NODE:PROC]"; "[celeryd:PROC]" has no node */
		for (const char *q = p; q < close; q++)
			if (*q == ':')
				colon = q;
		if (!colon)
			return 0;	/* not a form Celery writes: a Celery process, role other */
		if (colon > p) {
			ti->node = strndup(p, (size_t)(colon - p));
			if (!ti->node)
				return -ENOMEM;
		}
		const char *proc = colon + 1;
		size_t plen = (size_t)(close - proc);

		/* besides MainProcess, only prefork's process_initializer titles a process */
		ti->role = plen == 11 && !strncmp(proc, "MainProcess", 11) ? CW_ROLE_MAIN : CW_ROLE_POOL;
		ti->pool_fork = plen >= 14 && !strncmp(proc, "ForkPoolWorker", 14);
		/* the main's info is "-active- (ARGV)": the argv is inside the parentheses */
		const char *open = strchr(rest, '(');
		size_t rlen = strlen(rest);

		if (open && rlen && rest[rlen - 1] == ')') {
			ti->tail = strndup(open + 1, (size_t)(rest + rlen - 1 - (open + 1)));
			if (!ti->tail)
				return -ENOMEM;
		}
		return 0;
	}
	if (!strncmp(inner, "celery beat", 11) || !strncmp(inner, "celerybeat", 10)) {
		ti->command = "beat";
		ti->role = CW_ROLE_BEAT;
	} else if (!strncmp(inner, "celery events", 13) || !strncmp(inner, "celeryev", 8)) {
		ti->command = "events";
	}
	if (*rest) {
		ti->tail = strdup(rest);
		if (!ti->tail)
			return -ENOMEM;
	}
	return 0;
}

/* split a title's argv tail on spaces, in place; the words point into s */
static const char **split_words(char *s, size_t *n)
{
	size_t cap = 1;
	const char **w;

	for (const char *p = s; *p; p++)
		cap += *p == ' ';
	w = calloc(cap + 1, sizeof(*w));
	if (!w)
		return NULL;
	*n = 0;
	for (char *p = s; *p;) {
		while (*p == ' ')
			*p++ = '\0';
		if (!*p)
			break;
		w[(*n)++] = p;
		while (*p && *p != ' ')
			p++;
	}
	return w;
}

static int fill_worker(struct cw_identity *id, const struct parsed *ps, const char *node,
		       const char *hostname)
{
	id->worker = node ? strdup(node) : cw_expand_nodename(ps->val[K_NAME], hostname);
	if (!id->worker)
		return -ENOMEM;
	if (build_queues(id, ps->val[K_QUEUES], ps->val[K_EXCLUDE]))
		return -ENOMEM;
	if (dup_field(&id->pool, ps->val[K_POOL] ? ps->val[K_POOL] : "prefork"))
		return -ENOMEM;
	id->concurrency = (int)positive_or_unknown(ps->val[K_CONC], INT_MAX);
	id->max_tasks_per_child = (int)positive_or_unknown(ps->val[K_MAXTASKS], INT_MAX);
	id->max_memory_per_child_kb = positive_or_unknown(ps->val[K_MAXMEM], LONG_MAX);
	id->beat_embedded = ps->beat;
	/* Celery formats --pidfile and --logfile with node_format(value, nodename) */
	if (ps->val[K_PIDFILE] && !(id->pidfile = cw_node_format(ps->val[K_PIDFILE], id->worker)))
		return -ENOMEM;
	if (ps->val[K_LOGFILE] && !(id->logfile = cw_node_format(ps->val[K_LOGFILE], id->worker)))
		return -ENOMEM;
	return 0;
}

/* a beat's files, as given: beat does not expand them */
static int fill_beat(struct cw_identity *id, const struct parsed *ps)
{
	if (dup_field(&id->pidfile, ps->val[K_PIDFILE]) || dup_field(&id->logfile, ps->val[K_LOGFILE]))
		return -ENOMEM;
	return 0;
}

/* Role and the rest from a title. Only the real process is titled: the --detach launcher
 * never is. */
static int fill_titled(struct cw_identity *id, const struct parsed *ps, const struct title *ti,
		       const char *hostname)
{
	id->detach = false;
	id->role = ti->role;
	if (!strcmp(id->role, CW_ROLE_MAIN) || (!strcmp(id->role, CW_ROLE_POOL) && ti->tail))
		return fill_worker(id, ps, ti->node, hostname);
	if (!strcmp(id->role, CW_ROLE_POOL)) {
		/* a pool child's title carries no argv: only what the title says */
		if ((ti->node && !(id->worker = strdup(ti->node))) ||
		    (ti->pool_fork && !(id->pool = strdup("prefork"))))
			return -ENOMEM;
		return 0;
	}
	if (!strcmp(id->role, CW_ROLE_BEAT)) {
		/* "[celery beat]" with nothing after it is only ever set by worker -B */
		id->beat_embedded = ti->bare;
		return fill_beat(id, ps);
	}
	return 0;
}

/* Role and the rest from a real argv's command. */
static int fill_command(struct cw_identity *id, const struct parsed *ps, const char *command,
			const char *hostname)
{
	if (command && !strcmp(command, "worker")) {
		/* --detach forks and re-execs the real worker; this process then exits 0 */
		id->role = ps->detach || ps->exit_early ? CW_ROLE_OTHER : CW_ROLE_MAIN;
		return fill_worker(id, ps, NULL, hostname);
	}
	if (command && !strcmp(command, "beat")) {
		/* beat --detach daemonizes in place (no exec): still the beat */
		id->role = ps->exit_early ? CW_ROLE_OTHER : CW_ROLE_BEAT;
		return fill_beat(id, ps);
	}
	id->role = CW_ROLE_OTHER;
	return 0;
}

static int fill(struct cw_identity *id, const char *const *argv, size_t argc, const char *hostname)
{
	struct parsed ps = { 0 };
	struct title ti = { 0 };
	const char **words = NULL;
	size_t start = 0, nwords = 0;
	int err = 0;

	ti.role = CW_ROLE_OTHER;
	if (cw_argv_is_title(argv, argc)) {
		id->from_title = true;
		err = parse_title(argv[0], &ti);
		if (!err && ti.tail) {
			words = split_words(ti.tail, &nwords);
			if (!words)
				err = -ENOMEM;
			else
				parse_args(&ps, words, nwords);
		}
		if (err)
			goto out;
	} else if (locate_celery(argv, argc, &start)) {
		parse_args(&ps, argv + start, argc - start);
	} else {
		goto out;	/* not Celery */
	}
	id->is_celery = true;

	const char *command = ti.command ? ti.command : ps.command;

	if (dup_field(&id->command, command) || dup_field(&id->app, ps.val[K_APP]) ||
	    dup_field(&id->loglevel, ps.val[K_LOGLEVEL])) {
		err = -ENOMEM;
		goto out;
	}
	id->detach = ps.detach;
	if (id->from_title)
		err = fill_titled(id, &ps, &ti, hostname);
	else
		err = fill_command(id, &ps, command, hostname);
out:
	free(words);
	free(ti.node);
	free(ti.tail);
	return err;
}

int cw_identity_from_argv(struct cw_identity *id, const char *const *argv, size_t argc,
			  const char *hostname)
{
	int err;

	cw_identity_init(id);
	if (!argv)
		argc = 0;
	err = fill(id, argv, argc, hostname);
	if (err)
		cw_identity_free(id);
	return err;
}
