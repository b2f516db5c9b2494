/* SPDX-License-Identifier: MIT */
/* Tracing and counters: the part of the public API that observes the
 * library. Trace events are listed in lib/trace/trace_events.h; counters are
 * grouped by component ("pt", or an IOMMU instance name such as "smmu0"). */
#ifndef IONEST_TRACE_PUBLIC_H
#define IONEST_TRACE_PUBLIC_H

#include <stdint.h>
#include <stdio.h>
#include <ionest/export.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ionest_trace_format {
	IONEST_TRACE_TEXT = 0,
	IONEST_TRACE_JSON = 1,
};

/*
 * Enable the trace events whose names match one of the comma-separated
 * fnmatch(3) globs in @globs ("pt_*,smmu_cmd"); NULL or "" disables all.
 * Returns the number of events enabled. At load time the library applies
 * $IONEST_TRACE the same way; $IONEST_TRACE_FORMAT=json selects JSON lines
 * and $IONEST_TRACE_FILE names the output file (default: stderr).
 */
IONEST_API int ionest_trace_enable(const char *globs);
/* Direct trace output to @f (not closed by the library) in @fmt. */
IONEST_API void ionest_trace_set_output(FILE *f, enum ionest_trace_format fmt);
/* Name of trace event @i, or NULL past the last one (for listings). */
IONEST_API const char *ionest_trace_event_name(unsigned i);

/* Counter visitor: component ("pt", "smmu0", ...), counter name, value. */
typedef void (*ionest_counter_fn)(void *ctx, const char *component,
				  const char *name, uint64_t value);
/* Visit every counter whose "component.name" matches @glob (NULL = all).
 * Returns the number visited. */
IONEST_API int ionest_counters_foreach(const char *glob, ionest_counter_fn fn,
				       void *ctx);
/* Value of one counter; -ENOENT if there is no such counter. */
IONEST_API int ionest_counter_get(const char *component, const char *name,
				  uint64_t *value);
/* Zero the counters whose "component.name" matches @glob (NULL = all). */
IONEST_API void ionest_counters_reset(const char *glob);

#ifdef __cplusplus
}
#endif
#endif
