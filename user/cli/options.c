/* The option parsing every subcommand shares (see options.h). */
#include <argp.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "cli/options.h"

static error_t h_opt(int key, char *arg, struct argp_state *state)
{
	(void)arg;
	if (key != 'h')
		return ARGP_ERR_UNKNOWN;
	argp_state_help(state, state->out_stream, ARGP_HELP_STD_HELP);	/* exits 0 */
	return 0;
}

static const struct argp_option h_options[] = {
	{NULL, 'h', NULL, OPTION_HIDDEN, "Give this help list", 0},
	{0},
};

const struct argp cw_opt_h_is_help = {h_options, h_opt, NULL, NULL, NULL, NULL, NULL};

static error_t no_operands(int key, char *arg, struct argp_state *state)
{
	if (key != ARGP_KEY_ARG)
		return ARGP_ERR_UNKNOWN;
	argp_error(state, "unexpected argument '%s'", arg);	/* exits 2 */
	return 0;
}

const struct argp cw_opt_no_operands = {NULL, no_operands, NULL, NULL, NULL, NULL, NULL};

int cw_opt_parse(const struct argp *argp, int argc, char **argv, void *input)
{
	argp_err_exit_status = 2;	/* usage errors exit 2 in every subcommand */
	return argp_parse(argp, argc, argv, 0, NULL, input) ? 2 : 0;
}

void cw_opt_seconds(struct argp_state *state, const char *name, const char *arg, int64_t *us)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 0 || v > 86400)
		argp_error(state, "--%s: '%s' is not a number of seconds from 0 to 86400", name, arg);
	*us = (int64_t)v * 1000000;
}
