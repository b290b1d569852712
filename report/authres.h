/* authres.h - what this host's own mail system found about a report message: the verdict of
 * its Authentication-Results header (RFC 8601), quoted in events as SENDER_AUTH
 *
 * Reports are unauthenticated by design (HOSTILE.md item 41): anyone can mail one that claims
 * org_name=google.com. The events record the claimed org as claimed and, next to it, this
 * verdict, read from the message's own header block, top down: the Authentication-Results
 * fields whose authserv-id is in a configured trusted list (identity.trusted_authserv_ids), up
 * to the first Received field that follows one of them or that reads "from X ... by ID" with ID
 * in the list. The local system (the MTA and milters such as OpenDKIM and OpenDMARC, each adding
 * a field of its own) writes above the Received field of the hop that took the message in;
 * whatever the sender wrote, a field claiming a trusted id included, lies below it. Fields with
 * other ids are ignored wherever they are. Where the boundary cannot be told (A-R fields added
 * below a content filter's re-injection hop) the verdict is "unknown", never a sender's
 * claim. No policy decision is taken from the verdict.
 *
 * The verdict reads "dmarc=R,dkim=R,spf=R": each of those methods the fields name, in that
 * order, with its topmost result (lower-cased letters, at most 15), "none" when a trusted field
 * names none of them, and "unknown" when no field qualifies. It is built from those characters
 * only, so it is clean without the sanitiser. */
#ifndef DT_AUTHRES_H
#define DT_AUTHRES_H

#include <stddef.h>

#include "report/limits.h"

#define DT_AUTHRES_MAX          64      /* bytes of a verdict, NUL included */
#define DT_AUTHRES_UNKNOWN      "unknown"

/* dt_authres_verdict - the verdict on the message msg[0..len) (its header block is split within
 * lim->header_bytes and lim->header_fields; a block past them gives "unknown") into out, which
 * holds DT_AUTHRES_MAX bytes. trusted[0..n_trusted) are authserv-ids, compared without regard to
 * case (none: "unknown" without reading anything). 1 when a trusted field was found, 0 for
 * "unknown", -ENOMEM. */
int dt_authres_verdict(const char *msg, size_t len, const struct dt_limits *lim,
                       const char *const *trusted, size_t n_trusted, char out[DT_AUTHRES_MAX]);

#endif
