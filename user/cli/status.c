/* `celerywatch status`: a snapshot now, without root or BPF: the Celery processes in /proc
 * (worker, role, pool size against concurrency, uptime), each queue's depth from the broker
 * and its consumers, a verdict per queue, and with --log the last death of each worker as
 * `explain` reads it. What a person runs first. This file reads the options and runs the
 * steps; status_collect.c and status_render.c do them. */
#include <argp.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/status_collect.h"
#include "cli/status_render.h"
#include "common/timeutil.h"
#include "explain/report.h"

struct status_opts {
	const char *redis, *log, *proc;
	bool json;
	struct cw_judge_opts judge;	/* for --log */
};

static const char doc[] =
	"Snapshot now: Celery processes, queue depths and consumers, a verdict per queue.\n\n"
	"Reads /proc (no root needed to see most processes; uids other than yours may hide some "
	"cgroups) and, when a broker URL is known, samples the Redis queue depths once.\v"
	"Verdicts: ok (a live worker consumes the queue), degraded (its workers are alive but "
	"have no pool process, prefork only), no_consumer; with --log also the log's stalled "
	"and saturated verdicts over ok, and a queue's open gap (no consumer since, backlog). "
	"Two live MainProcesses with one worker name are reported (DuplicateNodenameWarning).\n\n"
	"Examples:\n"
	"  celerywatch status\n"
	"  celerywatch status --redis redis://127.0.0.1:6379/3\n"
	"  celerywatch status --log /var/log/celerywatch.jsonl --json | jq '.queues'\n\n"
	"Exit status: 0 when every queue is ok, 1 when one is not (or the broker failed), "
	"2 on bad usage or when /proc cannot be read.";

enum { OPT_PROC = 1000 };

static const struct argp_option options[] = {
	{"redis", 'r', "URL", 0, "Redis broker (redis://[:password@]host:port/db, unix:///path); "
	 "default $CELERY_BROKER_URL, else no broker: /proc only", 0},
	{"log", 'l', "PATH", 0, "A recorder's event log: add each worker's last death from it", 0},
	{"json", 'j', NULL, 0, "Print the snapshot as one JSON document", 0},
	{"proc", OPT_PROC, "DIR", 0, "Read processes from DIR instead of /proc (for tests)", 0},
	{"connect-grace", 'G', "SECONDS", 0, "With --log: as explain --connect-grace (default 20)", 0},
	{"stall-after", 'S', "SECONDS", 0, "With --log: as explain --stall-after (default 30)", 0},
	{0},
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct status_opts *o = state->input;

	switch (key) {
	case 'r': o->redis = arg; break;
	case 'l': o->log = arg; break;
	case 'j': o->json = true; break;
	case OPT_PROC: o->proc = arg; break;
	case 'G': cw_opt_seconds(state, "connect-grace", arg, &o->judge.connect_grace_us); break;
	case 'S': cw_opt_seconds(state, "stall-after", arg, &o->judge.stall_after_us); break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int cmd_status(int argc, char **argv)
{
	static const struct argp_child children[] = {
		{&cw_opt_h_is_help, 0, NULL, 0}, {&cw_opt_no_operands, 0, NULL, 0}, {0},
	};
	static const struct argp argp = {options, parse_opt, NULL, doc, children, NULL, NULL};
	struct status_opts o = {.proc = "/proc",
				.judge = {CW_CONNECT_GRACE_DEFAULT_US, CW_STALL_AFTER_DEFAULT_US}};
	struct status st;
	struct utsname un;
	int ret = 0, bad;

	if (cw_opt_parse(&argp, argc, argv, &o))
		return 2;
	memset(&st, 0, sizeof(st));
	st.log = o.log;
	st.judge = o.judge;
	st.host = uname(&un) ? "localhost" : un.nodename;
	st.now = (int64_t)(cw_clock_ns(CLOCK_REALTIME) / 1000);

	int n = status_scan(&st, o.proc);
	if (n < 0) {
		fprintf(stderr, "celerywatch status: cannot read %s: %s\n", o.proc, strerror(-n));
		status_free(&st);
		return 2;
	}
	ret |= status_sample(&st, o.redis);
	ret |= status_read_log(&st);
	bad = status_judge(&st);
	if (bad < 0) {
		fprintf(stderr, "celerywatch status: out of memory\n");
		ret = 2;
	} else {
		if (bad)
			ret = 1;
		if (o.json)
			status_json(stdout, &st);
		else
			status_text(stdout, &st, cw_want_color(stdout));
	}
	status_free(&st);
	return ret;
}
