/* SPDX-License-Identifier: MIT */
/*
 * Trace points. For every row of trace_events.h this defines
 *	static inline void trace_<name>(uint64_t arg, ...);
 * which costs one predictable, not-taken branch while the event is off.
 */
#ifndef IONEST_LIB_TRACE_H
#define IONEST_LIB_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <ionest/trace.h>
#include "trace/trace_events.h"

enum ionest_trace_id {
#define IONEST_TRACE_ENUM(name, fmt, ...) IONEST_TRACE_##name,
	IONEST_TRACE_EVENTS(IONEST_TRACE_ENUM)
#undef IONEST_TRACE_ENUM
		IONEST_TRACE_COUNT
};

/* One byte per event, read on the hot path; written only by enable. */
extern bool ionest_trace_on[IONEST_TRACE_COUNT];

void ionest_trace_emit(enum ionest_trace_id id, const uint64_t *args,
		       unsigned nargs);

#define IONEST__NARG(...) IONEST__NARG_(__VA_ARGS__, 6, 5, 4, 3, 2, 1, 0)
#define IONEST__NARG_(a, b, c, d, e, f, n, ...) n
#define IONEST__CAT(a, b) IONEST__CAT_(a, b)
#define IONEST__CAT_(a, b) a##b
#define IONEST__P1(a) uint64_t a
#define IONEST__P2(a, b) uint64_t a, uint64_t b
#define IONEST__P3(a, b, c) uint64_t a, uint64_t b, uint64_t c
#define IONEST__P4(a, b, c, d) IONEST__P2(a, b), IONEST__P2(c, d)
#define IONEST__P5(a, b, c, d, e) IONEST__P3(a, b, c), IONEST__P2(d, e)
#define IONEST__P6(a, b, c, d, e, f) IONEST__P3(a, b, c), IONEST__P3(d, e, f)
#define IONEST__PARAMS(...) \
	IONEST__CAT(IONEST__P, IONEST__NARG(__VA_ARGS__))(__VA_ARGS__)

#define IONEST_TRACE_FN(name, fmt, ...)                                    \
	static inline void trace_##name(IONEST__PARAMS(__VA_ARGS__))       \
	{                                                                  \
		if (__builtin_expect(ionest_trace_on[IONEST_TRACE_##name], \
				     0)) {                                 \
			const uint64_t a_[] = { __VA_ARGS__ };             \
			ionest_trace_emit(IONEST_TRACE_##name, a_,         \
					  sizeof(a_) / sizeof(a_[0]));     \
		}                                                          \
	}
IONEST_TRACE_EVENTS(IONEST_TRACE_FN)
#undef IONEST_TRACE_FN

#endif
