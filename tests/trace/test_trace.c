// SPDX-License-Identifier: MIT
/* Trace selection, text and JSON output; counter registry. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "trace/counters.h"
#include "trace/trace.h"
#include "util/alloc.h"

static char *capture(FILE *f)
{
	long n;
	char *buf;

	fflush(f);
	n = ftell(f);
	buf = calloc(1, (size_t)n + 1);
	rewind(f);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	return buf;
}

static void test_enable_by_glob(void **state)
{
	assert_int_equal(ionest_trace_enable(NULL), 0);
	assert_false(ionest_trace_on[IONEST_TRACE_pt_map]);
	assert_int_equal(ionest_trace_enable("pt_map"), 1);
	assert_true(ionest_trace_on[IONEST_TRACE_pt_map]);
	assert_false(ionest_trace_on[IONEST_TRACE_pt_unmap]);
	assert_true(ionest_trace_enable("pt_*") >= 4);
	assert_true(ionest_trace_on[IONEST_TRACE_pt_unmap]);
	assert_false(ionest_trace_on[IONEST_TRACE_smmu_cmd]);
	assert_int_equal(ionest_trace_enable("nomatch,smmu_cmd"), 1);
	assert_true(ionest_trace_on[IONEST_TRACE_smmu_cmd]);
	assert_int_equal(ionest_trace_enable(""), 0);
	assert_false(ionest_trace_on[IONEST_TRACE_smmu_cmd]);
}

static void test_text_output(void **state)
{
	FILE *f = tmpfile();
	char *out;

	ionest_trace_set_output(f, IONEST_TRACE_TEXT);
	ionest_trace_enable("pt_map");
	trace_pt_map(0x1000, 0x2000, 0x3000, 3, 0);
	trace_pt_unmap(1, 2, 3, 4); /* disabled: no output */
	out = capture(f);
	assert_non_null(strstr(
		out,
		"pt_map: iova=0x1000 pa=0x2000 size=0x3000 prot=0x3 ret=0\n"));
	assert_null(strstr(out, "pt_unmap"));
	free(out);
	ionest_trace_enable(NULL);
	ionest_trace_set_output(NULL, IONEST_TRACE_TEXT);
	fclose(f);
}

static void test_json_output(void **state)
{
	FILE *f = tmpfile();
	char *out;

	ionest_trace_set_output(f, IONEST_TRACE_JSON);
	ionest_trace_enable("smmu_event");
	trace_smmu_event(0, 0x10, 7, 0xdead000);
	out = capture(f);
	assert_non_null(strstr(
		out,
		"\"event\":\"smmu_event\",\"hw\":0,\"type\":16,\"sid\":7,\"addr\":233492480}\n"));
	assert_int_equal(out[0], '{');
	free(out);
	ionest_trace_enable(NULL);
	ionest_trace_set_output(NULL, IONEST_TRACE_TEXT);
	fclose(f);
}

static void test_event_names(void **state)
{
	assert_string_equal(ionest_trace_event_name(IONEST_TRACE_pt_map),
			    "pt_map");
	assert_null(ionest_trace_event_name(IONEST_TRACE_COUNT));
}

#define DEMO_COUNTERS(X) X(demo, hits) X(demo, misses)
enum { DEMO_COUNTERS(CTR_ENUM) DEMO_COUNT };
static const char *const demo_names[] = { DEMO_COUNTERS(CTR_NAME) };

struct visit {
	int n;
	uint64_t sum;
};

static void visit_fn(void *ctx, const char *component, const char *name,
		     uint64_t value)
{
	struct visit *v = ctx;

	assert_string_equal(component, "demo0");
	v->n++;
	v->sum += value;
}

static void test_counters(void **state)
{
	struct ctr_block b;
	uint64_t vals[DEMO_COUNT] = { 0 };
	struct visit v = { 0 };
	uint64_t x;

	ctr_register(&b, "demo0", demo_names, vals, DEMO_COUNT);
	ctr_inc(&vals[demo_hits]);
	ctr_add(&vals[demo_misses], 41);
	assert_int_equal(ionest_counter_get("demo0", "hits", &x), 0);
	assert_int_equal(x, 1);
	assert_int_equal(ionest_counter_get("demo0", "nope", &x), -ENOENT);
	assert_int_equal(ionest_counter_get("nope", "hits", &x), -ENOENT);
	assert_int_equal(ionest_counters_foreach("demo0.*", visit_fn, &v), 2);
	assert_int_equal(v.sum, 42);
	ionest_counters_reset("demo0.miss*");
	assert_int_equal(vals[demo_misses], 0);
	assert_int_equal(vals[demo_hits], 1);
	ctr_unregister(&b);
	assert_int_equal(ionest_counter_get("demo0", "hits", &x), -ENOENT);
}

static void test_fault_inject(void **state)
{
	void *a, *b;

	fault_inject_nth(2);
	a = xmalloc(8);
	b = xmalloc(8);
	assert_non_null(a);
	assert_null(b);
	assert_int_equal(fault_inject_nth(0), 2);
	b = xzalloc(8);
	assert_non_null(b);
	xfree(a);
	xfree(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enable_by_glob),
		cmocka_unit_test(test_text_output),
		cmocka_unit_test(test_json_output),
		cmocka_unit_test(test_event_names),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_fault_inject),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
