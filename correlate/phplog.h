/* phplog.h - read PHP's mail.log lines (php.ini mail.log)
 *
 * "mail() on [/path/x.php:12]: To: a@b -- Headers: From: c@d  X-Mailer: e -- Subject: Hi"
 * (PHP 8; older PHP has no " -- Subject:" part). In a mail.log file the text follows
 * "[03-Nov-2026 10:15:01 Europe/Berlin] "; with mail.log = syslog it is the syslog message. */
#ifndef DT_PHPLOG_H
#define DT_PHPLOG_H

#include <stdbool.h>
#include <stddef.h>

#include "correlate/logline.h"

/* dt_phplog_is_mail - msg starts with "mail() on [" */
bool dt_phplog_is_mail(const char *msg, size_t len);

/* dt_phplog_parse - the text from "mail() on [" on: 1 rec filled (kind DT_LK_PHP_MAIL),
 * -EBADMSG when it does not parse */
int dt_phplog_parse(const char *msg, size_t len, struct dt_logrec *rec);

#endif
