/* fuzz.h - what the libFuzzer harnesses share: the "clean text" property, checked on their own
 *
 * report/sanitize.h promises that cleaned text is valid UTF-8 with no C0/C1 control, no bidi
 * control, no zero-width or separator character, and report/failure.h and report/headers.h promise
 * that every string they hand out is cleaned. The harnesses check those promises with this
 * second, independent decoder (written from RFC 3629, not copied from sanitize.c), and stop the
 * run with __builtin_trap() when one is broken, so libFuzzer saves the input as a crash.
 * SECURITY: only ever reads s[0..len). Header-only: each harness is one translation unit. */
#ifndef DT_FUZZ_H
#define DT_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* fuzz_forbidden - a code point that must never reach an event or a terminal */
static inline bool fuzz_forbidden(uint32_t cp) {
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
                return true;                            /* C0, DEL, C1 (U+0085 included) */
        if (cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2066 && cp <= 0x2069))
                return true;                            /* bidi marks, overrides, isolates */
        if (cp == 0x2028 || cp == 0x2029 || (cp >= 0x2060 && cp <= 0x2064) || cp == 0xfeff)
                return true;                            /* separators, invisibles, BOM */
        return false;
}

/* fuzz_is_clean - whether s[0..len) is strict UTF-8 holding no forbidden code point */
static inline bool fuzz_is_clean(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s;
        size_t i = 0;

        while (i < len) {
                unsigned char c = p[i];
                uint32_t cp, min;
                size_t n, k;

                if (c < 0x80) {
                        n = 1;
                        cp = c;
                        min = 0;
                } else if ((c & 0xe0) == 0xc0) {
                        n = 2;
                        cp = c & 0x1f;
                        min = 0x80;
                } else if ((c & 0xf0) == 0xe0) {
                        n = 3;
                        cp = c & 0x0f;
                        min = 0x800;
                } else if ((c & 0xf8) == 0xf0) {
                        n = 4;
                        cp = c & 0x07;
                        min = 0x10000;
                } else {
                        return false;
                }
                if (len - i < n)
                        return false;
                for (k = 1; k < n; k++) {
                        if ((p[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (p[i + k] & 0x3f);
                }
                if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;                   /* overlong, too big, surrogate */
                if (fuzz_forbidden(cp))
                        return false;
                i += n;
        }
        return true;
}

/* fuzz_check_clean - trap unless s (NULL allowed) is clean and at most max bytes long */
static inline void fuzz_check_clean(const char *s, size_t max) {
        size_t len;

        if (!s)
                return;
        len = strlen(s);
        if (len > max || !fuzz_is_clean(s, len))
                __builtin_trap();
}

/* fuzz_touch - read every byte of p[0..len) so ASan sees an out-of-bounds length */
static inline unsigned fuzz_touch(const void *p, size_t len) {
        const unsigned char *b = p;
        unsigned sum = 0;
        size_t i;

        for (i = 0; i < len; i++)
                sum += b[i];
        return sum;
}

#ifdef DT_HEADERS_H
/* fuzz_check_headers - every string of h is clean and capped (report/headers.h promises it) */
static inline void fuzz_check_headers(const struct dt_headers *h) {
        const char *const s[] = {
                h->message_id, h->from, h->to, h->cc, h->reply_to, h->return_path, h->subject,
                h->date_text, h->x_mailer, h->user_agent, h->dkim_domain, h->dkim_selector,
                h->authentication_results, h->x_php_originating_script, h->php_script,
                h->x_php_script, h->php_script_host, h->php_script_path, h->php_script_ip,
                h->x_source, h->x_source_args, h->x_source_dir, h->antiabuse.primary_hostname,
                h->antiabuse.original_domain, h->antiabuse.sender_address_domain, h->sender_via,
                h->sender_via_host, h->sender_via_user, h->authenticated_sender, h->auth_warning,
                h->auth_warning_host, h->auth_warning_user, h->local.user, h->local.queue_id,
                h->local.host,
        };
        size_t i;

        for (i = 0; i < sizeof s / sizeof s[0]; i++)
                fuzz_check_clean(s[i], DT_HEADERS_LONG_MAX);
        if (h->n_received > DT_HEADERS_HOPS_MAX)
                __builtin_trap();
        for (i = 0; i < h->n_received; i++) {
                const struct dt_received *r = &h->received[i];

                fuzz_check_clean(r->from_helo, DT_HEADERS_LONG_MAX);
                fuzz_check_clean(r->from_host, DT_HEADERS_LONG_MAX);
                fuzz_check_clean(r->from_ip, DT_HEADERS_LONG_MAX);
                fuzz_check_clean(r->by_host, DT_HEADERS_LONG_MAX);
                fuzz_check_clean(r->with, DT_HEADERS_LONG_MAX);
                fuzz_check_clean(r->id, DT_HEADERS_LONG_MAX);
                fuzz_check_clean(r->for_addr, DT_HEADERS_LONG_MAX);
        }
        if ((h->local.mta == DT_LOCAL_POSTFIX || h->local.mta == DT_LOCAL_EXIM) &&
            h->local.hop >= h->n_received)
                __builtin_trap();
}
#endif

#endif
