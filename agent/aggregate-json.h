/* aggregate-json.h - an aggregate report as `dmarctrace parse` prints it: a JSON line or a summary */
#ifndef DT_AGGREGATE_JSON_H
#define DT_AGGREGATE_JSON_H

#include <stdio.h>

#include "report/aggregate.h"
#include "report/error.h"

/* dt_aggregate_print_json - pull every record of agg and print the report as one JSON object on
 * one line. Nothing reaches out unless the whole report parsed: on error returns <0, err filled. */
int dt_aggregate_print_json(FILE *out, struct dt_aggregate *agg, const char *source,
                            struct dt_error *err);

/* dt_aggregate_print_pretty - the same report as a readable summary for a terminal */
int dt_aggregate_print_pretty(FILE *out, struct dt_aggregate *agg, const char *source,
                              const char *layers, struct dt_error *err);

#endif
