/* SPDX-License-Identifier: MIT */
/*
 * `ionest explain` output: one explained access (lib/hw/explain.h) as
 * text - a header naming the access, numbered steps (stage-2 walks of
 * stage-1 addresses indented under the level they serve, steps a cache
 * makes unnecessary marked ~), the result - or as one JSON object
 * {access, steps[], result}. Addresses in JSON are hex strings (64-bit
 * values do not survive JSON numbers).
 */
#ifndef IONEST_TOOLS_EXPLAIN_OUT_H
#define IONEST_TOOLS_EXPLAIN_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hw/explain.h"

struct explain_who {
	const char *source; /* machine file, or "demo" */
	const char *device; /* device or demo path name */
	const char *iommu; /* the instance's name */
	bool warm; /* the access was made once before */
};

void explain_print_text(FILE *f, const struct explain_who *who,
			const struct hw_explain *x);
void explain_print_json(FILE *f, const struct explain_who *who,
			const struct hw_explain *x);
/* "ok", "fault", "page_request", "bypass", "stalled", "interrupt" for a
 * result status; "einval" for a malformed request. */
const char *explain_status_name(const struct hw_explain *x);

#endif
