/* commands.h - the subcommands of the one dmarctrace binary; each returns the exit status */
#ifndef DT_COMMANDS_H
#define DT_COMMANDS_H

#include <stdbool.h>

#include "agent/runtime.h"
#include "report/error.h"

int dt_cmd_parse(int argc, char **argv);
int dt_cmd_check_config(int argc, char **argv);
int dt_cmd_scan(int argc, char **argv);
int dt_cmd_agent(int argc, char **argv);
int dt_cmd_trace(int argc, char **argv);
int dt_cmd_summary(int argc, char **argv);

/* dt_print_input_error - "dmarctrace: PATH: REASON (offset N)" on stderr, sanitised */
void dt_print_input_error(const char *path, const struct dt_error *err);

/* dt_cmd_open_runtime - open the runtime from the configuration at path and, when asked, index
 * what the logs hold now; on failure the reason is on stderr and <0 returned */
int dt_cmd_open_runtime(const char *path, bool oneshot, bool catch_up_logs, struct dt_runtime **out);

/* dt_cmd_logs_problem - after a catch-up: false when every log source was read, else true with
 * "N of M log sources cannot be read; 'PATH': why" (the first of them) in text */
bool dt_cmd_logs_problem(const struct dt_logs *logs, char *text, size_t cap);

#endif
