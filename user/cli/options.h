/* What every subcommand's option parsing shares: argp, usage errors exiting 2, and two small
 * parsers a command adds as children of its own: -h as a hidden --help (for the commands
 * that always took it) and "unexpected argument" for commands that take no operands. */
#ifndef CW_CLI_OPTIONS_H
#define CW_CLI_OPTIONS_H

#include <argp.h>
#include <stdint.h>

extern const struct argp cw_opt_h_is_help;	/* -h does what --help does (not listed) */
extern const struct argp cw_opt_no_operands;	/* any operand is a usage error */

/*
 * argp_parse with usage errors exiting 2 (after "PROGRAM: message" and a "Try" line) and
 * --help printing on stdout and exiting 0. Returns 0, or 2 when argp gives up without
 * exiting (out of memory).
 */
int cw_opt_parse(const struct argp *argp, int argc, char **argv, void *input);

/* A whole number of seconds, 0 to 86400, for option --NAME, into microseconds; anything else
 * is a usage error. */
void cw_opt_seconds(struct argp_state *state, const char *name, const char *arg, int64_t *us);

#endif
