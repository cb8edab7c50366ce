/* What every subcommand's option parsing shares: argp, usage errors exiting 2, and -h as a
 * hidden --help for the commands that always took it. */
#ifndef CW_CLI_OPTIONS_H
#define CW_CLI_OPTIONS_H

#include <argp.h>

/* A child for struct argp's children: -h does what --help does (not listed in the help). */
extern const struct argp_child cw_opt_h_is_help[];

/*
 * argp_parse with usage errors exiting 2 (after "PROGRAM: message" and a "Try" line) and
 * --help printing on stdout and exiting 0. Returns 0, or 2 when argp gives up without
 * exiting (out of memory).
 */
int cw_opt_parse(const struct argp *argp, int argc, char **argv, void *input);

#endif
