/* `celerywatch watch`: the investigator's live view. With --follow LOG (no root) it follows a
 * running recorder's log; as root without it, it starts a recorder of its own and follows
 * that. Either way the lines go through the engine record and explain use, and the view
 * (watch_view.c) shows each queue and each incident as it happens. */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/follow.h"
#include "cli/options.h"
#include "cli/watch_view.h"
#include "common/timeutil.h"

#define POLL_MS 100		/* a new line is read within this */
#define JUDGE_EVERY_NS 1000000000ull	/* without a death, the view is refreshed this often */

struct watch_opts {
	const char *follow, *output;
	const char *rec_args[16];	/* passed to the recorder we start */
	int nrec_args;
};

struct watch {
	struct cw_engine *eng;
	struct cw_view view;
	struct cw_follow fol;
	char source[512];
};

static const char doc[] =
	"Watch Celery queues and their workers live: one row per queue (depth, trend, "
	"consumers, verdict) and one line per incident (a worker died and why, a queue lost its "
	"last consumer, a crash loop, lost events, the broker down) within a second.\n\n"
	"With --follow LOG it follows the log of a running recorder (no root needed; across "
	"rotation, like tail -F). As root without --follow it records itself (the programs of "
	"`record`, with the broker options given here) into a temporary log, or into -o LOG.\v"
	"On a terminal the queue rows stay on top and incidents scroll below them, in colour "
	"(NO_COLOR turns colour off); into a pipe each incident is one plain line:\n"
	"  TS KIND SUMMARY\n\n"
	"Examples:\n"
	"  celerywatch watch --follow /var/log/celerywatch/events.jsonl\n"
	"  sudo celerywatch watch --redis redis://127.0.0.1:6379/0\n"
	"  celerywatch watch -f events.jsonl | grep --line-buffered no_consumer\n\n"
	"Exit status: 0 after SIGINT/SIGTERM, 1 when the recorder could not start, 2 on bad usage.";

enum { OPT_REDIS = 1000, OPT_PWFILE, OPT_INTERVAL, OPT_QUEUES };

static const struct argp_option options[] = {
	{"follow", 'f', "LOG", 0, "Follow this log (written by a running recorder) instead of recording", 0},
	{"output", 'o', "LOG", 0, "As root: keep the recording in LOG (default: a temporary file, removed at exit)", 0},
	{"redis", OPT_REDIS, "URL", 0, "As root: sample this broker (as record --redis; `default`: $CELERY_BROKER_URL)", 0},
	{"redis-password-file", OPT_PWFILE, "FILE", 0, "As root: the broker password, from a file", 0},
	{"interval", OPT_INTERVAL, "SECONDS", 0, "As root: seconds between broker samples (default 5)", 0},
	{"queues", OPT_QUEUES, "Q1,Q2", 0, "As root: always sample these queues", 0},
	{0},
};

static void pass(struct argp_state *state, struct watch_opts *o, const char *opt, const char *arg)
{
	if (o->nrec_args + 2 > (int)(sizeof(o->rec_args) / sizeof(o->rec_args[0])))
		argp_error(state, "too many recorder options");
	o->rec_args[o->nrec_args++] = opt;
	if (arg)
		o->rec_args[o->nrec_args++] = arg;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct watch_opts *o = state->input;

	switch (key) {
	case 'f': o->follow = arg; break;
	case 'o': o->output = arg; break;
	case OPT_REDIS: pass(state, o, "--redis", arg); break;
	case OPT_PWFILE: pass(state, o, "--redis-password-file", arg); break;
	case OPT_INTERVAL: pass(state, o, "--interval", arg); break;
	case OPT_QUEUES: pass(state, o, "--queues", arg); break;
	case ARGP_KEY_END:
		if (o->follow && (o->output || o->nrec_args))
			argp_error(state, "--follow reads a log: recorder options (-o, --redis...) do not apply");
		if (!o->follow && geteuid() != 0)
			argp_error(state, "watch records itself only as root; without root, follow a "
				   "recorder's log with --follow LOG");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void on_incident(const struct cw_incident *inc, void *ctx)
{
	struct watch *w = ctx;

	cw_view_incident(&w->view, inc);
}

static void on_line(const char *line, size_t len, void *ctx)
{
	struct watch *w = ctx;
	char why[256];

	/* a line that is not one of ours is skipped here as explain would skip it */
	cw_engine_feed_line(w->eng, line, len, why, sizeof(why));
}

static void judge(struct watch *w)
{
	if (cw_engine_judge(w->eng, on_incident, w))
		fprintf(stderr, "celerywatch watch: out of memory\n");
	cw_view_header(&w->view, w->eng, w->source);
}

/* ---- a recorder of our own (root, no --follow) ---- */

struct child {
	pid_t pid;
	char dir[64];		/* the temporary directory, "" when -o was given */
	char log[4096];
};

static int start_recorder(struct child *c, const struct watch_opts *o)
{
	const char *argv[24];
	int n = 0;

	c->dir[0] = '\0';
	if (o->output) {
		snprintf(c->log, sizeof(c->log), "%s", o->output);
	} else {
		strcpy(c->dir, "/tmp/cw-watch-XXXXXX");
		if (!mkdtemp(c->dir)) {
			fprintf(stderr, "celerywatch watch: mkdtemp: %s\n", strerror(errno));
			return -1;
		}
		snprintf(c->log, sizeof(c->log), "%s/events.jsonl", c->dir);
	}
	argv[n++] = "celerywatch";
	argv[n++] = "record";
	argv[n++] = "-o";
	argv[n++] = c->log;
	for (int i = 0; i < o->nrec_args; i++)
		argv[n++] = o->rec_args[i];
	argv[n] = NULL;
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (c->pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);	/* the log goes to the file; stdout is ours */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv("/proc/self/exe", (char *const *)argv);
		_exit(127);
	}
	return 0;
}

/* Stop the recorder we started (by its pid), and remove the temporary log. */
static int stop_recorder(struct child *c)
{
	int status = 0;

	if (c->pid > 0) {
		kill(c->pid, SIGTERM);
		waitpid(c->pid, &status, 0);
	}
	if (c->dir[0]) {
		unlink(c->log);
		rmdir(c->dir);
	}
	return status;
}

/* ---- the loop ---- */

static int open_signals(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	return signalfd(-1, &mask, SFD_CLOEXEC);
}

/* Until SIGINT/SIGTERM (0), or our recorder ending (1). */
static int follow_loop(struct watch *w, int sfd, pid_t child)
{
	uint64_t last_judge = 0;

	for (;;) {
		struct pollfd p = {.fd = sfd, .events = POLLIN};
		if (poll(&p, 1, POLL_MS) > 0) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo != SIGCHLD)
					return 0;
				if (child > 0 && waitpid(child, NULL, WNOHANG) == child)
					return 1;
			}
		}
		long n = cw_follow_poll(&w->fol, on_line, w);
		if (n < 0)
			fprintf(stderr, "celerywatch watch: %s: %s\n", w->fol.path, strerror((int)-n));
		uint64_t now = cw_clock_ns(CLOCK_MONOTONIC);
		if (cw_engine_death_pending(w->eng) || (cw_engine_dirty(w->eng) && now - last_judge >= JUDGE_EVERY_NS) ||
		    !last_judge) {
			judge(w);
			last_judge = now;
		}
	}
}

int cmd_watch(int argc, char **argv)
{
	static const struct argp_child children[] = {
		{&cw_opt_h_is_help, 0, NULL, 0}, {&cw_opt_no_operands, 0, NULL, 0}, {0},
	};
	static const struct argp argp = {options, parse_opt, NULL, doc, children, NULL, NULL};
	struct watch_opts o = {0};
	struct watch w = {0};
	struct child c = {0};
	int ret;

	if (cw_opt_parse(&argp, argc, argv, &o))
		return 2;
	int sfd = open_signals();
	if (sfd < 0 || cw_engine_new(&w.eng, NULL)) {
		fprintf(stderr, "celerywatch watch: cannot start: %s\n", strerror(errno));
		return 1;
	}
	if (!o.follow && start_recorder(&c, &o)) {
		cw_engine_free(w.eng);
		return 1;
	}
	const char *path = o.follow ? o.follow : c.log;
	snprintf(w.source, sizeof(w.source), "%s %.480s", o.follow ? "following" : "recording into", path);
	cw_follow_init(&w.fol, path);
	cw_view_init(&w.view, stdout);
	ret = follow_loop(&w, sfd, c.pid);
	cw_view_end(&w.view);
	if (ret == 1) {
		fprintf(stderr, "celerywatch watch: the recorder ended (see `celerywatch record` with "
			"the same options for why)\n");
		c.pid = 0;
	}
	if (!o.follow)
		stop_recorder(&c);
	cw_follow_close(&w.fol);
	cw_engine_free(w.eng);
	close(sfd);
	return ret;
}
