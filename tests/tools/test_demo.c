// SPDX-License-Identifier: MIT
/*
 * `ionest demo` as a user runs it: exit 0 on both models, the text output
 * against golden files (counter values normalised), --json parsed by a
 * small JSON parser here and its shape and values checked, --dot against
 * golden files, usage errors with exit status 2, no colour on a pipe.
 * IONEST_BIN and IONEST_GOLDEN come from meson; IONEST_GOLDEN_UPDATE=1
 * rewrites the golden files instead of comparing. The JSON reader is the
 * command's own (tools/json.c, tested by the tools-json suite).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"
#include "tools/cli_util.h"
#include "../tools/json.h"

static struct cli_out r;

/* ---- Golden files ---- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static void golden(const char *name, const char *got)
{
	char path[512];
	char *want;

	snprintf(path, sizeof(path), "%s/%s", cli_env("IONEST_GOLDEN"), name);
	if (getenv("IONEST_GOLDEN_UPDATE") &&
	    !strcmp(getenv("IONEST_GOLDEN_UPDATE"), "1")) {
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs(got, f);
		assert_int_equal(fclose(f), 0);
		return;
	}
	want = slurp(path);
	if (!want)
		fail_msg("no golden file %s", path);
	if (strcmp(want, got)) {
		const char *a = want, *b = got;

		while (*a && *a == *b)
			a++, b++;
		print_message("# %s differs at byte %zu:\n# want: %.60s\n"
			      "# got:  %.60s\n",
			      name, (size_t)(a - want), a, b);
	}
	assert_string_equal(want, got);
	free(want);
}

/* Digits in the counters section become N (their values vary with the
 * models' cache geometry); the rest is pinned. */
static void normalise(char *t)
{
	char *c = strstr(t, "\ncounters ("), *end, *w;

	if (!c)
		return;
	c = strchr(c + 1, '\n');
	end = c ? strstr(c, "\n\n") : NULL;
	if (!end)
		return;
	for (w = c; c < end; c++) {
		if (isdigit((unsigned char)*c)) {
			*w++ = 'N';
			while (c + 1 < end &&
			       (isdigit((unsigned char)c[1]) || c[1] == '.'))
				c++;
		} else {
			*w++ = *c;
		}
	}
	memmove(w, end, strlen(end) + 1);
}

/* Member @key of @o, of type @t (failing the test otherwise). */
static const struct json *jget(const struct json *o, const char *key,
			       enum json_type t)
{
	const struct json *v = json_get(o, key);

	if (!v)
		fail_msg("no member \"%s\"", key);
	assert_int_equal(v->type, t);
	return v;
}

static struct json *jparse(const char *text)
{
	struct json *v = NULL;
	char err[128];

	if (json_parse(text, &v, err, sizeof(err)))
		fail_msg("not JSON: %s", err);
	return v;
}

/* ---- The command ---- */

static const char *const names[] = {
	"dma.host",	 "dma.vm1",	     "dma.vm2",
	"dma.vm2.dev2",	 "dma.vm1.proc1",    "dma.vm1.proc2",
	"dma.vm2.proc1", "dma.vm2.proc2",    "isolation.vm1",
	"isolation.vm2", "stage1.vm1.proc1", "stage1.vm2.proc2",
	"fault",	 "page-request",     "page-request.invalid",
	"msi",
};

static void text_model(const char *model)
{
	char name[64];

	CLI(&r, "demo", "--iommu", model);
	if (r.status)
		print_message("# %s%s", r.o, r.e);
	assert_int_equal(r.status, 0);
	/* No escapes on a pipe; nothing on stderr without -v. */
	assert_null(strchr(r.o, '\033'));
	assert_string_equal(r.e, "");
	assert_non_null(strstr(r.o, "\ndemo: OK - 16 of 16 checks passed\n"));
	normalise(r.o);
	snprintf(name, sizeof(name), "demo-%s.txt", model);
	golden(name, r.o);
}

static void test_text_smmuv3(void **state)
{
	(void)state;
	text_model("smmuv3");
	/* The default model. */
	CLI(&r, "demo");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.o, "seed topology on smmuv3 (smmu0), "
				    "nesting hw\n"));
}

static void test_text_vtd(void **state)
{
	(void)state;
	text_model("vtd");
}

static void json_model(const char *model)
{
	char dot[] = "/tmp/ionest-demo-dotXXXXXX", name[64];
	const struct json *checks, *ctr;
	struct json *v;
	char *got;
	int fd = mkstemp(dot);

	assert_true(fd >= 0);
	close(fd);
	CLI(&r, "demo", "--iommu", model, "--json", "--dot", dot);
	assert_int_equal(r.status, 0);
	v = jparse(r.o);
	assert_string_equal(jget(v, "version", JSON_STRING)->string, "0.1.0");
	assert_string_equal(jget(v, "iommu", JSON_STRING)->string, model);
	assert_string_equal(jget(v, "nesting", JSON_STRING)->string, "hw");
	assert_true(jget(v, "ok", JSON_BOOL)->boolean);
	checks = jget(v, "checks", JSON_ARRAY);
	assert_int_equal(checks->n, sizeof(names) / sizeof(names[0]));
	for (size_t i = 0; i < checks->n; i++) {
		const struct json *c = &checks->items[i];

		assert_string_equal(jget(c, "name", JSON_STRING)->string,
				    names[i]);
		assert_true(jget(c, "ok", JSON_BOOL)->boolean);
		assert_true(strlen(jget(c, "detail", JSON_STRING)->string) >
			    10);
	}
	ctr = jget(v, "counters", JSON_OBJECT);
	assert_int_equal(ctr->n, 14);
	assert_true(jget(ctr, "translate", JSON_NUMBER)->number > 0);
	assert_true(jget(ctr, "tlb_hit", JSON_NUMBER)->number > 0);
	assert_true(jget(ctr, "walk_read", JSON_NUMBER)->number >=
		    jget(ctr, "walk", JSON_NUMBER)->number);
	assert_true(jget(ctr, "page_request", JSON_NUMBER)->number >= 2);
	assert_true(jget(ctr, "invalidation", JSON_NUMBER)->number > 0);
	json_free(v);
	/* The graph. */
	got = slurp(dot);
	assert_non_null(got);
	unlink(dot);
	snprintf(name, sizeof(name), "demo-%s.dot", model);
	golden(name, got);
	free(got);
}

static void test_json_dot_smmuv3(void **state)
{
	(void)state;
	json_model("smmuv3");
}

static void test_json_dot_vtd(void **state)
{
	(void)state;
	json_model("vtd");
}

static void test_verbose(void **state)
{
	(void)state;
	CLI(&r, "demo", "--iommu", "vtd", "-v");
	assert_int_equal(r.status, 0);
	/* Build steps are diagnostics; HWPT ids join the tree. */
	assert_non_null(strstr(r.e, "seed: vtd0: vtd model, nesting hw\n"));
	assert_null(strstr(r.o, "seed: "));
	assert_non_null(strstr(r.o, "hwpt "));
}

/* The JSON counter @name of a demo run. */
static double shadow_ctr(struct json *v, const char *name)
{
	return jget(jget(v, "counters", JSON_OBJECT), name, JSON_NUMBER)->number;
}

/* The mode in effect is printed, on both models, with the driver's
 * shadow-table counters in shadow mode. */
static void test_shadow(void **state)
{
	static const char *const models[] = { "smmuv3", "vtd" };
	struct json *v;

	(void)state;
	for (unsigned i = 0; i < 2; i++) {
		CLI(&r, "demo", "--iommu", models[i], "--nesting", "shadow",
		    "--json");
		assert_int_equal(r.status, 0);
		v = jparse(r.o);
		assert_string_equal(jget(v, "nesting", JSON_STRING)->string,
				    "shadow");
		assert_true(jget(v, "ok", JSON_BOOL)->boolean);
		/* Guest invalidations resync, the fault check's miss is
		 * reported by the driver, the parent unmaps drop. */
		assert_true(shadow_ctr(v, "shadow_sync") > 0);
		assert_true(shadow_ctr(v, "shadow_miss") > 0);
		assert_true(shadow_ctr(v, "shadow_fault") > 0);
		json_free(v);
		CLI(&r, "demo", "--iommu", models[i], "--nesting", "shadow");
		assert_int_equal(r.status, 0);
		assert_non_null(
			strstr(r.o, "  shadow tables (driver): syncs "));
		CLI(&r, "demo", "--iommu", models[i], "--nesting", "hw",
		    "--json");
		assert_int_equal(r.status, 0);
		v = jparse(r.o);
		assert_true(shadow_ctr(v, "shadow_sync") == 0);
		assert_true(shadow_ctr(v, "shadow_miss") == 0);
		json_free(v);
	}
	CLI(&r, "demo", "--iommu", "vtd", "--nesting", "hw");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.o, "nesting hw\n"));
	assert_null(strstr(r.o, "shadow tables"));
}

/* Colour only on a terminal, and never with NO_COLOR set. */
static void test_colour(void **state)
{
	(void)state;
	unsetenv("NO_COLOR");
	CLI_PTY(&r, "demo", "--iommu", "vtd");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.o, "\033["));
	assert_non_null(strstr(r.o, "OK"));
	assert_int_equal(setenv("NO_COLOR", "1", 1), 0);
	CLI_PTY(&r, "demo", "--iommu", "vtd");
	assert_int_equal(unsetenv("NO_COLOR"), 0);
	assert_int_equal(r.status, 0);
	assert_null(strchr(r.o, '\033'));
	assert_non_null(strstr(r.o, "demo: OK - 16 of 16 checks passed"));
}

static void test_help(void **state)
{
	(void)state;
	CLI(&r, "demo", "--help");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.o, "usage: ionest demo"));
	assert_non_null(strstr(r.o, "--iommu"));
	assert_non_null(strstr(r.o, "--nesting"));
	assert_non_null(strstr(r.o, "--dot FILE"));
	assert_string_equal(r.e, "");
	CLI(&r, "help", "demo");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.o, "usage: ionest demo"));
	CLI(&r, "--help");
	assert_non_null(strstr(r.o, "\n  demo "));
}

static void test_usage_errors(void **state)
{
	static const char *const bad[][3] = {
		{ "--iommu", "amd", "unknown IOMMU model 'amd'" },
		{ "--nesting", "auto", "unknown nesting mode 'auto'" },
		{ "--bogus", NULL, "unknown option '--bogus'" },
		{ "-x", NULL, "unknown option '-x'" },
		{ "--dot", NULL, "--dot needs an argument" },
		{ "--iommu", NULL, "--iommu needs an argument" },
		{ "extra", NULL, "unexpected argument 'extra'" },
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bad[i][1])
			CLI(&r, "demo", bad[i][0], bad[i][1]);
		else
			CLI(&r, "demo", bad[i][0]);
		assert_int_equal(r.status, 2);
		assert_string_equal(r.o, "");
		assert_non_null(strstr(r.e, "ionest demo: "));
		assert_non_null(strstr(r.e, bad[i][2]));
	}
	/* A --dot file that cannot be written: exit 1, named. */
	CLI(&r, "demo", "--dot", "/nonexistent/dir/x.dot");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.e, "/nonexistent/dir/x.dot"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_smmuv3),
		cmocka_unit_test(test_text_vtd),
		cmocka_unit_test(test_json_dot_smmuv3),
		cmocka_unit_test(test_json_dot_vtd),
		cmocka_unit_test(test_verbose),
		cmocka_unit_test(test_shadow),
		cmocka_unit_test(test_colour),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_usage_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
