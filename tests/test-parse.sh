#!/bin/sh
# test-parse.sh - `dmarctrace parse` end to end on the shared corpus: JSON values, rejections,
# exit codes, and the three encodings of one report giving the same JSON.
set -u
. "$DT_SRCDIR/tests/tap.sh"
C="$DT_CORPUS"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# every aggregate file in the corpus gives exactly one aggregate report
for f in "$C"/aggregate/*; do
        name=$(basename "$f")
        out=$(dt parse "$f" 2>"$T/err"); rc=$?
        types=$(printf '%s\n' "$out" | jq -r .type 2>/dev/null | tr '\n' ' ')
        if [ $rc -eq 0 ] && [ "$types" = "aggregate " ]; then
                ok "parse $name"
        else
                fail "parse $name" "rc=$rc types='$types'" "stderr: $(head -c 300 "$T/err")"
        fi
done

# the same report as xml, gz and zip: identical JSON apart from source
for base in tierpod_test.xml mail-dmarc_test_dmarc.xml parsedmarc_nice-input.xml; do
        dt parse "$C/aggregate/$base" | jq -S 'del(.source)' >"$T/a"
        for ext in gz zip; do
                dt parse "$C/aggregate/$base.$ext" | jq -S 'del(.source)' >"$T/b"
                if cmp -s "$T/a" "$T/b" && [ -s "$T/a" ]; then
                        ok "$base and .$ext give the same JSON"
                else
                        fail "$base and .$ext give the same JSON" "$(diff "$T/a" "$T/b" | head -5)"
                fi
        done
done

# values checked by hand against the XML
j=$(dt parse "$C/aggregate/parsedmarc_nice-input.xml.zip")
is "nice-input report_id" "$(echo "$j" | jq -r .report_id)" "11038226378739404135"
is "nice-input record_count" "$(echo "$j" | jq -r .record_count)" "20"
is "nice-input records array" "$(echo "$j" | jq -r '.records | length')" "20"
is "nice-input message_count = sum of counts" "$(echo "$j" | jq -r .message_count)" \
        "$(echo "$j" | jq '[.records[].count] | add')"
j=$(dt parse "$C/aggregate/tierpod_test.xml.gz")
is "tierpod org_name" "$(echo "$j" | jq -r .org_name)" "Test Inc."
is "tierpod begin/end (trailing space in end)" "$(echo "$j" | jq -c '[.begin,.end]')" "[1524182400,1524268799]"
is "tierpod domain" "$(echo "$j" | jq -r .domain)" "test.net"
is "tierpod policy" "$(echo "$j" | jq -c '.policy | [.p,.adkim,.pct,.np]')" '["none","r",100,null]'
is "tierpod first record" "$(echo "$j" | jq -c '.records[0] | [.source_ip,.count,.disposition,.dkim,.spf]')" \
        '["192.168.1.1",5,"none","pass","pass"]'
j=$(dt parse "$C/aggregate/parsedmarc_Report_domain-_borschow.com_Submitter-_google.com_Report-ID-_949348866075514174.eml")
is "google eml org" "$(echo "$j" | jq -r .org_name)" "google.com"
is "google eml report_id" "$(echo "$j" | jq -r .report_id)" "949348866075514174"
is "google eml domain" "$(echo "$j" | jq -r .domain)" "borschow.com"

# rejections: one stderr line naming the file, the reason and the place; exit 1
dt parse "$C/malformed/parsedmarc_empty.xml" >"$T/out" 2>"$T/err"; rc=$?
is "empty file exits 1" "$rc" "1"
is "empty file: nothing on stdout" "$(wc -c <"$T/out")" "0"
is "empty file: stderr line" "$(cat "$T/err")" "dmarctrace: $C/malformed/parsedmarc_empty.xml: empty file (offset 0)"
dt parse "$C/malformed/parsedmarc_invalid_utf_8.xml" >"$T/out" 2>"$T/err"; rc=$?
is "invalid UTF-8 exits 1" "$rc" "1"
case "$(cat "$T/err")" in
"dmarctrace: $C/malformed/parsedmarc_invalid_utf_8.xml: "*"(line 31)") ok "invalid UTF-8 names line 31" ;;
*) fail "invalid UTF-8 names line 31" "$(cat "$T/err")" ;;
esac
dt parse "$C/php-originating/sisimai_rhost-cox-01.eml" >"$T/out" 2>"$T/err"; rc=$?
is "bounce is not a report" "$(cat "$T/err")" \
        "dmarctrace: $C/php-originating/sisimai_rhost-cox-01.eml: not a DMARC report (offset 0)"

# a bad file among good ones: the good ones still print, exit 1
dt parse "$C/aggregate/tierpod_test.xml" "$C/malformed/parsedmarc_ikea.com!example.de!1538690400!1538776800.xml" \
        "$C/aggregate/tierpod_test2.xml" >"$T/out" 2>"$T/err"; rc=$?
is "mixed run exits 1" "$rc" "1"
is "mixed run prints the two good reports" "$(jq -r .report_id <"$T/out" | wc -l)" "2"
is "mixed run: one stderr line" "$(wc -l <"$T/err")" "1"

# failure reports
for f in "$C"/failure/*; do
        name=$(basename "$f")
        t=$(dt parse "$f" 2>"$T/err" | jq -r .type 2>/dev/null)
        is "parse failure report $name" "$t" "failure"
done

# usage
dt parse >/dev/null 2>&1; is "no file: exit 2" "$?" "2"
dt parse --bogus x >/dev/null 2>&1; is "bad option: exit 2" "$?" "2"
dt parse --pretty "$C/aggregate/tierpod_test.xml.zip" >"$T/out" 2>&1
case "$(head -1 "$T/out")" in
*"tierpod_test.xml.zip  [aggregate, zip]") ok "--pretty summary header" ;;
*) fail "--pretty summary header" "$(head -1 "$T/out")" ;;
esac
tap_done
