/* main.c - dmarctrace: DMARC report agent that traces abuse to the local sender
 *
 * One binary, several subcommands (DESIGN.md section 6); this file only dispatches. */
#include <stdio.h>
#include <string.h>

#include "agent/commands.h"
#include "config.h"

static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
} commands[] = {
        { "trace", dt_cmd_trace, "explain one failure report: the attribution chain, step by step" },
        { "summary", dt_cmd_summary, "daily volumes per domain with spikes marked, top sources, attributions" },
        { "parse", dt_cmd_parse, "decode report files to JSON lines (no state, no events)" },
        { "agent", dt_cmd_agent, "the daemon: watch the Maildir, process reports as they arrive" },
        { "scan", dt_cmd_scan, "process the Maildir's backlog once, then exit" },
        { "check-config", dt_cmd_check_config, "validate the configuration, print effective values" },
};

/* usage - the command list on f */
static void usage(FILE *f) {
        size_t i;

        fprintf(f, "Usage: dmarctrace COMMAND [OPTIONS] [ARGS]\n\nCommands:\n");
        for (i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
        fprintf(f, "\n'dmarctrace COMMAND --help' describes one command. Version %s.\n", PACKAGE_VERSION);
}

int main(int argc, char **argv) {
        size_t i;

        if (argc < 2) {
                usage(stderr);
                return 2;
        }
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                usage(stdout);
                return 0;
        }
        if (strcmp(argv[1], "--version") == 0) {
                printf("dmarctrace %s\n", PACKAGE_VERSION);
                return 0;
        }
        for (i = 0; i < ELEMENTSOF(commands); i++)
                if (strcmp(argv[1], commands[i].name) == 0)
                        return commands[i].run(argc - 1, argv + 1);
        fprintf(stderr, "dmarctrace: unknown command '%s' (try --help)\n", argv[1]);
        return 2;
}
