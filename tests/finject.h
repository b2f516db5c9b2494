/* SPDX-License-Identifier: MIT */
/*
 * The allocation-failure sweep of the fault-injection suites. A flow is a
 * list of steps over a state of the suite's own (a machine, fds, IDs). For
 * N = 1, 2, ... a run starts afresh with the Nth internal allocation set to
 * fail (fault_inject_nth, util/alloc.h) and does every step:
 *   - a step that fails must be the one that met the injected failure
 *     (no allocation failed before it: a failure otherwise is a bug);
 *   - that step, retried at once without injection, must succeed (the
 *     failure left consistent state), and so must every later step;
 *   - a run in which every step succeeded although the Nth allocation
 *     failed had it absorbed by a fallback (counted, fine);
 *   - the flow's end takes everything down; ASan reports any leak.
 * The sweep stops at the first N the flow no longer reaches.
 */
#ifndef IONEST_TESTS_FINJECT_H
#define IONEST_TESTS_FINJECT_H

#include <stdbool.h>

struct finject_flow {
	unsigned nsteps;
	/* Make @state the start of a run (@arg: the suite's own). */
	void (*begin)(void *state, void *arg);
	/* Step @s of the flow: 0 or a negative errno. */
	int (*step)(void *state, unsigned s);
	/* Take down whatever the steps built, however far they got. */
	void (*end)(void *state);
	void *state, *arg;
};

/*
 * finject_step_ and finject_end_ for a suite whose state is @T, whose steps
 * are "static int (*const @steps[])(@T *)" and whose end is
 * "void @end(@T *)".
 */
#define FINJECT_ADAPTERS(T, steps, end)                   \
	static int finject_step_(void *state, unsigned s) \
	{                                                 \
		return steps[s]((T *)state);              \
	}                                                 \
	static void finject_end_(void *state)             \
	{                                                 \
		end((T *)state);                          \
	}

/* The flow of those adapters, beginning with @begin, on @state, @arg. */
#define FINJECT_FLOW(steps, begin_fn, state_, arg_)                           \
	((struct finject_flow){ .nsteps = sizeof(steps) / sizeof((steps)[0]), \
				.begin = (begin_fn),                          \
				.step = finject_step_,                        \
				.end = finject_end_,                          \
				.state = (state_),                            \
				.arg = (arg_) })

struct finject_result {
	unsigned long swept; /* allocations the flow reaches */
	unsigned failed; /* runs in which a step failed (and then worked) */
	unsigned absorbed; /* runs in which every step worked anyway */
};

/* One run with the @nth allocation failing; true if the flow reached it.
 * Set IONEST_FINJECT_VERBOSE for a line per failed step or absorbed run. */
bool finject_run(const struct finject_flow *fl, unsigned long nth,
		 struct finject_result *r);
/* Every N until the flow no longer reaches its Nth allocation; prints the
 * counts ("# N allocations swept: ...") and returns them. */
struct finject_result finject_sweep(const struct finject_flow *fl);

#endif
