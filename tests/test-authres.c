/* test-authres.c - the local Authentication-Results verdict on a report message (HOSTILE.md
 * item 41): trusted and untrusted authserv-ids, forged fields above and below, comments and
 * quoting, no header at all, and a real report from the shared corpus */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/authres.h"
#include "report/macro.h"
#include "tests/testutil.h"

static const char *const trusted[] = { "mx.example.com", "dkim.example.com" };

/* verdict - dt_authres_verdict over msg with the trusted list above; its return in *rc */
static const char *verdict(const char *msg, int *rc) {
        static char out[DT_AUTHRES_MAX];

        *rc = dt_authres_verdict(msg, strlen(msg), &dt_limits_default, trusted,
                                 ELEMENTSOF(trusted), out);
        return out;
}

#define BODY "\nbody\n"
#define RCVD "Received: from mail.attacker.example (mail.attacker.example [198.51.100.7])\n" \
             "\tby mx.example.com (Postfix) with ESMTPS id 4XyZ1234AB\n"
#define FROM "From: noreply-dmarc-support@google.com\nSubject: Report domain: example.com\n"

struct tcase {
        const char *what, *msg, *want;
        int rc;
};

static const struct tcase cases[] = {
        { "trusted field from the local MTA",
          "Authentication-Results: mx.example.com; dkim=pass header.d=google.com;\n"
          "\tspf=pass smtp.mailfrom=google.com; dmarc=pass (p=REJECT) header.from=google.com\n"
          RCVD FROM BODY, "dmarc=pass,dkim=pass,spf=pass", 1 },
        { "untrusted authserv-id: unknown",
          "Authentication-Results: mx.attacker.example; dkim=pass; spf=pass; dmarc=pass\n"
          RCVD FROM BODY, DT_AUTHRES_UNKNOWN, 0 },
        { "no Authentication-Results at all",
          RCVD FROM BODY, DT_AUTHRES_UNKNOWN, 0 },
        { "forged field with our id below the Received field: ignored",
          "Authentication-Results: mx.example.com; dmarc=fail (p=REJECT) header.from=google.com\n"
          RCVD "Authentication-Results: mx.example.com; dkim=pass; spf=pass; dmarc=pass\n"
          FROM BODY, "dmarc=fail", 1 },
        { "forged field with a foreign id above ours: ignored",
          "Authentication-Results: evil.example; dmarc=pass\n"
          "Authentication-Results: mx.example.com; dmarc=none header.from=google.com\n"
          RCVD FROM BODY, "dmarc=none", 1 },
        { "a forged field alone, below the Received field, is not trusted either",
          RCVD "Authentication-Results: mx.example.com; dmarc=pass\n" FROM BODY,
          DT_AUTHRES_UNKNOWN, 0 },
        { "two local milters (OpenDKIM, then OpenDMARC): both count, the topmost result wins",
          "Authentication-Results: dkim.example.com; dkim=fail reason=\"sig; bad\" header.d=a.example;\n"
          "\tdkim=pass header.d=google.com\n"
          "Authentication-Results: MX.Example.COM 1; DMARC=Pass header.from=google.com; dkim=neutral\n"
          RCVD FROM BODY, "dmarc=pass,dkim=fail", 1 },
        { "comments and quoted strings around the tokens",
          "Authentication-Results: (c) \"mx.example.com\" (v; x) ; spf (a;b) / 1 = (x) softfail;\n"
          "\tdmarc=permerror\n" RCVD FROM BODY, "dmarc=permerror,spf=softfail", 1 },
        { "trusted, but no result: none",
          "Authentication-Results: mx.example.com; none\n" RCVD FROM BODY, "none", 1 },
        { "an id that only starts with a trusted one",
          "Authentication-Results: mx.example.com.attacker.example; dmarc=pass\n" RCVD FROM BODY,
          DT_AUTHRES_UNKNOWN, 0 },
        { "results past 15 letters and odd bytes are not quoted",
          "Authentication-Results: mx.example.com; dmarc=passpasspasspasspass; dkim=\x1b[2Jpass;\n"
          "\tspf=pa\xffss\n" RCVD FROM BODY, "spf=pa", 1 },
};

START_TEST(verdicts)
{
        const struct tcase *t = &cases[_i];
        int rc;
        const char *v = verdict(t->msg, &rc);

        ck_assert_msg(strcmp(v, t->want) == 0, "%s: got '%s', want '%s'", t->what, v, t->want);
        ck_assert_msg(rc == t->rc, "%s: rc %d", t->what, rc);
}
END_TEST

/* with nothing trusted, the header is not even read: always unknown */
START_TEST(empty_trust_list)
{
        char out[DT_AUTHRES_MAX];
        const char *msg = cases[0].msg;

        ck_assert_int_eq(dt_authres_verdict(msg, strlen(msg), &dt_limits_default, NULL, 0, out), 0);
        ck_assert_str_eq(out, DT_AUTHRES_UNKNOWN);
}
END_TEST

/* a header block past limits.header_fields is not read for trust */
START_TEST(header_past_limits)
{
        struct dt_limits lim = dt_limits_default;
        char out[DT_AUTHRES_MAX], *msg;
        size_t n = 0, cap = 64u * 1024;

        lim.header_fields = 16;
        msg = malloc(cap);
        ck_assert_ptr_nonnull(msg);
        n += (size_t) snprintf(msg + n, cap - n, "Authentication-Results: mx.example.com; dmarc=pass\n");
        for (int i = 0; i < 40; i++)
                n += (size_t) snprintf(msg + n, cap - n, "X-Filler-%d: x\n", i);
        n += (size_t) snprintf(msg + n, cap - n, "\nbody\n");
        ck_assert_int_eq(dt_authres_verdict(msg, n, &lim, trusted, ELEMENTSOF(trusted), out), 0);
        ck_assert_str_eq(out, DT_AUTHRES_UNKNOWN);
        ck_assert_int_eq(dt_authres_verdict(msg, n, &dt_limits_default, trusted,
                                            ELEMENTSOF(trusted), out), 1);
        ck_assert_str_eq(out, "dmarc=pass");
        free(msg);
}
END_TEST

/* a real report: OpenDKIM's field at the top, OpenDMARC's lower, both above the Received field
 * of the hop from google.com, under a local "Received: by" re-injection at the very top */
START_TEST(corpus_twilight)
{
        static const char *const twl[] = { "relay-twl-01.twlnet.com" };
        char out[DT_AUTHRES_MAX], *msg;
        size_t len;

        msg = dt_test_load("corpus/aggregate/parsedmarc_twilight.eml", &len);
        ck_assert_int_eq(dt_authres_verdict(msg, len, &dt_limits_default, twl, 1, out), 1);
        ck_assert_str_eq(out, "dmarc=pass,dkim=pass");
        ck_assert_int_eq(dt_authres_verdict(msg, len, &dt_limits_default, trusted,
                                            ELEMENTSOF(trusted), out), 0);
        ck_assert_str_eq(out, DT_AUTHRES_UNKNOWN);
        free(msg);
}
END_TEST

int main(void) {
        Suite *s = suite_create("authres");
        TCase *tc = tcase_create("core");

        tcase_add_loop_test(tc, verdicts, 0, (int) ELEMENTSOF(cases));
        tcase_add_test(tc, empty_trust_list);
        tcase_add_test(tc, header_past_limits);
        tcase_add_test(tc, corpus_twilight);
        suite_add_tcase(s, tc);
        return dt_test_main(s);
}
