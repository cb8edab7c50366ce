/* `celerywatch explain`: read event logs, rebuild the timeline, say why each queue lost its
 * consumers (text, --json, --html). No root, no BPF: the log is the only input. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "explain/causes.h"
#include "cli/commands.h"
#include "explain/report.h"
#include "explain/timeline.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: celerywatch explain [OPTION...] [LOG...]\n"
"Say from celerywatch event logs why Celery queues lost their consumers.\n"
"\n"
"Reads JSON-lines logs written by `celerywatch record` (several files are put in time\n"
"order, so rotated logs can be given in any order; `-` is stdin, the default when stdin\n"
"is not a terminal). Rebuilds every worker's life and classifies each death:\n"
"oom_kill, signal (with the sender), crash, exit_error, exit_clean, recycled,\n"
"time_limit, parent_died, exec_failed, never_started, unknown.\n"
"\n"
"Options:\n"
"  -j, --json            print the analysis as one JSON document\n"
"  -q, --queue=QUEUE     only this queue (and the deaths that concern it)\n"
"  -s, --since=WHEN      start of the window: RFC 3339 time or relative (-1h, -30m, -2d)\n"
"  -u, --until=WHEN      end of the window (later events are ignored)\n"
"  -H, --html=OUT.html   also write a self-contained HTML page with a timeline picture\n"
"  -h, --help            show this help\n"
"\n"
"The JSON document:\n"
"  {\"window\": {\"from\": TS, \"to\": TS},\n"
"   \"queues\": [{\"queue\", \"verdict\": ok|degraded|no_consumer, \"depth_first\",\n"
"               \"depth_last\", \"growth_per_min\", \"consumers_now\", \"uncovered_since\",\n"
"               \"cause\": CAUSE|null}],\n"
"   \"deaths\": [CAUSE...]}\n"
"  CAUSE: {\"kind\", \"ts\", \"pid\", \"worker\", \"role\", \"queues\", \"signal\", \"exit_code\",\n"
"          \"sender\": {pid, comm, uid, cmdline}|null, \"oom\": {...}|null, \"stderr_tail\",\n"
"          \"summary\"}\n"
"\n"
"Examples:\n"
"  celerywatch explain /var/log/celerywatch.jsonl\n"
"  celerywatch explain --queue low_priority --since -6h /var/log/celerywatch.jsonl*\n"
"  celerywatch explain --json celerywatch.jsonl | jq '.queues[] | {queue, verdict}'\n"
"  zcat celerywatch.jsonl.2.gz | celerywatch explain --html report.html - celerywatch.jsonl\n"
"\n"
"Exit status: 0 when the logs were read, 1 if a log could not be read, 2 on bad usage.\n"
"Unreadable lines are reported on stderr as FILE:LINE: reason and skipped.\n");
}

static int64_t now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"queue", required_argument, NULL, 'q'},
		{"since", required_argument, NULL, 's'},
		{"until", required_argument, NULL, 'u'},
		{"html", required_argument, NULL, 'H'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	bool json = false;
	const char *queue = NULL, *html = NULL;
	int64_t since = CW_NONE, until = CW_NONE;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jq:s:u:H:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'q':
			queue = optarg;
			break;
		case 's':
		case 'u': {
			int64_t *t = c == 's' ? &since : &until;
			int r = cw_parse_when(optarg, now_us(), t);
			if (r == -2) {
				fprintf(stderr, "celerywatch explain: --%s: '%s' is out of range (a "
					"relative time reaches at most 1000000d)\n",
					c == 's' ? "since" : "until", optarg);
				return 2;
			}
			if (r) {
				fprintf(stderr, "celerywatch explain: --%s: '%s' is neither an RFC 3339 "
					"time (2026-11-24T12:03:11Z) nor relative (-1h, -30m)\n",
					c == 's' ? "since" : "until", optarg);
				return 2;
			}
			break;
		}
		case 'H':
			html = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'celerywatch explain --help'.\n");
			return 2;
		}
	}
	if (since != CW_NONE && until != CW_NONE && since > until) {
		fprintf(stderr, "celerywatch explain: --since is after --until\n");
		return 2;
	}

	char *stdin_only[] = {"-"};
	char *const *files = argv + optind;
	int nfiles = argc - optind;
	if (!nfiles) {
		if (isatty(STDIN_FILENO)) {
			fprintf(stderr, "celerywatch explain: no log given (and stdin is a terminal)\n"
				"Try 'celerywatch explain --help'.\n");
			return 2;
		}
		files = stdin_only;
		nfiles = 1;
	}

	struct cw_timeline tl;
	struct cw_logread_stats st = {0};
	struct cw_analysis an;
	int ret = 0;

	if (cw_timeline_init(&tl)) {
		fprintf(stderr, "celerywatch explain: out of memory\n");
		return 1;
	}
	tl.until = until;
	if (cw_timeline_load(&tl, files, nfiles, &st, stderr))
		ret = 1;
	if (cw_analyze(&tl, since, until, queue, &an)) {
		fprintf(stderr, "celerywatch explain: out of memory\n");
		cw_timeline_free(&tl);
		return 1;
	}
	if (queue && !an.nqueues)
		fprintf(stderr, "celerywatch explain: queue '%s' is not in the log\n", queue);

	struct cw_report_in in = {.tl = &tl, .a = &an, .skipped = st.skipped};
	if (json) {
		if (cw_report_json(stdout, &in))
			ret = 1;
	} else {
		in.color = cw_want_color(stdout);
		if (cw_report_text(stdout, &in))
			ret = 1;
	}
	if (html) {
		char err[256];
		in.color = false;
		if (cw_report_html(html, &in, err, sizeof(err))) {
			fprintf(stderr, "celerywatch explain: %s\n", err);
			ret = 1;
		} else if (!json) {
			fprintf(stderr, "celerywatch explain: wrote %s\n", html);
		}
	}
	if (fflush(stdout))
		ret = 1;
	cw_analysis_free(&an);
	cw_timeline_free(&tl);
	return ret;
}
