/* macro.h - scope-bound cleanup and small helpers shared by every module
 *
 * libsystemd does not export its _cleanup_ machinery, so we keep our own copy of the idea here,
 * in the bottom layer (report/), where correlate/ and agent/ can use it too. */
#ifndef DT_MACRO_H
#define DT_MACRO_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p) {
        free(*(void **) p);
}

/* dt_mono_usec - CLOCK_MONOTONIC in microseconds: deadlines, backoffs and cache ages must not
 * follow wall-clock jumps */
static inline uint64_t dt_mono_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* mfree - free(p) and return NULL: `x = mfree(x);` */
static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

/* TAKE_PTR - hand ownership on: returns p and leaves NULL behind, so no cleanup frees it */
#define TAKE_PTR(p)                              \
        ({                                       \
                __typeof__(p) _ptr_ = (p);       \
                (p) = NULL;                      \
                _ptr_;                           \
        })

/* DEFINE_FREEP - declare name##p(type **) that calls func on a non-NULL pointer */
#define DEFINE_FREEP(type, func)                         \
        static inline void func##p(type **p) {           \
                if (*p)                                  \
                        (void) func(*p);                 \
        }

#endif
