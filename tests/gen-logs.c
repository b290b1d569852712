/* gen-logs.c - write the correlation scenario (tests/genlogs.h) into a directory
 *
 * usage: gen-logs DIR */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/genlogs.h"

int main(int argc, char **argv) {
        int r;

        if (argc != 2) {
                fprintf(stderr, "usage: %s DIR\n", argv[0]);
                return 2;
        }
        if (mkdir(argv[1], 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "%s: cannot create '%s': %s\n", argv[0], argv[1], strerror(errno));
                return 1;
        }
        r = dt_gen_logs(argv[1]);
        if (r < 0) {
                fprintf(stderr, "%s: cannot write the scenario: %s\n", argv[0], strerror(-r));
                return 1;
        }
        return 0;
}
