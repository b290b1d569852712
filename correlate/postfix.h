/* postfix.h - read what Postfix daemons log about one queued message
 *
 * The syslog prefix is gone by the time a line gets here: ident is the program name Postfix
 * logged under ("postfix/smtpd", "postfix-out/submission/smtpd", "postfix/10025/smtpd"), msg
 * the text after "]: ". Short (hex) and long (base-52-ish, "4Pbf0B1l67z3tG5") queue ids. */
#ifndef DT_POSTFIX_H
#define DT_POSTFIX_H

#include <stdbool.h>
#include <stddef.h>

#include "correlate/logline.h"

/* dt_postfix_ident - ident names a Postfix program ("postfix/...", "postfix-X/...") */
bool dt_postfix_ident(const char *ident, size_t len);

/* dt_postfix_parse - one Postfix message text into rec (rec->time etc. are the caller's).
 * 1: rec filled (rec->kind says what), 0: a Postfix line of no interest, -EBADMSG: a line of
 * a kind we read that does not parse. */
int dt_postfix_parse(const char *ident, size_t ilen, const char *msg, size_t mlen,
                     struct dt_logrec *rec);

#endif
