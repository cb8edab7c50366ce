/* `record`'s options: the struct the loop reads, argp's table and parser, the defaults and
 * the checks between options (record.c is the loop; this is its command line). */
#ifndef CW_RECORD_OPTS_H
#define CW_RECORD_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert/alerts.h"
#include "log/rotate.h"

struct record_opts {
	const char *output;
	bool all, verbose, redis, no_tail, no_exec_fail;
	int tail_hook;		/* enum cw_tail_hook */
	double tail_window;	/* --tail-window seconds; 0: always (the hook attached all along) */
	const char *redis_url, *password_file, *key_prefix;
	char **queues;
	size_t nqueues;
	double interval, rescan;
	uint32_t ringbuf_kb, max_tracked;
	uint32_t budget_rate, budget_burst;	/* --flood-budget; rate 0: off */
	const char *btf_path;
	uint64_t max_lines;	/* --max-lines-per-minute; 0: no cap */
	struct cw_rotation rotation;	/* --rotate-size, --rotate-keep, --compress */
	const char *broker_opt;	/* the last broker option given (they need --redis) */
	const char *metrics;	/* --metrics HOST:PORT */
	struct cw_alerts_opts alerts;	/* --alert-exec, --alert-timeout, --alert-max, --alert-journal */
	const char *alert_opt;	/* the last of --alert-timeout/--alert-max (they need --alert-exec) */
};

/* Defaults, then argv; warns about options that do nothing without another. Returns 0, or 2
 * (bad usage: argp has said why). */
int cw_record_opts_parse(struct record_opts *o, int argc, char **argv);

#endif
