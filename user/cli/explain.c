/* `celerywatch explain`: read event logs, rebuild the timeline, say why each queue lost its
 * consumers (text, --json, --html). No root, no BPF: the log is the only input. */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "common/timeutil.h"
#include "engine/engine.h"
#include "explain/report.h"
#include "explain/timeline.h"
#include "explain/timeline_fold.h"

struct explain_opts {
	bool json;
	const char *queue, *html;
	int64_t since, until;		/* CW_NONE: the log's own bounds */
	struct cw_judge_opts judge;	/* --connect-grace, --stall-after */
	char *const *files;
	int nfiles;
};

static const char doc[] =
	"Say from celerywatch event logs why Celery queues lost their consumers.\n\n"
	"Reads JSON-lines logs written by `celerywatch record` (several files are put in time "
	"order, so rotated logs can be given in any order; `-` is stdin, the default when stdin "
	"is not a terminal). Rebuilds every worker's life and classifies each death: oom_kill, "
	"signal (with the sender), crash, exit_error, exit_clean, recycled, time_limit, "
	"parent_died, exec_failed, never_started, unknown. Each queue's verdict, worst first: "
	"no_consumer (no connected consumer now), flapping (one worker name started and died 3 "
	"times within 5 minutes, lately or leaving the queue with none), stalled (tasks waiting, "
	"the depth not going down, and no CPU time or context switch in the consumers' working "
	"processes for --stall-after), saturated (consumers progressing but the depth grew over "
	"the last --stall-after: rates and the concurrency that would keep up), degraded "
	"(consumers, no pool process), ok; and every gap (no consumer) with its backlog and "
	"drain. A consumer is a worker MainProcess alive and, in logs with proc_sample lines "
	"(schema 2), connected to the broker: one not connected --connect-grace after exec is "
	"listed as not connected and not counted.\v"
	"The JSON document:\n"
	"  {\"window\": {\"from\": TS, \"to\": TS},\n"
	"   \"queues\": [{\"queue\", \"verdict\": ok|degraded|saturated|stalled|\n"
	"               flapping|no_consumer,\n"
	"               \"depth_first\", \"depth_last\", \"growth_per_min\",\n"
	"               \"consumers_now\" (connected ones, or alive when the log has\n"
	"               no connection facts), \"uncovered_since\", \"uncertain\",\n"
	"               \"untracked\", \"cause\": CAUSE|null (flapping: the loop's\n"
	"               last death), \"restarts\": INT (consumer starts in the window\n"
	"               after the first, per worker name),\n"
	"               \"gaps\": [GAP...], \"arrival_per_min\": NUM|null (growth\n"
	"               in the last gap; saturated: arrivals over --stall-after),\n"
	"               \"arrival_at_least\": BOOL (arrivals unknown: the growth),\n"
	"               \"drain_per_min\": NUM|null (after the last gap; saturated:\n"
	"               over --stall-after, null if unknown), \"eta_empty_s\":\n"
	"               NUM|null (depth now / drain; null when empty or not\n"
	"               draining), \"concurrency_now\", \"concurrency_needed\":\n"
	"               INT|null, \"flapping\": {\"worker\", \"deaths\", \"from\",\n"
	"               \"to\", \"summary\"}|null,\n"
	"               \"stalled\": {\"since\": TS, \"pids\": [INT], \"blocked_in\":\n"
	"               STR|null, \"for_s\", \"depth\", \"summary\"}|null (now),\n"
	"               \"stalls\": [GAP...] (stalls that ended, cause null),\n"
	"               \"consumers\": [{\"worker\", \"pid\", \"uid\", \"exe\",\n"
	"               \"connected\": BOOL|null (null: not known), \"starting\"}],\n"
	"               \"consumer_names\": [STR], \"starting\": INT,\n"
	"               \"not_connected\": [{\"pid\", \"uid\", \"exe\", \"cmdline\",\n"
	"               \"since\"}], \"duplicates\": [{\"worker\", \"pids\"}]}],\n"
	"   \"deaths\": [CAUSE...] (recycled pool children: the first 2000 of the\n"
	"   window, overall and per queue),\n"
	"   \"recycled_unlisted\": INT (the others, counted; only when there are)}\n"
	"  GAP: {\"from\": TS, \"to\": TS|null (still none), \"cause\": CAUSE|null,\n"
	"        \"backlog_peak\": INT|null (no sample), \"arrival_per_min\",\n"
	"        \"drain_per_min\", \"emptied_at\": TS|null}\n"
	"  CAUSE: {\"kind\", \"ts\", \"pid\", \"worker\", \"role\", \"queues\", \"signal\",\n"
	"          \"exit_code\", \"sender\": {kind: process|kernel, reason, pid, comm,\n"
	"          uid, cmdline}|null,\n"
	"          \"oom\": {...}|null, \"stderr_tail\", \"summary\"}\n\n"
	"Examples:\n"
	"  celerywatch explain /var/log/celerywatch.jsonl\n"
	"  celerywatch explain --queue low_priority --since -6h celerywatch.jsonl*\n"
	"  celerywatch explain --json celerywatch.jsonl |\n"
	"      jq '.queues[] | {queue, verdict}'\n"
	"  zcat celerywatch.jsonl.2.gz |\n"
	"      celerywatch explain --html report.html - celerywatch.jsonl\n\n"
	"Exit status: 0 when the logs were read, 1 if a log could not be read, 2 on bad usage. "
	"Unreadable lines are reported on stderr as FILE:LINE: reason and skipped.";

static const struct argp_option options[] = {
	{"json", 'j', NULL, 0, "Print the analysis as one JSON document", 0},
	{"queue", 'q', "QUEUE", 0, "Only this queue (and the deaths that concern it)", 0},
	{"since", 's', "WHEN", 0, "Start of the window: RFC 3339 time or relative (-1h, -30m, -2d)", 0},
	{"until", 'u', "WHEN", 0, "End of the window (later events are ignored, most of them unparsed)", 0},
	{"html", 'H', "OUT.html", 0, "Also write a self-contained HTML page with a timeline picture", 0},
	{"connect-grace", 'G', "SECONDS", 0, "A worker not connected to the broker this long after "
	 "exec is not a consumer (default 20; v2 logs)", 0},
	{"stall-after", 'S', "SECONDS", 0, "No progress in a consumer's working processes this long "
	 "with tasks waiting is a stall; growth over this long is saturation (default 30; v2 logs)",
	 0},
	{0},
};

/* --since/--until: an RFC 3339 time or one relative to now */
static void parse_when(struct argp_state *state, const char *opt, const char *arg, int64_t *t)
{
	int r = cw_parse_when(arg, (int64_t)(cw_clock_ns(CLOCK_REALTIME) / 1000), t);

	if (r == -2)
		argp_error(state, "--%s: '%s' is out of range (a relative time reaches at most "
			   "1000000d)", opt, arg);
	else if (r)
		argp_error(state, "--%s: '%s' is neither an RFC 3339 time (2026-11-24T12:03:11Z) "
			   "nor relative (-1h, -30m)", opt, arg);
}

/* After the options: the window makes sense, and there is a log to read. */
static void check_end(struct argp_state *state, struct explain_opts *o)
{
	static char *stdin_only[] = {"-"};

	if (o->since != CW_NONE && o->until != CW_NONE && o->since > o->until)
		argp_error(state, "--since is after --until");
	if (o->nfiles)
		return;
	if (isatty(STDIN_FILENO))
		argp_error(state, "no log given (and stdin is a terminal)");
	o->files = stdin_only;
	o->nfiles = 1;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct explain_opts *o = state->input;

	switch (key) {
	case 'j': o->json = true; break;
	case 'q': o->queue = arg; break;
	case 's': parse_when(state, "since", arg, &o->since); break;
	case 'u': parse_when(state, "until", arg, &o->until); break;
	case 'H': o->html = arg; break;
	case 'G': cw_opt_seconds(state, "connect-grace", arg, &o->judge.connect_grace_us); break;
	case 'S': cw_opt_seconds(state, "stall-after", arg, &o->judge.stall_after_us); break;
	case ARGP_KEY_ARGS:
		o->files = state->argv + state->next;
		o->nfiles = state->argc - state->next;
		state->next = state->argc;
		break;
	case ARGP_KEY_END:
		check_end(state, o);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* The text (or --json) report on stdout, and the --html page. Returns 0, or 1 on a failure. */
static int write_reports(const struct explain_opts *o, struct cw_report_in *in)
{
	int ret = 0;

	if (o->json) {
		if (cw_report_json(stdout, in))
			ret = 1;
	} else {
		in->color = cw_want_color(stdout);
		if (cw_report_text(stdout, in))
			ret = 1;
	}
	if (o->html) {
		char err[256];
		in->color = false;
		if (cw_report_html(o->html, in, err, sizeof(err))) {
			fprintf(stderr, "celerywatch explain: %s\n", err);
			ret = 1;
		} else if (!o->json) {
			fprintf(stderr, "celerywatch explain: wrote %s\n", o->html);
		}
	}
	if (fflush(stdout))
		ret = 1;
	return ret;
}

int cmd_explain(int argc, char **argv)
{
	static const struct argp_child children[] = {{&cw_opt_h_is_help, 0, NULL, 0}, {0}};
	static const struct argp argp = {options, parse_opt, "[LOG...]", doc, children, NULL, NULL};
	struct explain_opts o = {.since = CW_NONE, .until = CW_NONE,
				 .judge = {CW_CONNECT_GRACE_DEFAULT_US, CW_STALL_AFTER_DEFAULT_US}};
	struct cw_engine_opts eo = {.judge = &o.judge};
	struct cw_engine *eng;
	struct cw_logread_stats st = {0};
	struct cw_analysis an;
	int ret = 0;

	if (cw_opt_parse(&argp, argc, argv, &o))
		return 2;
	if (cw_engine_new(&eng, &eo)) {
		fprintf(stderr, "celerywatch explain: out of memory\n");
		return 1;
	}
	/* the same engine record runs live, over the whole log at once; recycled pool
	 * children beyond the first few thousand in the window are kept only as counts */
	cw_engine_fold_recycled(eng, CW_FOLD_KEEP_DEFAULT, o.since);
	if (cw_engine_replay(eng, o.files, o.nfiles, o.until, &st, stderr))
		ret = 1;
	if (cw_engine_analyze(eng, o.since, o.until, o.queue, &an)) {
		fprintf(stderr, "celerywatch explain: out of memory\n");
		cw_engine_free(eng);
		return 1;
	}
	if (o.queue && !an.nqueues)
		fprintf(stderr, "celerywatch explain: queue '%s' is not in the log\n", o.queue);

	struct cw_report_in in = {.tl = cw_engine_timeline(eng), .a = &an, .skipped = st.skipped};
	if (write_reports(&o, &in))
		ret = 1;
	cw_analysis_free(&an);
	cw_engine_free(eng);
	return ret;
}
