// SPDX-License-Identifier: MIT
/*
 * `ionest topology` against golden files (tests/tools/golden/): every
 * example machine in its three formats, and broken machine files with
 * the line-numbered error each one must give (through `topology` and
 * through `run`). Every .yaml file of examples/ is also checked on its own
 * terms: its JSON parsed and held against its text and DOT forms.
 * IONEST_GOLDEN_UPDATE=1 rewrites the golden files from what the command
 * prints now (review the diff before committing it).
 */
#include <dirent.h>
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

/* The whole of @path, or NULL if it does not exist. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	if (!f)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len >= 0);
	rewind(f);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static void spill(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	print_message("# wrote %s\n", path);
}

/* @got against the golden file @dir/@name (written in update mode).
 * Returns whether a golden file was there to compare with. */
static bool golden(const char *dir, const char *name, const char *got)
{
	char path[1024];
	char *want;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (updating()) {
		spill(path, got);
		return true;
	}
	want = slurp(path);
	if (!want)
		return false;
	if (strcmp(want, got))
		print_error("%s differs; got:\n%s\n(IONEST_GOLDEN_UPDATE=1 "
			    "rewrites it)\n",
			    path, got);
	assert_string_equal(got, want);
	free(want);
	return true;
}

/* The *.yaml names in @dir, sorted; NULL-terminated, caller frees. */
static char **yaml_files(const char *dir, unsigned *n)
{
	struct dirent **list;
	char **names;
	int k = scandir(dir, &list, NULL, alphasort);

	assert_true(k >= 0);
	names = calloc((size_t)k + 1, sizeof(*names));
	assert_non_null(names);
	*n = 0;
	for (int i = 0; i < k; i++) {
		size_t len = strlen(list[i]->d_name);

		if (len > 5 && !strcmp(list[i]->d_name + len - 5, ".yaml"))
			names[(*n)++] = strdup(list[i]->d_name);
		free(list[i]);
	}
	free(list);
	return names;
}

static void free_names(char **names)
{
	for (char **p = names; *p; p++)
		free(*p);
	free(names);
}

static unsigned count_lines(const char *s, const char *prefix)
{
	unsigned n = 0;
	size_t len = strlen(prefix);

	for (const char *p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		n += !strncmp(p, prefix, len);
	return n;
}

/*
 * The JSON form of example @name, held to the schema and to the text and
 * DOT forms in @text and @dot. Returns the device count.
 */
static unsigned check_json(const char *name, const char *json, const char *text,
			   const char *dot)
{
	static const char *const bools[] = { "ats", "pri", "pasid_exec",
					     "pasid_priv" };
	const struct json *ios;
	unsigned ndev = 0, seen[64] = { 0 };
	struct json *doc = NULL;
	char err[128], line[256];

	if (json_parse(json, &doc, err, sizeof(err)))
		print_error("%s: %s\n", name, err);
	assert_non_null(doc);
	assert_string_equal(json_get_str(doc, "file", ""), name);
	ios = json_get(doc, "iommus");
	assert_true(ios && ios->type == JSON_ARRAY && ios->n > 0);
	for (size_t i = 0; i < ios->n; i++) {
		const struct json *io = &ios->items[i], *devs;
		const char *model = json_get_str(io, "model", "");

		assert_true(!strcmp(model, "smmuv3") || !strcmp(model, "vtd") ||
			    !strcmp(model, "mock"));
		assert_non_null(json_get_str(io, "nesting", NULL));
		assert_int_equal(json_get(io, "can_nest")->type, JSON_BOOL);
		assert_int_equal(json_get(io, "config")->type, JSON_OBJECT);
		/* The text tree and the graph show the same IOMMU. */
		snprintf(line, sizeof(line), " %s: %s, nesting %s",
			 json_get_str(io, "name", ""), model,
			 json_get_str(io, "nesting", ""));
		assert_non_null(strstr(text, line));
		snprintf(line, sizeof(line), "\t\"iommu:%s\" [shape=box,",
			 json_get_str(io, "name", ""));
		assert_non_null(strstr(dot, line));
		devs = json_get(io, "devices");
		assert_true(devs && devs->type == JSON_ARRAY);
		for (size_t k = 0; k < devs->n; k++) {
			const struct json *d = &devs->items[k];
			int v = (int)json_get_num(d, "vfio", -1);
			unsigned rid = (unsigned)json_get_num(d, "rid", -1);
			char path[64], bdf[16];

			assert_true(v >= 0 && v < 64);
			seen[v]++;
			snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%d",
				 v);
			assert_string_equal(json_get_str(d, "path", ""), path);
			snprintf(bdf, sizeof(bdf), "%02x:%02x.%x", rid >> 8,
				 (rid >> 3) & 0x1f, rid & 7);
			assert_string_equal(json_get_str(d, "bdf", ""), bdf);
			assert_true(json_get_num(d, "pasid_bits", -1) >= 0 &&
				    json_get_num(d, "pasid_bits", -1) <= 20);
			for (size_t b = 0; b < sizeof(bools) / sizeof(bools[0]);
			     b++)
				assert_int_equal(json_get(d, bools[b])->type,
						 JSON_BOOL);
			snprintf(line, sizeof(line), "vfio%d %s rid 0x%04x", v,
				 bdf, rid);
			assert_non_null(strstr(text, line));
			snprintf(line, sizeof(line),
				 "\t\"vfio%d\" -> \"iommu:%s\";\n", v,
				 json_get_str(io, "name", ""));
			assert_non_null(strstr(dot, line));
			ndev++;
		}
	}
	/* VFIO numbers 0..n-1, each once. */
	for (unsigned v = 0; v < ndev; v++)
		assert_int_equal(seen[v], 1);
	snprintf(line, sizeof(line), "machine %s: %zu IOMMU%s, %u device%s\n",
		 name, ios->n, ios->n == 1 ? "" : "s", ndev,
		 ndev == 1 ? "" : "s");
	assert_int_equal(strncmp(text, line, strlen(line)), 0);
	assert_int_equal(count_lines(dot, "\t\"vfio"), 2 * ndev);
	assert_int_equal(strncmp(dot, "digraph machine {\n", 18), 0);
	assert_string_equal(dot + strlen(dot) - 2, "}\n");
	json_free(doc);
	return ndev;
}

static void test_examples(void **state)
{
	const char *ex = cli_env("IONEST_EXAMPLES"),
		   *gold = cli_env("IONEST_GOLDEN");
	char cwd[1024], **names, *text, *json;
	unsigned n, compared = 0;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(ex), 0);
	names = yaml_files(".", &n);
	assert_true(n >= 3);
	for (unsigned i = 0; i < n; i++) {
		char gname[300];
		size_t stem = strlen(names[i]) - 5;

		/* Run from the examples folder, so the outputs name the file
		 * as given: the same on every machine. */
		CLI(&r, "topology", names[i]);
		if (r.status)
			print_error("%s: %s", names[i], r.e);
		assert_int_equal(r.status, 0);
		assert_string_equal(r.e, "");
		text = strdup(r.o);
		snprintf(gname, sizeof(gname), "%.*s.txt", (int)stem, names[i]);
		compared += golden(gold, gname, text);
		CLI(&r, "topology", "--json", names[i]);
		assert_int_equal(r.status, 0);
		json = strdup(r.o);
		snprintf(gname, sizeof(gname), "%.*s.json", (int)stem,
			 names[i]);
		compared += golden(gold, gname, json);
		CLI(&r, "topology", "--dot", names[i]);
		assert_int_equal(r.status, 0);
		snprintf(gname, sizeof(gname), "%.*s.dot", (int)stem, names[i]);
		compared += golden(gold, gname, r.o);
		assert_true(check_json(names[i], json, text, r.o) > 0);
		free(text);
		free(json);
	}
	free_names(names);
	assert_int_equal(chdir(cwd), 0);
	/* mock, smmuv3-nesting and vtd at least, in three formats. */
	assert_true(compared >= 9);
}

static void test_bad_files(void **state)
{
	const char *gold = cli_env("IONEST_GOLDEN");
	char cwd[1024], **names;
	unsigned n;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(gold), 0);
	names = yaml_files("bad", &n);
	assert_true(n >= 8);
	for (unsigned i = 0; i < n; i++) {
		char path[300], gname[300], want[1024];
		size_t stem = strlen(names[i]) - 5;
		char *msg;

		snprintf(path, sizeof(path), "bad/%s", names[i]);
		snprintf(gname, sizeof(gname), "bad/%.*s.err", (int)stem,
			 names[i]);
		CLI(&r, "topology", path);
		assert_int_equal(r.status, 1);
		assert_string_equal(r.o, "");
		/* The file, the line, the field: "bad/x.yaml:N: ..." */
		snprintf(want, sizeof(want), "ionest topology: %s:", path);
		assert_int_equal(strncmp(r.e, want, strlen(want)), 0);
		assert_true(golden(".", gname, r.e));
		/* `run` checks the machine first, with the same message. */
		msg = strdup(r.e + strlen("ionest topology: "));
		CLI(&r, "run", "-c", path, "--", "/bin/true");
		assert_int_equal(r.status, 125);
		assert_string_equal(r.o, "");
		assert_int_equal(strncmp(r.e, "ionest run: ", 12), 0);
		/* run names the file by its full path. */
		assert_non_null(strstr(r.e, strchr(msg, ':')));
		free(msg);
	}
	free_names(names);
	assert_int_equal(chdir(cwd), 0);
}

static int teardown(void **state)
{
	cli_out_free(&r);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_bad_files),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
