/* exim.h - read Exim mainlog lines about one message
 *
 * Gets the text after the time stamp (and the optional "[pid] " Exim adds with +pid):
 * "ID <= sender U=... P=... A=... H=... S=... id=... T=\"...\"", "ID => rcpt R=... T=... H=...",
 * "->", "**", "==", "ID Completed", and "cwd=DIR N args: ..." from +arguments. Message ids in the
 * 16-character ("1PLKOW-00046U-EW", up to 4.96) and 23-character ("10HmaX-000000005vi-0000",
 * 4.97 and later) forms. */
#ifndef DT_EXIM_H
#define DT_EXIM_H

#include <stddef.h>

#include "correlate/logline.h"

/* dt_exim_parse - as dt_postfix_parse: 1 rec filled, 0 other Exim line, -EBADMSG */
int dt_exim_parse(const char *msg, size_t len, struct dt_logrec *rec);

/* dt_exim_parse_text - the same for a line's text after a syslog prefix or from the journal:
 * Exim's own stamp first (syslog_timestamp, on by default; it sets rec->time) and "[pid] "
 * (+pid with syslog_pid off; it sets rec->pid) are skipped when there */
int dt_exim_parse_text(const char *msg, size_t len, struct dt_logrec *rec);

/* dt_exim_is_id - 16- or 23-character Exim message id */
bool dt_exim_is_id(const char *s, size_t len);

#endif
