/* `record`'s command line; see record_opts.h. */
#include "cli/record_opts.h"

/* systemd's DefaultTimeoutStopSec: the SIGTERM that starts a warm shutdown opens a window
 * that lasts as long as systemd waits before its SIGKILL (which opens another) */
#define CW_TAIL_WINDOW_DEFAULT_S "90"

#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "cli/options.h"
#include "events.h"
#include "log/logcap.h"
#include "metrics/server.h"

static const char doc[] =
	"Trace Celery worker lives and deaths in the kernel and write a JSON-lines event log.\n"
	"Needs root. Filters in the kernel: only Celery processes (a `celery` argument at exec, "
	"their forks, and those already running at start-up) produce events, unless --all.\n"
	"SIGINT/SIGTERM stop cleanly with a tracer_stop line; SIGHUP reopens the output file "
	"(logrotate). Schema: docs/events.md.\v"
	"Examples:\n"
	"  celerywatch record -o /var/log/celerywatch.jsonl\n"
	"  celerywatch record -o ev.jsonl --redis redis://10.0.0.5:6379/3\n"
	"  celerywatch record --all -o - | grep '\"type\":\"oom\"'\n"
	"  celerywatch record -o ev.jsonl --redis default --metrics 127.0.0.1:9808\n"
	"  celerywatch record -o ev.jsonl --alert-journal \\\n"
	"      --alert-exec 'curl -fsS --data-binary @- https://hooks.example/celery'\n\n"
	"Exit status: 0 after SIGINT/SIGTERM, 1 when BPF cannot be loaded (not root, refused) or the "
	"--metrics address cannot be bound, 2 on bad options or an unusable broker URL.";

enum { OPT_TAIL_HOOK = 1400, OPT_NO_EXEC_FAIL, OPT_TAIL_WINDOW };
enum { OPT_ALERT_EXEC = 1300, OPT_ALERT_TIMEOUT, OPT_ALERT_MAX, OPT_ALERT_JOURNAL };
enum { OPT_METRICS = 989, OPT_ROTATE_SIZE = 990, OPT_ROTATE_KEEP, OPT_COMPRESS, OPT_BUDGET = 994, OPT_MAX_LINES = 995, OPT_BTF = 996, OPT_MAX_TRACKED = 997, OPT_RINGBUF = 998, OPT_NO_TAIL = 999, OPT_REDIS = 1000, OPT_PWFILE, OPT_QUEUES, OPT_INTERVAL, OPT_PREFIX, OPT_RESCAN };

static const struct argp_option options[] = {
	{"output", 'o', "PATH", 0, "Write the event log to PATH (created 0640, appended, never through a symlink); - is stdout (default)", 0},
	{"all", 'a', NULL, 0, "Record every process on the host, not only Celery ones", 0},
	{"verbose", 'v', NULL, 0, "Show libbpf's messages (verifier log on load errors)", 0},
	{"no-stderr-tail", OPT_NO_TAIL, NULL, 0, "Do not keep the last writes to stdout/stderr of Celery processes (removes the write hook and its per-write cost; exit lines then have no stderr_tail)", 0},
	{"tail-hook", OPT_TAIL_HOOK, "btf|raw|tracepoint", 0, "Where the stderr tail sees writes: tracepoint (default; sys_enter_write, runs for write(2) only), or btf or raw: sys_enter as a BTF-typed or plain raw tracepoint program (x86-64), which runs for every syscall of the host and measured no cheaper per write (docs/benchmarks.md). A form the kernel refuses falls back to the next", 0},
	{"tail-window", OPT_TAIL_WINDOW, "SECONDS|always", 0, "Attach the write hook only for SECONDS after the exec of a Celery process or a signal to one, when a tail matters (a worker's start-up errors, a detached worker's traceback to /dev/null, a shutdown's or SIGUSR1's output), and detach it otherwise, so the host's writes run no BPF program outside those windows (default " CW_TAIL_WINDOW_DEFAULT_S ": the length of systemd's stop timeout, so a warm shutdown it waits for stays watched, and far longer than a worker's start-up). A death outside a window may lack its last writes; its exit line says so (stderr_watched). always: attached all the time", 0},
	{"no-exec-fail", OPT_NO_EXEC_FAIL, NULL, 0, "Do not record failed execs of Celery commands (removes the execve hooks; with --no-stderr-tail no syscall hook remains and the host's syscalls keep their fast path)", 0},
	{"ring-buffer", OPT_RINGBUF, "KIB", 0, "Kernel ring buffer size in KiB, a power of two (default 4096); records that do not fit are counted in `lost` lines", 0},
	{"max-lines-per-minute", OPT_MAX_LINES, "N", 0, "Cap the log's growth: past N lines in a minute, exec/exec_fail/fork/signal/rename/scan lines are counted in one `suppressed` line at the minute's end instead of written; deaths and the recorder's own lines always are (default 100000, 0: no cap)", 0},
	{"max-tracked", OPT_MAX_TRACKED, "N", 0, "Processes the kernel can follow at once (default 32768); a process beyond that is recorded as untracked (map_full) and explain calls its queues uncertain", 0},
	{"flood-budget", OPT_BUDGET, "RATE[:BURST]", 0, "Kernel flood budget: exec_fail, signal and rename records a process (and failed execs a uid) may write per second, and at once (default 50:200); the rest are counted in `suppressed` lines. 0 turns the budgets off", 0},
	{"btf", OPT_BTF, "FILE", 0, "Kernel BTF to relocate against instead of /sys/kernel/btf/vmlinux (e.g. from BTFHub)", 0},
	{"redis", OPT_REDIS, "URL", 0, "Sample queue depths from this broker: redis://[[user]:password@]host[:port][/db] or unix:///path.sock[?db=N]; 'default' means $CELERY_BROKER_URL, else redis://127.0.0.1:6379/0", 1},
	{"redis-password-file", OPT_PWFILE, "FILE", 0, "Read the broker password from FILE (arguments are visible in ps)", 1},
	{"queues", OPT_QUEUES, "Q1,Q2", 0, "Sample these queues too (workers' queues and the broker's bindings are found on their own)", 1},
	{"interval", OPT_INTERVAL, "SECONDS", 0, "Seconds between broker samples (default 5, at least 0.1)", 1},
	{"key-prefix", OPT_PREFIX, "PREFIX", 0, "kombu's global_keyprefix, if the app sets one", 1},
	{"rotate-size", OPT_ROTATE_SIZE, "SIZE", 0, "Rotate the log when it reaches SIZE (4096, 64K, 100M, 1G): LOG becomes LOG.1, LOG.1 LOG.2, ... (for hosts without logrotate)", 0},
	{"rotate-keep", OPT_ROTATE_KEEP, "N", 0, "Rotated files kept with --rotate-size (default 5; the oldest goes)", 0},
	{"compress", OPT_COMPRESS, NULL, 0, "gzip each rotated file (LOG.1.gz ...; explain reads them as they are)", 0},
	{"metrics", OPT_METRICS, "HOST:PORT", 0, "Serve Prometheus metrics at http://HOST:PORT/metrics (127.0.0.1:9808, [::1]:9808; numeric addresses). Unauthenticated: keep it on loopback or behind a firewall", 0},
	{"redis-rescan", OPT_RESCAN, "SECONDS", 0, "Ignored: queues bound in the broker are discovered at every sample (kept for old command lines)", 1},
	{"alert-exec", OPT_ALERT_EXEC, "CMD", 0, "Run /bin/sh -c CMD for each incident, its JSON on stdin, with a clean environment (CELERYWATCH_INCIDENT_KIND, _QUEUE, _WORKER, PATH)", 2},
	{"alert-timeout", OPT_ALERT_TIMEOUT, "SECONDS", 0, "Kill an alert command's process group after SECONDS (SIGTERM, SIGKILL 2 s later; default 10)", 2},
	{"alert-max", OPT_ALERT_MAX, "N", 0, "Alert commands running at once (default 4); up to 64 more wait, the rest are dropped and counted", 2},
	{"alert-journal", OPT_ALERT_JOURNAL, NULL, 0, "Send each incident to the systemd journal (journalctl -t celerywatch -p warning)", 2},
	{0},
};

static int add_queue_list(struct record_opts *o, const char *list)
{
	char *copy = strdup(list), *save = NULL;
	if (!copy)
		return -ENOMEM;
	for (char *q = strtok_r(copy, ",", &save); q; q = strtok_r(NULL, ",", &save)) {
		char **nq = realloc(o->queues, (o->nqueues + 1) * sizeof(*nq));
		if (!nq)
			break;
		o->queues = nq;
		o->queues[o->nqueues++] = strdup(q);
	}
	free(copy);
	return 0;
}

/* --interval, --redis-rescan: seconds between 0.1 and 86400 */
static double parse_seconds(struct argp_state *state, const char *opt, const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= 0.1) || v > 86400)
		argp_error(state, "%s '%s': expected seconds between 0.1 and 86400", opt, arg);
	return v;
}

/* --flood-budget RATE[:BURST]: RATE 0 (no budgets), or 1..1000000 with BURST >= 1 */
static void parse_budget(struct argp_state *state, struct record_opts *o, const char *arg)
{
	char *end;
	unsigned long rate, burst;

	errno = 0;
	rate = strtoul(arg, &end, 10);
	burst = rate * 4;
	if (!errno && end != arg && *end == ':')
		burst = strtoul(end + 1, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || rate > 1000000 || (rate && !burst) ||
	    burst > 1000000)
		argp_error(state, "--flood-budget '%s': expected RATE[:BURST], records per second and "
			   "at once (0: no budgets)", arg);
	o->budget_rate = (uint32_t)rate;
	o->budget_burst = rate ? (uint32_t)burst : 0;
}

/* The --alert-* options; false for any other key. */
static bool parse_alert_opt(struct argp_state *state, struct record_opts *o, int key, const char *arg)
{
	char *end;

	switch (key) {
	case OPT_ALERT_EXEC: o->alerts.exec_cmd = arg; return true;
	case OPT_ALERT_JOURNAL: o->alerts.journal = true; return true;
	case OPT_ALERT_TIMEOUT:
		o->alerts.timeout_s = parse_seconds(state, "--alert-timeout", arg);
		o->alert_opt = "--alert-timeout";
		return true;
	case OPT_ALERT_MAX:
		errno = 0;
		unsigned long n = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || n < 1 || n > 64)
			argp_error(state, "--alert-max '%s': expected a number of commands from 1 to 64", arg);
		o->alerts.max_running = (unsigned)n;
		o->alert_opt = "--alert-max";
		return true;
	}
	return false;
}

/* The kernel side's options (hooks, ring buffer, tracked map); true if key was one of them */
static bool parse_kernel_opt(struct argp_state *state, struct record_opts *o, int key, char *arg)
{
	char *end;

	switch (key) {
	case OPT_TAIL_WINDOW:
		if (!strcmp(arg, "always")) {
			o->tail_window = 0;
			break;
		}
		errno = 0;
		o->tail_window = strtod(arg, &end);
		if (errno || end == arg || *end || !(o->tail_window >= 1) || o->tail_window > 86400)
			argp_error(state, "--tail-window '%s': expected seconds between 1 and 86400, or always", arg);
		break;
	case OPT_TAIL_HOOK:
		if (!strcmp(arg, "btf"))
			o->tail_hook = CW_TAIL_BTF;
		else if (!strcmp(arg, "raw"))
			o->tail_hook = CW_TAIL_RAW;
		else if (!strcmp(arg, "tracepoint"))
			o->tail_hook = CW_TAIL_TP;
		else
			argp_error(state, "--tail-hook: '%s' is not btf, raw or tracepoint", arg);
		break;
	case OPT_RINGBUF: {
		errno = 0;
		unsigned long kb = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || kb < 4 || kb > (1ul << 20) || (kb & (kb - 1)))
			argp_error(state, "--ring-buffer '%s': expected a power of two between 4 and 1048576 KiB", arg);
		o->ringbuf_kb = (uint32_t)kb;
		break;
	}
	case OPT_MAX_TRACKED: {
		errno = 0;
		unsigned long n = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || n < 1 || n > (1ul << 22))
			argp_error(state, "--max-tracked '%s': expected a number between 1 and 4194304", arg);
		o->max_tracked = (uint32_t)n;
		break;
	}
	default:
		return false;
	}
	return true;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct record_opts *o = state->input;
	char *end;

	static const char *const broker_opts[] = {
		[OPT_PWFILE - OPT_REDIS] = "--redis-password-file", [OPT_QUEUES - OPT_REDIS] = "--queues",
		[OPT_INTERVAL - OPT_REDIS] = "--interval", [OPT_PREFIX - OPT_REDIS] = "--key-prefix",
		[OPT_RESCAN - OPT_REDIS] = "--redis-rescan",
	};
	if (key > OPT_REDIS && key <= OPT_RESCAN)
		o->broker_opt = broker_opts[key - OPT_REDIS];
	if (parse_alert_opt(state, o, key, arg) || parse_kernel_opt(state, o, key, arg))
		return 0;
	switch (key) {
	case 'o': o->output = arg; break;
	case 'a': o->all = true; break;
	case 'v': o->verbose = true; break;
	case OPT_NO_TAIL: o->no_tail = true; break;
	case OPT_NO_EXEC_FAIL: o->no_exec_fail = true; break;
	case OPT_MAX_LINES:
		errno = 0;
		o->max_lines = strtoull(arg, &end, 10);
		if (errno || end == arg || *end || arg[0] == '-')
			argp_error(state, "--max-lines-per-minute '%s': expected a number of lines (0: no cap)", arg);
		break;
	case OPT_BTF: o->btf_path = arg; break;
	case OPT_BUDGET: parse_budget(state, o, arg); break;
	case OPT_REDIS:
		o->redis = true;
		/* NULL: the sampler takes $CELERY_BROKER_URL or its default */
		o->redis_url = strcmp(arg, "default") ? arg : NULL;
		break;
	case OPT_PWFILE: o->password_file = arg; break;
	case OPT_PREFIX: o->key_prefix = arg; break;
	case OPT_QUEUES:
		if (add_queue_list(o, arg))
			argp_failure(state, 2, ENOMEM, "--queues");
		break;
	case OPT_INTERVAL: o->interval = parse_seconds(state, "--interval", arg); break;
	case OPT_RESCAN: o->rescan = parse_seconds(state, "--redis-rescan", arg); break;
	case OPT_ROTATE_SIZE: {
		int64_t v = cw_parse_size(arg);
		if (v < 0)
			argp_error(state, "--rotate-size '%s': expected a size of at least 4096 bytes (64K, 100M, 1G)", arg);
		o->rotation.size = (uint64_t)v;
		break;
	}
	case OPT_ROTATE_KEEP:
		errno = 0;
		long keep = strtol(arg, &end, 10);
		if (errno || end == arg || *end || keep < 1 || keep > 1000)
			argp_error(state, "--rotate-keep '%s': expected a number of files from 1 to 1000", arg);
		o->rotation.keep = (int)keep;
		break;
	case OPT_COMPRESS: o->rotation.compress = true; break;
	case OPT_METRICS: {
		struct sockaddr_storage ss;
		socklen_t sl;
		if (cw_metrics_parse_addr(arg, &ss, &sl))
			argp_error(state, "--metrics '%s': expected IPV4:PORT or [IPV6]:PORT, e.g. 127.0.0.1:9808", arg);
		o->metrics = arg;
		break;
	}
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* The line in r->line goes to the writer's queue, unless the log cap suppresses it. A full
 * queue drops it (counted by the writer); write errors are the writer's to count and show. */
/* Rotation renames files: it needs a file, not stdout. */
static int check_rotation(const struct record_opts *o)
{
	bool to_stdout = !o->output || !strcmp(o->output, "-");

	if (o->rotation.size && to_stdout) {
		fprintf(stderr, "celerywatch: --rotate-size needs -o FILE (the log goes to stdout)\n");
		return 2;
	}
	if (!o->rotation.size && o->rotation.compress)
		fprintf(stderr, "celerywatch: --compress does nothing without --rotate-size\n");
	return 0;
}

int cw_record_opts_parse(struct record_opts *o, int argc, char **argv)
{
	static const struct argp_child children[] = {
		{&cw_opt_h_is_help, 0, NULL, 0}, {&cw_opt_no_operands, 0, NULL, 0}, {0},
	};
	static const struct argp argp = {options, parse_opt, NULL, doc, children, NULL, NULL};

	o->interval = 5.0;
	o->tail_window = strtod(CW_TAIL_WINDOW_DEFAULT_S, NULL);
	o->budget_rate = CW_BUDGET_RATE;
	o->budget_burst = CW_BUDGET_BURST;
	o->max_lines = CW_LOGCAP_DEFAULT;
	o->rotation.keep = 5;
	if (cw_opt_parse(&argp, argc, argv, o) || check_rotation(o))
		return 2;
	if (o->broker_opt && !o->redis)
		fprintf(stderr, "celerywatch: %s does nothing without --redis\n", o->broker_opt);
	if (o->alert_opt && !o->alerts.exec_cmd)
		fprintf(stderr, "celerywatch: %s does nothing without --alert-exec\n", o->alert_opt);
	return 0;
}
