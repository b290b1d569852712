/* identity.c - this host's own names and addresses
 *
 * Built once at start (and again on SIGHUP); lookups are linear over a handful of entries,
 * which is all a host has. Addresses are kept as canonical inet_ntop text so a report's
 * "2001:DB8::1" and the interface's "2001:db8::1" compare equal. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "agent/identity.h"

#define IDENTITY_MAX 256

struct dt_identity {
        char *names[IDENTITY_MAX];
        size_t n_names;
        char *addrs[IDENTITY_MAX];
        size_t n_addrs;
        char *addr_list;
};

/* canonical_ip - ip in canonical text into buf; false when it is no address */
static bool canonical_ip(const char *ip, char *buf, size_t cap) {
        struct in6_addr a6;
        struct in_addr a4;

        if (inet_pton(AF_INET, ip, &a4) == 1)
                return inet_ntop(AF_INET, &a4, buf, (socklen_t) cap) != NULL;
        if (inet_pton(AF_INET6, ip, &a6) == 1) {
                if (IN6_IS_ADDR_V4MAPPED(&a6))  /* ::ffff:192.0.2.1 is 192.0.2.1 */
                        return inet_ntop(AF_INET, &a6.s6_addr[12], buf, (socklen_t) cap) != NULL;
                return inet_ntop(AF_INET6, &a6, buf, (socklen_t) cap) != NULL;
        }
        return false;
}

/* add_name - a lower-cased copy without trailing dot, once */
static int add_name(struct dt_identity *id, const char *name) {
        size_t len = strlen(name), i;
        char *c;

        while (len > 0 && name[len - 1] == '.')
                len--;
        if (len == 0 || len > 253 || id->n_names >= IDENTITY_MAX)
                return 0;
        c = strndup(name, len);
        if (!c)
                return -ENOMEM;
        for (i = 0; i < len; i++)
                c[i] = (char) (c[i] >= 'A' && c[i] <= 'Z' ? c[i] + 32 : c[i]);
        for (i = 0; i < id->n_names; i++)
                if (strcmp(id->names[i], c) == 0) {
                        free(c);
                        return 0;
                }
        id->names[id->n_names++] = c;
        return 0;
}

/* add_addr - a canonical copy, once; -EINVAL when ip is no address */
static int add_addr(struct dt_identity *id, const char *ip) {
        char buf[INET6_ADDRSTRLEN];
        size_t i;

        if (!canonical_ip(ip, buf, sizeof buf))
                return -EINVAL;
        for (i = 0; i < id->n_addrs; i++)
                if (strcmp(id->addrs[i], buf) == 0)
                        return 0;
        if (id->n_addrs >= IDENTITY_MAX)
                return 0;
        id->addrs[id->n_addrs] = strdup(buf);
        if (!id->addrs[id->n_addrs])
                return -ENOMEM;
        id->n_addrs++;
        return 0;
}

/* detect_addresses - every non-loopback interface address */
static int detect_addresses(struct dt_identity *id) {
        struct ifaddrs *ifa, *i;
        char buf[INET6_ADDRSTRLEN];
        int r = 0;

        if (getifaddrs(&ifa) < 0)
                return -errno;
        for (i = ifa; i && r >= 0; i = i->ifa_next) {
                const void *a;

                if (!i->ifa_addr)
                        continue;
                if (i->ifa_addr->sa_family == AF_INET) {
                        const struct sockaddr_in *s = (const void *) i->ifa_addr;
                        if ((ntohl(s->sin_addr.s_addr) >> 24) == 127)
                                continue;
                        a = &s->sin_addr;
                } else if (i->ifa_addr->sa_family == AF_INET6) {
                        const struct sockaddr_in6 *s = (const void *) i->ifa_addr;
                        if (IN6_IS_ADDR_LOOPBACK(&s->sin6_addr) || IN6_IS_ADDR_LINKLOCAL(&s->sin6_addr))
                                continue;
                        a = &s->sin6_addr;
                } else
                        continue;
                if (inet_ntop(i->ifa_addr->sa_family, a, buf, sizeof buf))
                        r = add_addr(id, buf);
        }
        freeifaddrs(ifa);
        return r;
}

/* read_mailname - the first line of /etc/mailname, if any */
static int read_mailname(struct dt_identity *id) {
        char line[256];
        FILE *f = fopen("/etc/mailname", "re");

        if (!f)
                return 0;
        if (fgets(line, sizeof line, f)) {
                line[strcspn(line, " \t\r\n")] = '\0';
                (void) fclose(f);
                return add_name(id, line);
        }
        (void) fclose(f);
        return 0;
}

/* join_addresses - the comma-joined list for events */
static int join_addresses(struct dt_identity *id) {
        size_t len = 1, i;

        for (i = 0; i < id->n_addrs; i++)
                len += strlen(id->addrs[i]) + 1;
        id->addr_list = calloc(1, len);
        if (!id->addr_list)
                return -ENOMEM;
        for (i = 0; i < id->n_addrs; i++) {
                if (i)
                        strcat(id->addr_list, ",");
                strcat(id->addr_list, id->addrs[i]);
        }
        return 0;
}

int dt_identity_new(const char *const *extra_names, size_t n_names, const char *const *extra_addrs,
                    size_t n_addrs, struct dt_identity **out) {
        _cleanup_(dt_identity_freep) struct dt_identity *id = NULL;
        char host[256] = "";
        size_t i;
        int r;

        id = calloc(1, sizeof *id);
        if (!id)
                return -ENOMEM;
        if (gethostname(host, sizeof host - 1) == 0 && (r = add_name(id, host)) < 0)
                return r;
        if ((r = read_mailname(id)) < 0)
                return r;
        for (i = 0; i < n_names; i++)
                if ((r = add_name(id, extra_names[i])) < 0)
                        return r;
        for (i = 0; i < n_addrs; i++)
                if ((r = add_addr(id, extra_addrs[i])) < 0)
                        return r;
        if ((r = detect_addresses(id)) < 0)
                return r;
        if ((r = join_addresses(id)) < 0)
                return r;
        *out = TAKE_PTR(id);
        return 0;
}

bool dt_identity_has_address(const struct dt_identity *id, const char *ip) {
        char buf[INET6_ADDRSTRLEN];
        size_t i;

        if (!id || !ip || !canonical_ip(ip, buf, sizeof buf))
                return false;
        for (i = 0; i < id->n_addrs; i++)
                if (strcmp(id->addrs[i], buf) == 0)
                        return true;
        return false;
}

bool dt_identity_has_name(const struct dt_identity *id, const char *name) {
        size_t len, i;

        if (!id || !name)
                return false;
        len = strlen(name);
        while (len > 0 && name[len - 1] == '.')
                len--;
        for (i = 0; i < id->n_names; i++)
                if (strlen(id->names[i]) == len && strncasecmp(id->names[i], name, len) == 0)
                        return true;
        return false;
}

const char *dt_identity_hostname(const struct dt_identity *id) {
        return id && id->n_names > 0 ? id->names[0] : "localhost";
}

const char *dt_identity_addresses(const struct dt_identity *id) {
        return id && id->addr_list ? id->addr_list : "";
}

struct dt_identity *dt_identity_free(struct dt_identity *id) {
        size_t i;

        if (!id)
                return NULL;
        for (i = 0; i < id->n_names; i++)
                free(id->names[i]);
        for (i = 0; i < id->n_addrs; i++)
                free(id->addrs[i]);
        free(id->addr_list);
        free(id);
        return NULL;
}
