#!/bin/sh
# test-sender-auth.sh - HOSTILE.md item 41 end to end: `dmarctrace scan` with JSON output puts
# the local Authentication-Results verdict in DMARCTRACE_SENDER_AUTH of aggregate-report and
# failure-report events only for a trusted authserv-id (identity.trusted_authserv_ids), keeps the
# claimed org as claimed, and says "unknown" otherwise, a forged field below the inbound hop
# included.
set -u
. "$DT_SRCDIR/tests/lib.sh"
C="$DT_CORPUS"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# conf FILE MAILDIR STATE TRUSTED - a JSON-output configuration trusting TRUSTED (libconfig list)
conf() {
        cat >"$1" <<CONF
maildir = { path = "$2"; mode = "move"; };
state_dir = "$3";
output = "json";
identity = { trusted_authserv_ids = [ $4 ]; };
CONF
}

# a failure report as the local MTA delivered it: its A-R on top, then the inbound hop, then a
# forged A-R with the same authserv-id claiming a pass
ruf="$T/ruf.eml"
{
        printf 'Authentication-Results: mx.example.com; dkim=fail header.d=linkedin.com; spf=softfail;\n'
        printf '\tdmarc=fail header.from=linkedin.com\n'
        printf 'Received: from mail.attacker.example (mail.attacker.example [198.51.100.7])\n'
        printf '\tby mx.example.com (Postfix) with ESMTPS id 4XyZ1234AB\n'
        printf 'Authentication-Results: mx.example.com; dkim=pass; spf=pass; dmarc=pass\n'
        cat "$C/failure/parsedmarc_dmarc_ruf_report_linkedin.eml"
} >"$ruf"

for trust in none trusted; do
        M="$T/$trust/Maildir"
        make_maildir "$M"
        deliver "$M" "$C/aggregate/parsedmarc_twilight.eml"
        deliver "$M" "$ruf"
        if [ "$trust" = trusted ]; then
                conf "$T/$trust.conf" "$M" "$T/$trust/state" '"relay-twl-01.twlnet.com", "mx.example.com"'
        else
                conf "$T/$trust.conf" "$M" "$T/$trust/state" ''
        fi
        dt scan -c "$T/$trust.conf" >"$T/$trust.ev" 2>"$T/$trust.err"; rc=$?
        is "$trust: scan exits 0" "$rc" "0"
done

is "no trusted id: aggregate-report SENDER_AUTH" \
        "$(events "$T/none.ev" aggregate-report | jq -r .DMARCTRACE_SENDER_AUTH)" "unknown"
is "no trusted id: failure-report SENDER_AUTH" \
        "$(events "$T/none.ev" failure-report | jq -r .DMARCTRACE_SENDER_AUTH)" "unknown"
is "trusted: the claimed org stays as claimed, with the local verdict beside it" \
        "$(events "$T/trusted.ev" aggregate-report | jq -r '[.DMARCTRACE_REPORT_ORG, .DMARCTRACE_SENDER_AUTH] | join("|")')" \
        "google.com|dmarc=pass,dkim=pass"
is "trusted: failure-report quotes the local A-R, not the forged one below the inbound hop" \
        "$(events "$T/trusted.ev" failure-report | jq -r .DMARCTRACE_SENDER_AUTH)" \
        "dmarc=fail,dkim=fail,spf=softfail"
is "the verdict decides nothing: both reports stored and moved either way" \
        "$(ls "$T/none/Maildir/cur" "$T/trusted/Maildir/cur" | grep -c ':2,S$')" "4"
tap_done
