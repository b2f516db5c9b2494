// SPDX-License-Identifier: MIT
/*
 * `ionest explain` as a user meets it: the text of accesses on the example
 * scenarios against golden files (tests/tools/golden/explain/, host
 * addresses - numbers with bits 40-51 set - normalised, since they vary
 * from run to run), the JSON parsed and held to the text, --warm showing
 * the TLB serving, colour only on a terminal without NO_COLOR, and the
 * errors with their exit statuses. IONEST_GOLDEN_UPDATE=1 rewrites the
 * golden files.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"
#include "cli_util.h"
#include "../../tools/json.h"

static struct cli_out r;

static bool updating(void)
{
	const char *u = getenv("IONEST_GOLDEN_UPDATE");

	return u && *u && strcmp(u, "0");
}

/* @s with every hex number with bits 40-51 set (host addresses, and
 * descriptors holding them; not attribute bits above) written 0xHOST. */
static char *normalise(const char *s)
{
	size_t len = strlen(s);
	char *out = malloc(len + 1), *o = out;

	assert_non_null(out);
	while (*s) {
		if (s[0] == '0' && s[1] == 'x' &&
		    isxdigit((unsigned char)s[2])) {
			size_t n = 2;

			while (isxdigit((unsigned char)s[n]))
				n++;
			if ((strtoull(s, NULL, 16) >> 40) & 0xfff ||
			    n - 2 > 16) {
				o += sprintf(o, "0xHOST");
				s += n;
				continue;
			}
		}
		*o++ = *s++;
	}
	*o = '\0';
	return out;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	if (!f)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/* @got (normalised) against golden/explain/@name. */
static void golden(const char *name, const char *got)
{
	char path[1024], *norm = normalise(got), *want;

	snprintf(path, sizeof(path), "%s/explain/%s", cli_env("IONEST_GOLDEN"),
		 name);
	if (updating()) {
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		assert_true(fputs(norm, f) >= 0);
		assert_int_equal(fclose(f), 0);
		free(norm);
		return;
	}
	want = slurp(path);
	if (!want)
		fail_msg("no golden file %s", path);
	if (strcmp(want, norm))
		print_error("%s differs; got:\n%s\n", path, norm);
	assert_string_equal(norm, want);
	free(want);
	free(norm);
}

/* Run from the examples folder so the outputs name the file as given. */
static char cwd[1024];

static int setup(void **state)
{
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(cli_env("IONEST_EXAMPLES")), 0);
	return 0;
}

static int teardown(void **state)
{
	cli_out_free(&r);
	assert_int_equal(chdir(cwd), 0);
	return 0;
}

static const struct {
	const char *golden;
	const char *args[6];
} cases[] = {
	{ "smmuv3-pasid-read.txt",
	  { "explain-smmuv3.yaml", "nic0:1", "0x10000" } },
	{ "smmuv3-rid-write-ro.txt",
	  { "explain-smmuv3.yaml", "nic0", "0x22000", "--write" } },
	{ "smmuv3-s2-fault.txt",
	  { "explain-smmuv3.yaml", "nic0:1", "0x11008" } },
	{ "smmuv3-host-warm.txt",
	  { "explain-smmuv3.yaml", "nvme0", "0x100010", "--warm" } },
	{ "smmuv3-bad-ssid.txt",
	  { "explain-smmuv3.yaml", "nic0:5", "0x10000" } },
	{ "vtd-rid-read.txt", { "explain-vtd.yaml", "gpu0", "0x20010" } },
	{ "vtd-pasid-write-ro.txt",
	  { "explain-vtd.yaml", "gpu0:2", "0x7000", "-w" } },
	{ "vtd-ss-fault.txt", { "explain-vtd.yaml", "vfio0:2", "0x8000" } },
	{ "vtd-host.txt", { "explain-vtd.yaml", "ssd0", "0x201000", "-w" } },
	{ "vtd-malformed.txt",
	  { "explain-vtd.yaml", "gpu0", "0x20000", "-x" } },
};

static void run_case(const char *const *args, bool json)
{
	const char *argv[10] = { "explain" };
	unsigned n = 1;

	for (unsigned i = 0; args[i]; i++)
		argv[n++] = args[i];
	if (json)
		argv[n++] = "--json";
	argv[n] = NULL;
	cli_run(&r, argv);
	if (r.status)
		print_error("%s\n", r.e);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.e, "");
}

static void test_golden_text(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_case(cases[i].args, false);
		golden(cases[i].golden, r.o);
	}
}

/* The "result:" line of a text output. */
static char *result_line(const char *text)
{
	const char *p = strstr(text, "\nresult: ");
	size_t len;
	char *s;

	assert_non_null(p);
	p += strlen("\nresult: ");
	len = strcspn(p, "\n");
	s = strndup(p, len);
	assert_non_null(s);
	return s;
}

static void test_json(void **state)
{
	static const char *const kinds[] = { "note",   "register", "cache",
					     "config", "stage1",   "stage2",
					     "check",  "update" };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct json *acc, *steps, *res;
		struct json *doc = NULL;
		char err[128], *text, *line, *raw, name[64];
		unsigned skipped = 0;

		run_case(cases[i].args, false);
		text = strdup(r.o);
		run_case(cases[i].args, true);
		if (json_parse(r.o, &doc, err, sizeof(err)))
			fail_msg("%s: %s", cases[i].golden, err);
		acc = json_get(doc, "access");
		steps = json_get(doc, "steps");
		res = json_get(doc, "result");
		assert_true(acc && steps && res);
		assert_string_equal(json_get_str(acc, "source", ""),
				    cases[i].args[0]);
		snprintf(name, sizeof(name), "%.*s",
			 (int)strcspn(cases[i].args[1], ":"), cases[i].args[1]);
		assert_string_equal(json_get_str(acc, "device", ""), name);
		assert_int_equal(strtoull(json_get_str(acc, "iova", ""), NULL,
					  16),
				 strtoull(cases[i].args[2], NULL, 16));
		assert_true(steps->type == JSON_ARRAY && steps->n > 0);
		for (size_t k = 0; k < steps->n; k++) {
			const struct json *s = &steps->items[k];
			const char *kind = json_get_str(s, "kind", "");
			bool known = false;
			char lead[32];

			assert_int_equal(json_get_num(s, "n", 0), k + 1);
			for (size_t j = 0; j < 8; j++)
				known |= !strcmp(kind, kinds[j]);
			assert_true(known);
			if (!strcmp(kind, "cache"))
				assert_int_equal(json_get(s, "hit")->type,
						 JSON_BOOL);
			skipped += json_get_bool(s, "skipped", false);
			/* The text shows the same step under the same
			 * number and name. */
			snprintf(lead, sizeof(lead), "\n%3zu%c ", k + 1,
				 json_get_bool(s, "skipped", false) ? '~' :
								      ' ');
			assert_non_null(strstr(text, lead));
			assert_non_null(strstr(strstr(text, lead),
					       json_get_str(s, "name", "?")));
		}
		/* The result: the same summary as the text (another run:
		 * other host addresses). */
		raw = result_line(text);
		line = normalise(raw);
		free(raw);
		raw = normalise(json_get_str(res, "summary", ""));
		assert_string_equal(raw, line);
		free(raw);
		free(line);
		assert_int_equal(skipped > 0,
				 strstr(text, "(~ not done") != NULL);
		if (!strcmp(json_get_str(res, "status", ""), "fault")) {
			const struct json *f = json_get(res, "fault");

			assert_non_null(f);
			assert_non_null(json_get_str(f, "name", NULL));
			assert_true(json_get_num(f, "stage", 0) == 1 ||
				    json_get_num(f, "stage", 0) == 2);
		} else if (!strcmp(json_get_str(res, "status", ""), "ok")) {
			assert_non_null(json_get_str(res, "addr", NULL));
			assert_true(json_get_num(res, "size", 0) >= 4096);
		}
		json_free(doc);
		free(text);
	}
}

/* The outcomes the golden cases stand for, checked directly. */
static void test_outcomes(void **state)
{
	struct json *doc = NULL;
	char err[128];

	CLI(&r, "explain", "explain-smmuv3.yaml", "nic0:1", "0x11008",
	    "--json");
	assert_int_equal(json_parse(r.o, &doc, err, sizeof(err)), 0);
	assert_string_equal(json_get_str(json_get(doc, "result"), "status", ""),
			    "fault");
	assert_string_equal(
		json_get_str(json_get(json_get(doc, "result"), "fault"), "name",
			     ""),
		"F_TRANSLATION");
	assert_int_equal(
		json_get_num(json_get(json_get(doc, "result"), "fault"),
			     "stage", 0),
		2);
	assert_string_equal(
		json_get_str(json_get(json_get(doc, "result"), "fault"), "addr",
			     ""),
		"0x80000008");
	json_free(doc);
	CLI(&r, "explain", "explain-vtd.yaml", "gpu0:2", "0x7000", "--write",
	    "--json");
	assert_int_equal(json_parse(r.o, &doc, err, sizeof(err)), 0);
	assert_string_equal(
		json_get_str(json_get(json_get(doc, "result"), "fault"), "name",
			     ""),
		"WRITE");
	assert_int_equal(
		json_get_num(json_get(json_get(doc, "result"), "fault"), "code",
			     0),
		0x85);
	json_free(doc);
	/* --warm: the TLB serves it, the walk is shown skipped. */
	CLI(&r, "explain", "explain-smmuv3.yaml", "nic0", "0x20000", "--warm");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.o, "TLB                 hit"));
	assert_non_null(strstr(r.o, "~ S1 L3"));
	CLI(&r, "explain", "explain-smmuv3.yaml", "nic0", "0x20000");
	assert_non_null(strstr(r.o, "TLB                 miss"));
	assert_null(strstr(r.o, "~ "));
}

static void test_colour(void **state)
{
	CLI_PTY(&r, "explain", "explain-vtd.yaml", "gpu0", "0x20000");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.o, "\033["));
	setenv("NO_COLOR", "1", 1);
	CLI_PTY(&r, "explain", "explain-vtd.yaml", "gpu0", "0x20000");
	unsetenv("NO_COLOR");
	assert_int_equal(r.status, 0);
	assert_null(strstr(r.o, "\033["));
	CLI(&r, "explain", "explain-vtd.yaml", "gpu0", "0x20000");
	assert_null(strstr(r.o, "\033["));
}

/* --demo: every path of the seed topology on both models translates its
 * first page; one path of each model against a golden file. */
static void test_demo(void **state)
{
	static const char *const paths[] = { "host",	  "vm1",
					     "vm2",	  "vm2.dev2",
					     "vm1.proc1", "vm1.proc2",
					     "vm2.proc1", "vm2.proc2" };
	static const char *const models[] = { "smmuv3", "vtd" };

	for (int m = 0; m < 2; m++) {
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
			const struct json *acc, *steps;
			struct json *doc = NULL;
			char err[128], src[32];
			unsigned sub = 0;

			CLI(&r, "explain", "--json", "--demo", paths[i],
			    "--iommu", models[m]);
			if (r.status)
				print_error("%s %s: %s\n", models[m], paths[i],
					    r.e);
			assert_int_equal(r.status, 0);
			assert_int_equal(
				json_parse(r.o, &doc, err, sizeof(err)), 0);
			acc = json_get(doc, "access");
			steps = json_get(doc, "steps");
			snprintf(src, sizeof(src), "demo (%s)", models[m]);
			assert_string_equal(json_get_str(acc, "source", ""),
					    src);
			assert_string_equal(json_get_str(acc, "device", ""),
					    paths[i]);
			assert_string_equal(
				json_get_str(json_get(doc, "result"), "status",
					     ""),
				"ok");
			/* Guest processes are nested: stage-2 walks of
			 * stage-1 table addresses, one level deeper. */
			for (size_t k = 0; k < steps->n; k++)
				sub += json_get_num(&steps->items[k], "depth",
						    0) == 1;
			assert_int_equal(sub > 0,
					 strstr(paths[i], ".proc") != NULL);
			json_free(doc);
		}
	}
	CLI(&r, "explain", "--demo", "vm1.proc1");
	assert_int_equal(r.status, 0);
	golden("demo-smmuv3-vm1.proc1.txt", r.o);
	CLI(&r, "explain", "--demo", "vm2.proc2", "--iommu", "vtd", "--write");
	assert_int_equal(r.status, 0);
	golden("demo-vtd-vm2.proc2-write.txt", r.o);
	/* An IOVA the process does not map. */
	CLI(&r, "explain", "--demo", "vm2.proc2", "0x1000000008", "--iommu",
	    "vtd");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.o, "result: fault 0x71 FS_NOT_PRESENT"));
}

static void test_errors(void **state)
{
	static const struct {
		const char *args[7];
		int status;
		const char *msg;
	} errs[] = {
		{ { "explain-vtd.yaml", "gpu0" },
		  2,
		  "ionest explain: expected FILE DEVICE[:PASID] IOVA" },
		{ { "explain-vtd.yaml", "gpu0", "0xzz" },
		  2,
		  "ionest explain: '0xzz' is not an address" },
		{ { "explain-vtd.yaml", "gpu0:x", "0" },
		  2,
		  "ionest explain: 'gpu0:x' is not DEVICE or DEVICE:PASID" },
		{ { "explain-vtd.yaml", ":1", "0" },
		  2,
		  "ionest explain: ':1' is not DEVICE or DEVICE:PASID" },
		{ { "explain-vtd.yaml", "gpu9", "0" },
		  1,
		  "ionest explain: explain-vtd.yaml: no device 'gpu9'" },
		{ { "explain-vtd.yaml", "ssd0:1", "0" },
		  1,
		  "ionest explain: explain-vtd.yaml: device 'ssd0' has 0 PASID "
		  "bits: no PASID 1" },
		{ { "mock.yaml", "vfio0", "0" },
		  1,
		  "ionest explain: the mock model of" },
		{ { "no-such-file.yaml", "d", "0" },
		  1,
		  "ionest explain: no-such-file.yaml: cannot open" },
		{ { "--frob", "explain-vtd.yaml", "gpu0", "0" },
		  2,
		  "ionest explain: unknown option '--frob'" },
		{ { "--demo" },
		  2,
		  "ionest explain: expected --demo PATH [IOVA]" },
		{ { "--demo", "vm1", "0x1", "0x2" },
		  2,
		  "ionest explain: expected --demo PATH [IOVA]" },
		{ { "--demo", "vm1", "zz" },
		  2,
		  "ionest explain: 'zz' is not an address" },
		{ { "--demo", "vm3" },
		  1,
		  "ionest explain: demo: no path 'vm3'" },
		{ { "--iommu", "vtd", "explain-vtd.yaml", "gpu0", "0" },
		  2,
		  "ionest explain: --iommu and --nesting go with --demo" },
		{ { "--demo", "vm1", "--iommu", "amd" },
		  2,
		  "ionest explain: unknown IOMMU model 'amd'" },
		{ { "--demo", "vm1", "--nesting", "soft" },
		  2,
		  "ionest explain: unknown nesting mode 'soft'" },
	};

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		const char *argv[10] = { "explain" };
		unsigned n = 1;

		for (unsigned k = 0; errs[i].args[k]; k++)
			argv[n++] = errs[i].args[k];
		argv[n] = NULL;
		cli_run(&r, argv);
		if (r.status != errs[i].status ||
		    strncmp(r.e, errs[i].msg, strlen(errs[i].msg)))
			fail_msg("case %zu: status %d, stderr '%s'", i,
				 r.status, r.e);
		assert_string_equal(r.o, "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_outcomes),
		cmocka_unit_test(test_colour),
		cmocka_unit_test(test_demo),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
