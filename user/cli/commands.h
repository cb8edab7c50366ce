/* Subcommand entry points; main.c dispatches, each lives in its own file. */
#ifndef CW_COMMANDS_H
#define CW_COMMANDS_H

int cmd_record(int argc, char **argv);	/* record.c */
int cmd_explain(int argc, char **argv);	/* explain.c */
int cmd_status(int argc, char **argv);	/* status.c */
int cmd_watch(int argc, char **argv);	/* watch.c */

#endif
