/* cmd-check-config.c - `dmarctrace check-config [-c FILE]`: validate, print effective values
 *
 * Exit status: 0 the configuration is valid (every effective value printed on stdout, in the
 * file's own syntax), 1 it is not (one line on stderr: FILE:LINE: key: what), 2 usage error. */
#include <getopt.h>
#include <stdio.h>

#include "agent/commands.h"
#include "conf/config.h"

int dt_cmd_check_config(int argc, char **argv) {
        static const struct option longopts[] = {
                { "config", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(dt_config_freep) struct dt_config *cfg = NULL;
        const char *path = DT_CONFIG_PATH_DEFAULT;
        struct dt_error err;
        int c;

        optind = 1;
        while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        path = optarg;
                        break;
                case 'h':
                        printf("Usage: dmarctrace check-config [-c FILE]\n"
                               "Validate the configuration (default %s) and print every effective value.\n",
                               DT_CONFIG_PATH_DEFAULT);
                        return 0;
                default:
                        return 2;
                }
        }
        if (optind != argc) {
                fprintf(stderr, "dmarctrace check-config: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }
        dt_error_clear(&err);
        if (dt_config_load(path, &cfg, &err) < 0) {
                fprintf(stderr, "dmarctrace: %s\n", err.message);
                return 1;
        }
        printf("# %s: valid; effective values:\n", path);
        dt_config_print(cfg, stdout);
        return 0;
}
