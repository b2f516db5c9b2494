// SPDX-License-Identifier: MIT
/*
 * `ionest demo` as a user runs it: exit 0 on both models, the text output
 * against golden files (counter values normalised), --json parsed by a
 * small JSON parser here and its shape and values checked, --dot against
 * golden files, usage errors with exit status 2, no colour on a pipe.
 * IONEST_BIN and IONEST_GOLDEN come from meson; IONEST_UPDATE_GOLDEN=1
 * rewrites the golden files instead of comparing.
 */
#include <ctype.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

struct out {
	char o[65536], e[16384];
	int status;
};

static struct out r;

static const char *env_or(const char *name)
{
	const char *v = getenv(name);

	assert_non_null(v);
	return v;
}

static void drain(int fd, char *buf, size_t cap, size_t *len, bool *open_)
{
	ssize_t n = read(fd, buf + *len, cap - 1 - *len);

	if (n <= 0) {
		*open_ = false;
		return;
	}
	*len += (size_t)n;
	buf[*len] = '\0';
}

static void run(struct out *o, const char *const *args)
{
	const char *argv[16] = { env_or("IONEST_BIN") };
	int po[2], pe[2], st;
	size_t lo = 0, le = 0;
	bool oo = true, eo = true;
	pid_t pid;

	for (int i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	memset(o, 0, sizeof(*o));
	assert_int_equal(pipe(po), 0);
	assert_int_equal(pipe(pe), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		execv(argv[0], (char **)argv);
		_exit(111);
	}
	close(po[1]);
	close(pe[1]);
	while (oo || eo) {
		struct pollfd p[2] = {
			{ .fd = oo ? po[0] : -1, .events = POLLIN },
			{ .fd = eo ? pe[0] : -1, .events = POLLIN },
		};

		assert_true(poll(p, 2, -1) > 0);
		if (p[0].revents)
			drain(po[0], o->o, sizeof(o->o), &lo, &oo);
		if (p[1].revents)
			drain(pe[0], o->e, sizeof(o->e), &le, &eo);
	}
	close(po[0]);
	close(pe[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	o->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#define RUN(o, ...)                                             \
	do {                                                    \
		const char *const a_[] = { __VA_ARGS__, NULL }; \
		run(o, a_);                                     \
	} while (0)

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

	snprintf(path, sizeof(path), "%s/%s", env_or("IONEST_GOLDEN"), name);
	if (getenv("IONEST_UPDATE_GOLDEN")) {
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

/* ---- A small JSON parser ---- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jtype t;
	bool b;
	double num;
	char *str; /* J_STR, or the key of an object member */
	struct jv *kids; /* J_ARR / J_OBJ members */
	int n;
	char *key;
};

struct jp {
	const char *p;
	bool bad;
};

static void jws(struct jp *j)
{
	while (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r')
		j->p++;
}

/* Consume @ch or mark the document bad (never past its end). */
static void jexpect(struct jp *j, char ch)
{
	if (*j->p == ch)
		j->p++;
	else
		j->bad = true;
}

static char *jstring(struct jp *j)
{
	size_t cap = 16, n = 0;
	char *s = malloc(cap);

	assert_non_null(s);
	if (*j->p != '"') {
		j->bad = true;
		s[0] = 0;
		return s;
	}
	j->p++;
	while (*j->p && *j->p != '"') {
		char ch = *j->p++;

		if ((unsigned char)ch < 0x20)
			j->bad = true;
		if (ch == '\\') {
			if (!*j->p) {
				j->bad = true;
				break;
			}
			ch = *j->p++;
			switch (ch) {
			case '"':
			case '\\':
			case '/':
				break;
			case 'n':
				ch = '\n';
				break;
			case 't':
				ch = '\t';
				break;
			case 'u': {
				unsigned v = 0;

				for (int i = 0; i < 4; i++, j->p++) {
					if (!isxdigit((unsigned char)*j->p)) {
						j->bad = true;
						break;
					}
					v = v * 16 +
					    (unsigned)(isdigit((unsigned char)*j
								       ->p) ?
							       *j->p - '0' :
							       (tolower(*j->p) -
								'a' + 10));
				}
				ch = v < 0x80 ? (char)v : '?';
				break;
			}
			default:
				j->bad = true;
			}
		}
		if (n + 2 > cap) {
			cap *= 2;
			s = realloc(s, cap);
			assert_non_null(s);
		}
		s[n++] = ch;
	}
	if (*j->p != '"')
		j->bad = true;
	else
		j->p++;
	s[n] = 0;
	return s;
}

static void jvalue(struct jp *j, struct jv *v);

static void jadd(struct jp *j, struct jv *v, char *key)
{
	v->kids = realloc(v->kids, sizeof(*v->kids) * (size_t)(v->n + 1));
	assert_non_null(v->kids);
	memset(&v->kids[v->n], 0, sizeof(*v->kids));
	v->kids[v->n].key = key;
	jvalue(j, &v->kids[v->n]);
	v->n++;
}

static void jvalue(struct jp *j, struct jv *v)
{
	jws(j);
	if (*j->p == '{' || *j->p == '[') {
		bool obj = *j->p == '{';

		v->t = obj ? J_OBJ : J_ARR;
		j->p++;
		jws(j);
		if (*j->p == (obj ? '}' : ']')) {
			j->p++;
			return;
		}
		while (!j->bad) {
			char *key = NULL;

			jws(j);
			if (obj) {
				key = jstring(j);
				jws(j);
				jexpect(j, ':');
			}
			jadd(j, v, key);
			jws(j);
			if (*j->p == ',') {
				j->p++;
				continue;
			}
			jexpect(j, obj ? '}' : ']');
			break;
		}
	} else if (*j->p == '"') {
		v->t = J_STR;
		v->str = jstring(j);
	} else if (!strncmp(j->p, "true", 4) || !strncmp(j->p, "false", 5)) {
		v->t = J_BOOL;
		v->b = *j->p == 't';
		j->p += v->b ? 4 : 5;
	} else if (!strncmp(j->p, "null", 4)) {
		v->t = J_NULL;
		j->p += 4;
	} else if (*j->p == '-' || isdigit((unsigned char)*j->p)) {
		char *end;

		v->t = J_NUM;
		v->num = strtod(j->p, &end);
		j->p = end;
	} else {
		j->bad = true;
	}
}

static void jfree(struct jv *v)
{
	for (int i = 0; i < v->n; i++)
		jfree(&v->kids[i]);
	free(v->kids);
	free(v->str);
	free(v->key);
}

/* Parse all of @text (one value, nothing after it but white space). */
static bool jparse(const char *text, struct jv *v)
{
	struct jp j = { .p = text };

	memset(v, 0, sizeof(*v));
	jvalue(&j, v);
	jws(&j);
	return !j.bad && !*j.p;
}

static const struct jv *jget(const struct jv *o, const char *key, enum jtype t)
{
	assert_int_equal(o->t, J_OBJ);
	for (int i = 0; i < o->n; i++)
		if (!strcmp(o->kids[i].key, key)) {
			assert_int_equal(o->kids[i].t, t);
			return &o->kids[i];
		}
	fail_msg("no member \"%s\"", key);
	return NULL;
}

static void test_json_parser(void **state)
{
	struct jv v;

	(void)state;
	assert_true(jparse(" {\"a\":[1,-2.5e1,true,null,\"x\\\"\\u0041\"],"
			   "\"b\":{}} ",
			   &v));
	assert_int_equal(jget(&v, "a", J_ARR)->n, 5);
	assert_true(jget(&v, "a", J_ARR)->kids[1].num == -25.0);
	assert_string_equal(jget(&v, "a", J_ARR)->kids[4].str, "x\"A");
	assert_int_equal(jget(&v, "b", J_OBJ)->n, 0);
	jfree(&v);
	/* Broken documents are refused. */
	static const char *const bad[] = {
		"{",	 "{\"a\":}", "[1,]",	   "{\"a\" 1}", "\"\\q\"",
		"[1] x", "tru",	     "{\"a\":1,}", "\"a\nb\"",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(jparse(bad[i], &v));
		jfree(&v);
	}
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

	RUN(&r, "demo", "--iommu", model);
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
	RUN(&r, "demo");
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
	const struct jv *checks, *ctr;
	struct jv v;
	char *got;
	int fd = mkstemp(dot);

	assert_true(fd >= 0);
	close(fd);
	RUN(&r, "demo", "--iommu", model, "--json", "--dot", dot);
	assert_int_equal(r.status, 0);
	assert_true(jparse(r.o, &v));
	assert_string_equal(jget(&v, "version", J_STR)->str, "0.1.0");
	assert_string_equal(jget(&v, "iommu", J_STR)->str, model);
	assert_string_equal(jget(&v, "nesting", J_STR)->str, "hw");
	assert_true(jget(&v, "ok", J_BOOL)->b);
	checks = jget(&v, "checks", J_ARR);
	assert_int_equal(checks->n, sizeof(names) / sizeof(names[0]));
	for (int i = 0; i < checks->n; i++) {
		const struct jv *c = &checks->kids[i];

		assert_string_equal(jget(c, "name", J_STR)->str, names[i]);
		assert_true(jget(c, "ok", J_BOOL)->b);
		assert_true(strlen(jget(c, "detail", J_STR)->str) > 10);
	}
	ctr = jget(&v, "counters", J_OBJ);
	assert_int_equal(ctr->n, 9);
	assert_true(jget(ctr, "translate", J_NUM)->num > 0);
	assert_true(jget(ctr, "tlb_hit", J_NUM)->num > 0);
	assert_true(jget(ctr, "walk_read", J_NUM)->num >=
		    jget(ctr, "walk", J_NUM)->num);
	assert_true(jget(ctr, "page_request", J_NUM)->num >= 2);
	assert_true(jget(ctr, "invalidation", J_NUM)->num > 0);
	jfree(&v);
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
	RUN(&r, "demo", "--iommu", "vtd", "-v");
	assert_int_equal(r.status, 0);
	/* Build steps are diagnostics; HWPT ids join the tree. */
	assert_non_null(strstr(r.e, "seed: vtd0: vtd model, nesting hw\n"));
	assert_null(strstr(r.o, "seed: "));
	assert_non_null(strstr(r.o, "hwpt "));
}

/* The mode in effect is printed; a model refusing it fails the build. */
static void test_shadow(void **state)
{
	struct jv v;

	(void)state;
	RUN(&r, "demo", "--iommu", "smmuv3", "--nesting", "shadow");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.o, "");
	assert_non_null(strstr(r.e, "ionest demo: cannot build the seed "
				    "topology on smmuv3: "));
	assert_non_null(strstr(r.e, "(nesting shadow)"));
	RUN(&r, "demo", "--iommu", "vtd", "--nesting", "shadow", "--json");
	assert_int_equal(r.status, 0);
	assert_true(jparse(r.o, &v));
	assert_string_equal(jget(&v, "nesting", J_STR)->str, "shadow");
	assert_true(jget(&v, "ok", J_BOOL)->b);
	jfree(&v);
	RUN(&r, "demo", "--iommu", "vtd", "--nesting", "hw");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.o, "nesting hw\n"));
}

static void test_help(void **state)
{
	(void)state;
	RUN(&r, "demo", "--help");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.o, "usage: ionest demo"));
	assert_non_null(strstr(r.o, "--iommu"));
	assert_non_null(strstr(r.o, "--nesting"));
	assert_non_null(strstr(r.o, "--dot FILE"));
	assert_string_equal(r.e, "");
	RUN(&r, "help", "demo");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.o, "usage: ionest demo"));
	RUN(&r, "--help");
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
			RUN(&r, "demo", bad[i][0], bad[i][1]);
		else
			RUN(&r, "demo", bad[i][0]);
		assert_int_equal(r.status, 2);
		assert_string_equal(r.o, "");
		assert_non_null(strstr(r.e, "ionest demo: "));
		assert_non_null(strstr(r.e, bad[i][2]));
	}
	/* A --dot file that cannot be written: exit 1, named. */
	RUN(&r, "demo", "--dot", "/nonexistent/dir/x.dot");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.e, "/nonexistent/dir/x.dot"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_parser),
		cmocka_unit_test(test_text_smmuv3),
		cmocka_unit_test(test_text_vtd),
		cmocka_unit_test(test_json_dot_smmuv3),
		cmocka_unit_test(test_json_dot_vtd),
		cmocka_unit_test(test_verbose),
		cmocka_unit_test(test_shadow),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_usage_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
