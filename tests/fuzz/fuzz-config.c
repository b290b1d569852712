/* fuzz-config.c - libFuzzer harness: dt_config_load() on a file holding the input
 *
 * dt_config_load() takes a path, so the input is written to one scratch file under /dev/shm
 * (memory), made once per process and unlinked at once: the loader opens it again through
 * /proc/self/fd/N, so nothing is left behind however the fuzzer exits. A configuration that
 * loads is printed with dt_config_print() (to /dev/null) as check-config would.
 * SECURITY: the input is anything at all; @include is refused by the loader itself, so no
 * other file is read. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];
static int fd = -1;
static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(dt_config_freep) struct dt_config *c = NULL;
        struct dt_error err;

        if (fd < 0) {
                char name[64];

                snprintf(name, sizeof name, "/dev/shm/dt-fuzz-config-%ld.conf", (long) getpid());
                fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                devnull = fopen("/dev/null", "we");
                if (fd < 0 || !devnull)
                        abort();
                (void) unlink(name);
                snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        }
        if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t) size)
                abort();
        dt_error_clear(&err);
        if (dt_config_load(path, &c, &err) < 0) {
                if (c || err.code >= 0 || memchr(err.message, '\0', sizeof err.message) == NULL)
                        __builtin_trap();
                return 0;
        }
        dt_config_print(c, devnull);
        return 0;
}
