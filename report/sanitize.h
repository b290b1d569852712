/* sanitize.h - make any hostile string safe for an event field, a JSON value or a terminal
 *
 * The output is always valid UTF-8 (each invalid byte becomes U+FFFD), holds no C0 or C1 control
 * character (TAB, CR and LF become a space, NUL becomes the two characters "\0", others U+FFFD),
 * no bidi override/isolate (U+202A..U+202E, U+2066..U+2069), no zero-width or line/paragraph
 * separator (U+200B..U+200F, U+2028, U+2029, U+FEFF, U+0085), and is cut on a character boundary
 * at the given byte cap. Pure functions: no allocation except in _dup, no globals. */
#ifndef DT_SANITIZE_H
#define DT_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>

/* dt_sanitize - write the clean form of in[0..len) into out (cap bytes, NUL included; cap >= 1).
 * Returns the bytes written (without the NUL). *truncated (may be NULL) says whether the input was
 * cut to fit. */
size_t dt_sanitize(const char *in, size_t len, char *out, size_t cap, bool *truncated);

/* dt_sanitize_dup - the same into a new string of at most max_bytes bytes (plus NUL); NULL only
 * when out of memory. */
char *dt_sanitize_dup(const char *in, size_t len, size_t max_bytes, bool *truncated);

#endif
