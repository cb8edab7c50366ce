/* celerywatch: subcommand dispatch and nothing else. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "version.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *what;
} commands[] = {
	{"record", cmd_record, "trace Celery worker lives and deaths in the kernel, write a JSONL event log (root)"},
	{"explain", cmd_explain, "say from event logs why each queue lost its consumers"},
	{"watch", cmd_watch, "live: each queue's verdict and each incident as it happens (--follow LOG: no root)"},
	{"status", cmd_status, "snapshot now: Celery processes, queue depths and consumers"},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: celerywatch COMMAND [OPTION...]\n"
		   "Find out why Celery workers vanished: an eBPF recorder and its explainer.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].what);
	fprintf(f, "\nExamples:\n"
		   "  sudo celerywatch record -o /var/log/celerywatch.jsonl --redis redis://127.0.0.1:6379/3\n"
		   "  celerywatch explain /var/log/celerywatch.jsonl\n"
		   "  celerywatch status --redis redis://127.0.0.1:6379/3\n\n"
		   "Run 'celerywatch COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("celerywatch %s\n", CW_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		/* usage lines then read "celerywatch record", not "record" */
		char name[64];
		snprintf(name, sizeof(name), "celerywatch %s", commands[i].name);
		argv[1] = name;
		return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "celerywatch: unknown command '%s'; try 'celerywatch --help'\n", argv[1]);
	return 2;
}
