/* failure-json.h - a failure report as `dmarctrace parse` prints it: a JSON object or a summary */
#ifndef DT_FAILURE_JSON_H
#define DT_FAILURE_JSON_H

#include <json-c/json.h>
#include <stdio.h>

#include "report/failure.h"

/* dt_failure_to_json - the report as one JSON object (keys in DESIGN order, absent values as
 * null, every string sanitised). source names the input file. The caller owns the object
 * (json_object_put). NULL only when out of memory. */
json_object *dt_failure_to_json(const struct dt_failure *f, const char *source);

/* dt_failure_print_pretty - the same report as a readable summary for a terminal, the Received
 * hops as a small table */
void dt_failure_print_pretty(FILE *out, const struct dt_failure *f, const char *source);

#endif
