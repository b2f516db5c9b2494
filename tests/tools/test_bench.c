// SPDX-License-Identifier: MIT
/*
 * `ionest bench`: a real suite of the build tree (vtd, the quickest)
 * through --json and the table, then discovery, selection, failures and
 * output checking against fake bench-* programs in $IONEST_BENCH_DIR.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"
#include "cli_util.h"
#include "../../tools/json.h"

static struct cli_out r;

static struct json *parse(const char *text)
{
	struct json *v = NULL;
	char err[128];

	if (json_parse(text, &v, err, sizeof(err)))
		print_error("not JSON (%s):\n%s\n", err, text);
	assert_non_null(v);
	return v;
}

static unsigned lines(const char *s)
{
	unsigned n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Occurrences of @what in @s. */
static unsigned count_rows(const char *s, const char *what)
{
	unsigned n = 0;

	for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

/* A metric as `ionest bench --json` writes it: every member, typed. */
static void check_metric(const struct json *m)
{
	static const char *const nums[] = { "value", "baseline_value", "ratio",
					    "target" };

	assert_int_equal(m->type, JSON_OBJECT);
	assert_non_null(json_get_str(m, "name", NULL));
	assert_true(strlen(json_get_str(m, "name", "")) > 0);
	assert_non_null(json_get_str(m, "unit", NULL));
	assert_non_null(json_get_str(m, "baseline", NULL));
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		const struct json *n = json_get(m, nums[i]);

		assert_non_null(n);
		assert_true(n->type == JSON_NUMBER || n->type == JSON_NULL);
	}
	assert_int_equal(json_get(m, "met")->type, JSON_BOOL);
	assert_int_equal(json_get(m, "higher_is_better")->type, JSON_BOOL);
}

static void test_real_suite_json(void **state)
{
	const struct json *suites, *s, *sum;
	struct json *doc;
	unsigned met = 0, targets = 0;

	unsetenv("IONEST_BENCH_DIR");
	CLI(&r, "bench", "--quick", "--json", "vtd");
	assert_int_equal(r.status, 0);
	/* Not a terminal: no progress line, no colour. */
	assert_null(strchr(r.e, '\r'));
	assert_null(strchr(r.o, '\033'));
	doc = parse(r.o);
	assert_string_equal(json_get_str(doc, "ionest", ""), "0.1.0");
	assert_true(json_get_bool(doc, "quick", false));
	suites = json_get(doc, "suites");
	assert_non_null(suites);
	assert_int_equal(suites->type, JSON_ARRAY);
	assert_int_equal(suites->n, 1);
	s = &suites->items[0];
	assert_string_equal(json_get_str(s, "suite", ""), "vtd");
	assert_true(json_get_bool(s, "ok", false));
	assert_null(json_get(s, "error"));
	assert_int_equal(json_get(s, "metrics")->type, JSON_ARRAY);
	assert_true(json_get(s, "metrics")->n >= 3);
	for (size_t i = 0; i < json_get(s, "metrics")->n; i++) {
		const struct json *m = &json_get(s, "metrics")->items[i];

		check_metric(m);
		if (json_get_num(m, "target", 0) > 0) {
			targets++;
			met += json_get_bool(m, "met", false);
		}
	}
	/* Its first metric was measured against a baseline. */
	assert_true(json_get_num(&json_get(s, "metrics")->items[0], "value",
				 0) > 0);
	assert_true(json_get_num(&json_get(s, "metrics")->items[0],
				 "baseline_value", 0) > 0);
	assert_true(strlen(json_get_str(&json_get(s, "metrics")->items[0],
					"baseline", "")) > 0);
	sum = json_get(doc, "summary");
	assert_int_equal(json_get_num(sum, "suites", 0), 1);
	assert_int_equal(json_get_num(sum, "failed", -1), 0);
	assert_int_equal(json_get_num(sum, "metrics", 0),
			 json_get(s, "metrics")->n);
	assert_int_equal(json_get_num(sum, "targets", -1), targets);
	assert_int_equal(json_get_num(sum, "met", -1), met);
	json_free(doc);
}

static void test_real_suite_table(void **state)
{
	char want[128];
	const char *last;

	unsetenv("IONEST_BENCH_DIR");
	CLI(&r, "bench", "-q", "vtd");
	assert_int_equal(r.status, 0);
	assert_null(strchr(r.o, '\033'));
	assert_int_equal(strncmp(r.o, "suite  metric ", 14), 0);
	/* Last line: the totals; one line per metric above it, each naming
	 * the suite in a column as wide as the header's. */
	assert_int_equal(count_rows(r.o, "\nvtd    "), lines(r.o) - 2);
	last = r.o + r.olen - 1;
	while (last > r.o && last[-1] != '\n')
		last--;
	snprintf(want, sizeof(want), "1 suite, %u metrics, ", lines(r.o) - 2);
	assert_int_equal(strncmp(last, want, strlen(want)), 0);
	assert_non_null(strstr(last, " targets met\n"));
}

/* The metric of @s named @name (it must be there). */
static const struct json *metric(const struct json *s, const char *name)
{
	const struct json *ms = json_get(s, "metrics");

	for (size_t i = 0; ms && i < ms->n; i++) {
		if (!strcmp(json_get_str(&ms->items[i], "name", ""), name))
			return &ms->items[i];
	}
	print_error("no metric '%s'\n", name);
	fail();
	return NULL;
}

static double metric_num(const struct json *s, const char *model,
			 const char *what, const char *mode, const char *key)
{
	char n[96];

	snprintf(n, sizeof(n), "%s: %s, %s", model, what, mode);
	return json_get_num(metric(s, n), key, -1);
}

/*
 * bench-shadow's DMA-miss comparison, on both models: the time per miss
 * in each mode (hw nesting against a hit, shadow against hw nesting), a
 * miss on every access (and a hit on every hit access), and
 * the model's table reads: with every cache flushed, the 2-D walk's 24
 * (SMMUv3: and 4 that translate the guest CD's IPA) against the shadow's
 * single-stage 4; warm, fewer than cold and at least the leaf.
 */
static void test_shadow_dma_miss(void **state)
{
	static const struct {
		const char *model, *tlb;
		double hw_cold;
	} mo[] = { { "VT-d", "IOTLB", 24 }, { "SMMUv3", "TLB", 28 } };
	const struct json *s;
	struct json *doc;

	unsetenv("IONEST_BENCH_DIR");
	CLI(&r, "bench", "--quick", "--json", "shadow");
	assert_int_equal(r.status, 0);
	/* bench-shadow's own check of its miss and hit accesses */
	assert_null(strstr(r.e, " misses in "));
	doc = parse(r.o);
	s = &json_get(doc, "suites")->items[0];
	assert_string_equal(json_get_str(s, "suite", ""), "shadow");
	for (size_t i = 0; i < sizeof(mo) / sizeof(mo[0]); i++) {
		char dma[32];
		double hw, warm, cold;

		snprintf(dma, sizeof(dma), "DMA, %s miss per page", mo[i].tlb);
		hw = metric_num(s, mo[i].model, dma, "hw nesting", "value");
		assert_true(hw > 0);
		/* hw nesting against a TLB hit on the same machine */
		assert_true(metric_num(s, mo[i].model, dma, "hw nesting",
				       "baseline_value") > 0);
		assert_true(metric_num(s, mo[i].model, dma, "shadow", "value") >
			    0);
		assert_true(metric_num(s, mo[i].model, dma, "shadow",
				       "baseline_value") == hw);
		cold = metric_num(s, mo[i].model, "table reads, caches cold",
				  "hw nesting", "value");
		assert_true(cold == mo[i].hw_cold);
		assert_true(metric_num(s, mo[i].model,
				       "table reads, caches cold", "shadow",
				       "value") == 4);
		assert_true(metric_num(s, mo[i].model,
				       "table reads, caches cold", "shadow",
				       "baseline_value") == cold);
		for (int k = 0; k < 2; k++) {
			warm = metric_num(s, mo[i].model,
					  "table reads per miss",
					  k ? "shadow" : "hw nesting", "value");
			assert_true(warm >= 1 && warm < (k ? 4 : cold));
		}
	}
	json_free(doc);
}

static void test_list_and_usage(void **state)
{
	char *p;

	unsetenv("IONEST_BENCH_DIR");
	CLI(&r, "bench", "--list");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.e, "");
	/* Every bench-* program of the build tree, bottom layer first. */
	assert_int_equal(strncmp(r.o, "pt\n", 3), 0);
	p = strstr(r.o, "\nsmmuv3\n");
	assert_non_null(p);
	assert_true(strstr(r.o, "\nvtd\n") > p);
	assert_true(strstr(r.o, "\niommufd\n") > strstr(r.o, "\nvtd\n"));
	CLI(&r, "bench", "nosuch");
	assert_int_equal(r.status, 2);
	assert_string_equal(r.o, "");
	assert_string_equal(r.e, "ionest bench: no benchmark suite 'nosuch' "
				 "(ionest bench --list shows them)\n");
	CLI(&r, "bench", "vtd", "nosuch");
	assert_int_equal(r.status, 2);
	assert_string_equal(r.o, "");
	CLI(&r, "bench", "--frob");
	assert_int_equal(r.status, 2);
	assert_string_equal(r.o, "");
	assert_non_null(strstr(r.e, "ionest bench: unknown option '--frob'\n"));
	assert_non_null(strstr(r.e, "usage: ionest bench"));
	CLI(&r, "bench", "--list", "vtd");
	assert_int_equal(r.status, 2);
	assert_string_equal(r.e, "ionest bench: --list takes nothing else\n");
	CLI(&r, "bench", "--help");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.e, "");
	assert_int_equal(strncmp(r.o, "usage: ionest bench [--quick]", 29), 0);
	assert_non_null(strstr(r.o, "IONEST_BENCH_DIR"));
}

/* Fake suites: what a bench program may do wrong, and one that works. */
#define GOOD                                                                  \
	"#!/bin/sh\n"                                                         \
	"echo 'bench-good: a warning' >&2\n"                                  \
	"printf '[{\"suite\":\"good\",\"name\":\"args %s\",\"value\":2,'  "   \
	"\"$*\"\n"                                                            \
	"printf '\"unit\":\"ns\",\"baseline\":\"plain\","                     \
	"\"baseline_value\":1,\"ratio\":2,\"target\":1.5,'\n"                 \
	"printf '\"higher_is_better\":false,\"met\":false},\\n'\n"            \
	"printf ' {\"name\":\"pre %s\",\"value\":null,\"ratio\":null,'  "     \
	"\"$IONEST_PRELOAD\"\n"                                               \
	"printf '\"target\":0,\"met\":true},\\n'\n"                           \
	"printf ' {\"name\":\"q\\\\\"\",\"value\":4,\"baseline_value\":2,'\n" \
	"printf '\"ratio\":0.5,\"target\":0.25,\"higher_is_better\":true,'\n" \
	"printf '\"met\":true}]\\n'\n"

static const struct {
	const char *name, *script, *error;
} fakes[] = {
	{ "bench-good", GOOD, NULL },
	{ "bench-fail", "#!/bin/sh\necho boom >&2\nexit 3\n", "exit status 3" },
	{ "bench-garbage", "#!/bin/sh\necho not json\n",
	  "unreadable output (line 1, column 1: expected a value)" },
	{ "bench-sig", "#!/bin/sh\nkill -9 $$\n",
	  "killed by signal 9 (Killed)" },
	{ "bench-noname", "#!/bin/sh\necho '[{\"value\":1}]'\n",
	  "unreadable output (metric 0 has no name)" },
	{ "bench-obj", "#!/bin/sh\necho '{}'\n",
	  "unreadable output (not a JSON array)" },
	{ "bench-empty", "#!/bin/sh\n",
	  "unreadable output (line 1, column 1: "
	  "expected a value)" },
};

static char *fake_dir(void)
{
	char *dir = cli_mkdtemp();

	for (size_t i = 0; i < sizeof(fakes) / sizeof(fakes[0]); i++)
		cli_write(dir, fakes[i].name, fakes[i].script, 0755);
	/* Not suites: not executable, not a suite name, not bench-. */
	cli_write(dir, "bench-noexec", GOOD, 0644);
	cli_write(dir, "bench-good.sh", GOOD, 0755);
	cli_write(dir, "bench-", GOOD, 0755);
	cli_write(dir, "other", GOOD, 0755);
	setenv("IONEST_BENCH_DIR", dir, 1);
	return dir;
}

static void test_fake_good(void **state)
{
	char *dir = fake_dir();
	const struct json *ms;
	struct json *doc;

	CLI(&r, "bench", "--list");
	assert_int_equal(r.status, 0);
	/* Unknown to the ranking: by name. */
	assert_string_equal(r.o, "empty\nfail\ngarbage\ngood\nnoname\nobj\n"
				 "sig\n");
	setenv("IONEST_PRELOAD", "/some/preload.so", 1);
	CLI(&r, "bench", "--json", "good", "good");
	unsetenv("IONEST_PRELOAD");
	assert_int_equal(r.status, 0);
	/* The program's diagnostics reach our stderr. */
	assert_string_equal(r.e, "bench-good: a warning\n");
	doc = parse(r.o);
	assert_false(json_get_bool(doc, "quick", true));
	/* Named twice, run once. */
	assert_int_equal(json_get(doc, "suites")->n, 1);
	ms = json_get(&json_get(doc, "suites")->items[0], "metrics");
	assert_int_equal(ms->n, 3);
	for (size_t i = 0; i < ms->n; i++)
		check_metric(&ms->items[i]);
	/* The program ran with --json only; $IONEST_PRELOAD kept. */
	assert_string_equal(json_get_str(&ms->items[0], "name", ""),
			    "args --json");
	assert_string_equal(json_get_str(&ms->items[1], "name", ""),
			    "pre /some/preload.so");
	/* Missing members are defaults, nulls stay null. */
	assert_int_equal(json_get(&ms->items[1], "value")->type, JSON_NULL);
	assert_int_equal(json_get(&ms->items[1], "baseline_value")->type,
			 JSON_NULL);
	assert_string_equal(json_get_str(&ms->items[1], "unit", "x"), "");
	assert_string_equal(json_get_str(&ms->items[2], "name", ""), "q\"");
	assert_true(json_get_num(&ms->items[2], "ratio", 0) == 0.5);
	assert_true(json_get_bool(&ms->items[2], "higher_is_better", false));
	assert_int_equal(json_get_num(json_get(doc, "summary"), "targets", 0),
			 2);
	assert_int_equal(json_get_num(json_get(doc, "summary"), "met", 0), 1);
	json_free(doc);

	/* The table: --quick passed on, targets with their direction, the
	 * preload's location exported when not set. */
	unsetenv("IONEST_PRELOAD");
	CLI(&r, "bench", "--quick", "good");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.o, "\ngood   args --json --quick "));
	assert_non_null(strstr(r.o, "        2    <=1.5  NO\n"));
	assert_non_null(strstr(r.o, "      0.5   >=0.25  yes\n"));
	assert_non_null(strstr(r.o, "libionest-preload.so"));
	assert_non_null(strstr(r.o, "\n1 suite, 3 metrics, 1/2 targets "
				    "met\n"));
	unsetenv("IONEST_BENCH_DIR");
	cli_rmtree(dir);
	free(dir);
}

static void test_fake_failures(void **state)
{
	char *dir = fake_dir();
	const struct json *suites;
	struct json *doc;
	char want[256];

	CLI(&r, "bench", "--json");
	assert_int_equal(r.status, 1);
	doc = parse(r.o);
	suites = json_get(doc, "suites");
	assert_int_equal(suites->n, sizeof(fakes) / sizeof(fakes[0]));
	for (size_t i = 0; i < sizeof(fakes) / sizeof(fakes[0]); i++) {
		const struct json *s = NULL;

		for (size_t k = 0; k < suites->n; k++) {
			if (!strcmp(json_get_str(&suites->items[k], "suite",
						 ""),
				    fakes[i].name + 6))
				s = &suites->items[k];
		}
		assert_non_null(s);
		assert_int_equal(json_get_bool(s, "ok", false),
				 fakes[i].error == NULL);
		if (fakes[i].error) {
			assert_string_equal(json_get_str(s, "error", ""),
					    fakes[i].error);
			assert_int_equal(json_get(s, "metrics")->n, 0);
			snprintf(want, sizeof(want), "ionest bench: %s: %s\n",
				 fakes[i].name + 6, fakes[i].error);
			assert_non_null(strstr(r.e, want));
		}
	}
	assert_non_null(strstr(r.e, "boom\n"));
	assert_int_equal(json_get_num(json_get(doc, "summary"), "failed", 0),
			 6);
	json_free(doc);
	/* One failure among good suites still fails the run; the table says
	 * which. */
	CLI(&r, "bench", "good", "fail");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.o, "\nfail   FAILED: exit status 3\n"));
	assert_non_null(strstr(r.o, "2 suites, 3 metrics, 1/2 targets met, 1 "
				    "suite FAILED\n"));
	unsetenv("IONEST_BENCH_DIR");
	cli_rmtree(dir);
	free(dir);
}

/* On a terminal: a progress line on stderr, erased before anything else
 * is written, and colour on stdout unless NO_COLOR says otherwise. */
static void test_terminal(void **state)
{
	static const char *const head =
		"\rionest bench: [1/2] good (quick)\033[K"
		"\r\033[Kbench-good: a warning\n"
		"\rionest bench: [2/2] fail (quick)\033[K"
		"\r\033[Kboom\n"
		"ionest bench: fail: exit status 3\n";
	static const char *const plain = "\rionest bench: [1/1] good\033[K"
					 "\r\033[K";
	char *dir = fake_dir();

	unsetenv("NO_COLOR");
	CLI_PTY(&r, "bench", "--quick", "good", "fail");
	assert_int_equal(r.status, 1);
	assert_int_equal(strncmp(r.o, head, strlen(head)), 0);
	assert_non_null(strstr(r.o, "  \033[31mNO\033[0m\n"));
	assert_non_null(strstr(r.o, "  \033[32myes\033[0m\n"));
	assert_non_null(strstr(r.o, "fail   \033[31mFAILED: \033[0mexit "));
	setenv("NO_COLOR", "1", 1);
	CLI_PTY(&r, "bench", "good");
	unsetenv("NO_COLOR");
	assert_int_equal(r.status, 0);
	assert_int_equal(strncmp(r.o, plain, strlen(plain)), 0);
	assert_null(strstr(r.o, "\033[3"));
	assert_null(strstr(r.o, "\033[1m"));
	assert_non_null(strstr(r.o, "  NO\n"));
	unsetenv("IONEST_BENCH_DIR");
	cli_rmtree(dir);
	free(dir);
}

static void test_no_suites(void **state)
{
	char *dir = cli_mkdtemp(), want[512];

	setenv("IONEST_BENCH_DIR", dir, 1);
	CLI(&r, "bench", "--list");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.o, "");
	CLI(&r, "bench");
	assert_int_equal(r.status, 1);
	snprintf(want, sizeof(want),
		 "ionest bench: no bench-* programs in %s\n", dir);
	assert_string_equal(r.e, want);
	setenv("IONEST_BENCH_DIR", "/nonexistent/dir", 1);
	CLI(&r, "bench", "--list");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.e, "ionest bench: no benchmark programs (looked "
				 "in /nonexistent/dir; set "
				 "IONEST_BENCH_DIR)\n");
	unsetenv("IONEST_BENCH_DIR");
	cli_rmtree(dir);
	free(dir);
}

static int teardown(void **state)
{
	cli_out_free(&r);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_suite_json),
		cmocka_unit_test(test_real_suite_table),
		cmocka_unit_test(test_shadow_dma_miss),
		cmocka_unit_test(test_list_and_usage),
		cmocka_unit_test(test_fake_good),
		cmocka_unit_test(test_fake_failures),
		cmocka_unit_test(test_terminal),
		cmocka_unit_test(test_no_suites),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
