/* identity.h - this host's own names and addresses, to tell which report rows concern it
 *
 * Addresses come from getifaddrs() (every configured IPv4/IPv6 address, loopback excluded) plus
 * the configured identity.addresses; names from gethostname(), /etc/mailname and
 * identity.hostnames. Comparisons are on canonical inet_ntop text (addresses) and lower case
 * (names). */
#ifndef DT_IDENTITY_H
#define DT_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "report/macro.h"

struct dt_identity;

/* dt_identity_new - detect this host's identity and add the configured extras (either may be
 * NULL/0). An extra address that does not parse is -EINVAL. */
int dt_identity_new(const char *const *extra_names, size_t n_names, const char *const *extra_addrs,
                    size_t n_addrs, struct dt_identity **out);

/* dt_identity_has_address - whether ip (any textual form) is one of ours */
bool dt_identity_has_address(const struct dt_identity *id, const char *ip);

/* dt_identity_has_name - whether name (case-insensitive, trailing dot ignored) is one of ours */
bool dt_identity_has_name(const struct dt_identity *id, const char *name);

/* dt_identity_hostname - the primary host name (from gethostname), borrowed */
const char *dt_identity_hostname(const struct dt_identity *id);

/* dt_identity_addresses - all addresses, comma-joined, borrowed (for agent-state events) */
const char *dt_identity_addresses(const struct dt_identity *id);

struct dt_identity *dt_identity_free(struct dt_identity *id);
DEFINE_FREEP(struct dt_identity, dt_identity_free)

#endif
