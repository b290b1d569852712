/* testutil.h - what every Check program shares: fixture paths, file loading, the TAP runner */
#ifndef DT_TESTUTIL_H
#define DT_TESTUTIL_H

#include <check.h>
#include <stddef.h>

/* dt_test_path - "$DT_TESTDATA/rel" (tests/data) or, for "corpus/..." names, "$DT_CORPUS/..."
 * (../shared/corpus). Returns a static buffer. */
const char *dt_test_path(const char *rel);

/* dt_test_load - the whole file at dt_test_path(rel), NUL-terminated (not counted in *len);
 * aborts the test when it cannot be read. Free with free(). */
char *dt_test_load(const char *rel, size_t *len);

/* dt_test_main - run the suite with TAP output on stdout; returns the exit status for main() */
int dt_test_main(Suite *s);

#endif
