/* testutil.h - what every Check program shares: fixture paths, file loading, the TAP runner */
#ifndef DT_TESTUTIL_H
#define DT_TESTUTIL_H

#include <check.h>
#include <stddef.h>

/* RUNNING_ON_VALGRIND and UNDER_ASAN: 1 when the test runs under valgrind or was built with
 * AddressSanitizer, for the tests that measure memory or time and must allow for either */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* dt_test_path - "$DT_TESTDATA/rel" (tests/data) or, for "corpus/..." names, "$DT_CORPUS/..."
 * (../shared/corpus). Returns a static buffer. */
const char *dt_test_path(const char *rel);

/* dt_test_load - the whole file at dt_test_path(rel), NUL-terminated (not counted in *len);
 * aborts the test when it cannot be read. Free with free(). */
char *dt_test_load(const char *rel, size_t *len);

/* dt_test_utf16le - the n bytes of ascii as UTF-16LE after a BOM (2 + 2n bytes, *len), for
 * encoding tests; aborts the test when out of memory. Free with free(). */
char *dt_test_utf16le(const char *ascii, size_t n, size_t *len);

/* dt_test_main - run the suite with TAP output on stdout; returns the exit status for main() */
int dt_test_main(Suite *s);

#endif
