// SPDX-License-Identifier: MIT
#include <stdlib.h>

#include "finject.h"
#include "test_util.h"
#include "util/alloc.h"

#define FINJECT_MAX 100000ul

bool finject_run(const struct finject_flow *fl, unsigned long nth,
		 struct finject_result *r)
{
	bool armed = true, hit = false,
	     verbose = getenv("IONEST_FINJECT_VERBOSE");

	fl->begin(fl->state, fl->arg);
	fault_inject_nth(nth);
	for (unsigned s = 0; s < fl->nsteps; s++) {
		int rc = fl->step(fl->state, s);

		if (armed && rc) {
			unsigned long seen = fault_inject_nth(0);

			/* Only the injected allocation may fail. */
			if (seen < nth)
				fail_msg("step %u failed (%d) before the "
					 "injected failure (nth %lu)",
					 s, rc, nth);
			armed = false;
			hit = true;
			r->failed++;
			if (verbose)
				print_message("# nth %lu: step %u: %d\n", nth,
					      s, rc);
			/* Consistent state: the same step now works. */
			rc = fl->step(fl->state, s);
			if (rc)
				fail_msg("step %u retry failed (%d), nth %lu",
					 s, rc, nth);
		} else if (rc) {
			fail_msg("step %u failed (%d) with nothing injected, "
				 "nth %lu",
				 s, rc, nth);
		}
	}
	if (armed && fault_inject_nth(0) >= nth) {
		/* A fallback absorbed it: fine, every step succeeded. */
		if (verbose)
			print_message("# nth %lu: absorbed\n", nth);
		r->absorbed++;
		hit = true;
	}
	fault_inject_nth(0);
	fl->end(fl->state);
	return hit;
}

struct finject_result finject_sweep(const struct finject_flow *fl)
{
	struct finject_result r = { 0 };
	unsigned long n;

	for (n = 1; n < FINJECT_MAX; n++)
		if (!finject_run(fl, n, &r))
			break;
	r.swept = n - 1;
	print_message("# %lu allocations swept: %u failed a step, %u were "
		      "absorbed\n",
		      r.swept, r.failed, r.absorbed);
	return r;
}
