// SPDX-License-Identifier: MIT
/*
 * ionest bench [--quick] [--json] [SUITE...] | --list: run the benchmark
 * programs (bench-SUITE, each timing our code against a plain baseline in
 * the same run) and print their metrics as one table or one JSON
 * document. Suites are whatever bench-* programs are present: in the
 * build tree next to this binary (../bench/), installed in
 * <libexecdir>/ionest/, or in $IONEST_BENCH_DIR. Exit status: 0 when
 * every suite ran (a missed target is reported, not a failure), 1 when a
 * suite failed to run or printed something unreadable, 2 for usage
 * errors such as an unknown suite.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "json.h"
#include "preload_find.h"
#include "term.h"

#ifndef IONEST_VERSION
#define IONEST_VERSION "unknown"
#endif
#ifndef IONEST_LIBEXECDIR
#define IONEST_LIBEXECDIR "/usr/local/libexec"
#endif
#ifndef IONEST_LIBEXECDIR_REL
#define IONEST_LIBEXECDIR_REL "libexec"
#endif

#define PREFIX "bench-"
#define NAME_MAX_LEN 48

struct suite {
	char name[NAME_MAX_LEN];
	char path[PATH_MAX];
	struct json *doc; /* the program's JSON array, once run */
	char error[256]; /* why it failed, "" when it ran */
};

struct opts {
	bool quick, json;
};

static void help(FILE *f)
{
	fprintf(f,
		"usage: ionest bench [--quick] [--json] [SUITE...]\n"
		"       ionest bench --list\n\n"
		"Run the benchmark suites (all of them, or the SUITEs named) "
		"and print\none table of their metrics: our value, a plain "
		"baseline timed in the\nsame run, their ratio and the target "
		"ratio.\n\n"
		"  -q, --quick   short runs (3 repetitions, smaller sizes)\n"
		"  -j, --json    one JSON document instead of the table\n"
		"  -l, --list    the suites present, one a line\n"
		"  -h, --help    this text\n\n"
		"Exit status: 0 if every suite ran (missed targets are "
		"reported, not\nfailures), 1 if a suite failed, 2 for usage "
		"errors (an unknown suite).\n$IONEST_BENCH_DIR overrides where "
		"the bench-SUITE programs are.\n");
}

static bool is_dir(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

/*
 * The directory holding the bench-* programs: $IONEST_BENCH_DIR, the
 * build tree's bench/ beside tools/, a (moved) install's
 * <libexecdir>/ionest/ relative to bin/, the configured one.
 */
static int bench_dir(char *out, size_t len)
{
	const char *env = getenv("IONEST_BENCH_DIR");
	const char *cands[] = {
		"%s/../bench",
		"%s/../" IONEST_LIBEXECDIR_REL "/ionest",
	};
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return is_dir(out) ? 0 : -1;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
			char p[PATH_MAX + 64];

			snprintf(p, sizeof(p), cands[i], exe);
			if (is_dir(p) && realpath(p, out))
				return 0;
		}
	}
	snprintf(out, len, "%s/ionest", IONEST_LIBEXECDIR);
	return is_dir(out) ? 0 : -1;
}

/* A suite name: what follows "bench-", letters, digits, '-' and '_'
 * (which leaves out meson's bench-x.p directories and stray files). */
static bool suite_name_ok(const char *s)
{
	if (!*s || strlen(s) >= NAME_MAX_LEN)
		return false;
	for (; *s; s++) {
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '-' && *s != '_')
			return false;
	}
	return true;
}

/* Bottom of the stack first; suites not listed follow by name. */
static int rank(const char *name)
{
	static const char *const order[] = {
		"pt",	   "smmuv3", "vtd",	"iommufd",
		"nesting", "shadow", "hwqueue", "preload",
	};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!strcmp(name, order[i]))
			return (int)i;
	}
	return (int)(sizeof(order) / sizeof(order[0]));
}

static int cmp_suite(const void *a, const void *b)
{
	const struct suite *x = a, *y = b;
	int rx = rank(x->name), ry = rank(y->name);

	return rx != ry ? rx - ry : strcmp(x->name, y->name);
}

/* Every executable bench-* in @dir into *@out (sorted); -1 on failure. */
static int discover(const char *dir, struct suite **out, unsigned *n)
{
	struct suite *s = NULL, *ns;
	unsigned cap = 0;
	struct dirent *e;
	DIR *d = opendir(dir);

	*n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;
		int l;

		if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) ||
		    !suite_name_ok(e->d_name + strlen(PREFIX)))
			continue;
		l = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (l < 0 || (size_t)l >= sizeof(path) || stat(path, &st) ||
		    !S_ISREG(st.st_mode) || access(path, X_OK))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			ns = realloc(s, cap * sizeof(*s));
			if (!ns) {
				free(s);
				closedir(d);
				return -1;
			}
			s = ns;
		}
		memset(&s[*n], 0, sizeof(s[0]));
		snprintf(s[*n].name, sizeof(s[0].name), "%s",
			 e->d_name + strlen(PREFIX));
		snprintf(s[*n].path, sizeof(s[0].path), "%s", path);
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(s, *n, sizeof(*s), cmp_suite);
	*out = s;
	return 0;
}

struct buf {
	char *p;
	size_t len, cap;
	bool open;
};

/* Read what is available on @fd into @b; false on allocation failure. */
static bool drain(int fd, struct buf *b)
{
	ssize_t n;

	if (b->cap - b->len < 4096) {
		size_t cap = b->cap ? b->cap * 2 : 16384;
		char *p = realloc(b->p, cap);

		if (!p)
			return false;
		b->p = p;
		b->cap = cap;
	}
	n = read(fd, b->p + b->len, b->cap - b->len - 1);
	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0)
		b->open = false;
	else
		b->len += (size_t)n;
	b->p[b->len] = '\0';
	return true;
}

/* Run @s's program with --json (and --quick); parse its output. */
static void run_suite(struct suite *s, const struct opts *o)
{
	char *argv[] = { s->path, "--json", o->quick ? "--quick" : NULL, NULL };
	struct buf out = { .open = true }, err = { .open = true };
	int po[2], pe[2], st;
	char jerr[128];
	pid_t pid;

	if (pipe2(po, O_CLOEXEC)) {
		snprintf(s->error, sizeof(s->error), "pipe: %s",
			 strerror(errno));
		return;
	}
	if (pipe2(pe, O_CLOEXEC)) {
		snprintf(s->error, sizeof(s->error), "pipe: %s",
			 strerror(errno));
		close(po[0]);
		close(po[1]);
		return;
	}
	fflush(NULL);
	pid = fork();
	if (!pid) {
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			dup2(null, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execv(s->path, argv);
		fprintf(stderr, "cannot run %s: %s\n", s->path,
			strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	if (pid < 0) {
		snprintf(s->error, sizeof(s->error), "fork: %s",
			 strerror(errno));
		goto out;
	}
	while (out.open || err.open) {
		struct pollfd p[2] = {
			{ .fd = out.open ? po[0] : -1, .events = POLLIN },
			{ .fd = err.open ? pe[0] : -1, .events = POLLIN },
		};

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((p[0].revents && !drain(po[0], &out)) ||
		    (p[1].revents && !drain(pe[0], &err))) {
			snprintf(s->error, sizeof(s->error), "out of memory");
			kill(pid, SIGKILL);
			break;
		}
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	/* Its diagnostics are ours (after the progress line is gone). */
	term_progress_end(stderr);
	if (err.len) {
		fputs(err.p, stderr);
		if (err.p[err.len - 1] != '\n')
			fputc('\n', stderr);
	}
	if (s->error[0])
		goto out;
	if (WIFSIGNALED(st)) {
		snprintf(s->error, sizeof(s->error), "killed by signal %d (%s)",
			 WTERMSIG(st), strsignal(WTERMSIG(st)));
	} else if (WEXITSTATUS(st)) {
		snprintf(s->error, sizeof(s->error), "exit status %d",
			 WEXITSTATUS(st));
	} else if (json_parse(out.p ? out.p : "", &s->doc, jerr,
			      sizeof(jerr))) {
		snprintf(s->error, sizeof(s->error), "unreadable output (%s)",
			 jerr);
	} else if (s->doc->type != JSON_ARRAY) {
		snprintf(s->error, sizeof(s->error),
			 "unreadable output (not a JSON array)");
	} else {
		for (size_t i = 0; i < s->doc->n; i++) {
			if (!json_get_str(&s->doc->items[i], "name", NULL)) {
				snprintf(s->error, sizeof(s->error),
					 "unreadable output (metric %zu "
					 "has no name)",
					 i);
				break;
			}
		}
	}
out:
	if (s->error[0]) {
		json_free(s->doc);
		s->doc = NULL;
	}
	close(po[0]);
	close(pe[0]);
	free(out.p);
	free(err.p);
}

struct totals {
	unsigned suites, failed, metrics, targets, met;
};

static bool has_target(const struct json *m)
{
	return json_get_num(m, "target", 0) > 0;
}

static void count(const struct suite *s, unsigned n, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < n; i++) {
		t->suites++;
		if (!s[i].doc) {
			t->failed++;
			continue;
		}
		for (size_t k = 0; k < s[i].doc->n; k++) {
			const struct json *m = &s[i].doc->items[k];

			t->metrics++;
			if (has_target(m)) {
				t->targets++;
				t->met += json_get_bool(m, "met", false);
			}
		}
	}
}

static void put_member_num(const char *key, const struct json *m, int prec)
{
	printf(",\"%s\":", key);
	json_put_num(stdout, json_get_num(m, key, NAN), prec);
}

static void print_json(const struct suite *s, unsigned n, const struct opts *o)
{
	struct totals t;

	count(s, n, &t);
	printf("{\"ionest\":\"%s\",\"quick\":%s,\"suites\":[", IONEST_VERSION,
	       o->quick ? "true" : "false");
	for (unsigned i = 0; i < n; i++) {
		printf("%s\n {\"suite\":", i ? "," : "");
		json_put_str(stdout, s[i].name);
		printf(",\"ok\":%s", s[i].doc ? "true" : "false");
		if (!s[i].doc) {
			printf(",\"error\":");
			json_put_str(stdout, s[i].error);
		}
		printf(",\"metrics\":[");
		for (size_t k = 0; s[i].doc && k < s[i].doc->n; k++) {
			const struct json *m = &s[i].doc->items[k];

			printf("%s\n  {\"name\":", k ? "," : "");
			json_put_str(stdout, json_get_str(m, "name", ""));
			put_member_num("value", m, 6);
			printf(",\"unit\":");
			json_put_str(stdout, json_get_str(m, "unit", ""));
			printf(",\"baseline\":");
			json_put_str(stdout, json_get_str(m, "baseline", ""));
			put_member_num("baseline_value", m, 6);
			put_member_num("ratio", m, 4);
			put_member_num("target", m, 4);
			printf(",\"higher_is_better\":%s,\"met\":%s}",
			       json_get_bool(m, "higher_is_better", false) ?
				       "true" :
				       "false",
			       json_get_bool(m, "met", false) ? "true" :
								"false");
		}
		printf("]}");
	}
	printf("\n],\"summary\":{\"suites\":%u,\"failed\":%u,\"metrics\":%u,"
	       "\"targets\":%u,\"met\":%u}}\n",
	       t.suites, t.failed, t.metrics, t.targets, t.met);
}

/* @x with %.4g, or "-" when missing or not finite. */
static void fmt_num(char *buf, size_t len, double x)
{
	if (isfinite(x))
		snprintf(buf, len, "%.4g", x);
	else
		snprintf(buf, len, "-");
}

static int width(int w, const char *s)
{
	int l = (int)strlen(s);

	return l > w ? l : w;
}

static void print_table(const struct suite *s, unsigned n)
{
	int ws = width(0, "suite"), wm = width(0, "metric"),
	    wu = width(0, "unit"), wb = width(0, "baseline");
	struct totals t;

	count(s, n, &t);
	for (unsigned i = 0; i < n; i++) {
		ws = width(ws, s[i].name);
		for (size_t k = 0; s[i].doc && k < s[i].doc->n; k++) {
			const struct json *m = &s[i].doc->items[k];

			wm = width(wm, json_get_str(m, "name", ""));
			wu = width(wu, json_get_str(m, "unit", ""));
			wb = width(wb, json_get_str(m, "baseline", ""));
		}
	}
	printf("%s%-*s  %-*s  %10s %-*s  %-*s  %10s  %7s  %7s  %s%s\n",
	       term_sgr(stdout, TERM_BOLD), ws, "suite", wm, "metric", "value",
	       wu, "unit", wb, "baseline", "base", "ratio", "target", "met",
	       term_sgr(stdout, TERM_RESET));
	for (unsigned i = 0; i < n; i++) {
		if (!s[i].doc) {
			printf("%-*s  ", ws, s[i].name);
			term_fputs(stdout, TERM_RED, "FAILED: ");
			printf("%s\n", s[i].error);
			continue;
		}
		for (size_t k = 0; k < s[i].doc->n; k++) {
			const struct json *m = &s[i].doc->items[k];
			char v[32], b[32], r[32], tg[32] = "-";
			bool hib = json_get_bool(m, "higher_is_better", false);

			fmt_num(v, sizeof(v), json_get_num(m, "value", NAN));
			fmt_num(b, sizeof(b),
				json_get_num(m, "baseline_value", NAN));
			fmt_num(r, sizeof(r), json_get_num(m, "ratio", NAN));
			if (has_target(m))
				snprintf(tg, sizeof(tg), "%s%.3g",
					 hib ? ">=" : "<=",
					 json_get_num(m, "target", 0));
			printf("%-*s  %-*s  %10s %-*s  %-*s  %10s  %7s  %7s  ",
			       ws, s[i].name, wm, json_get_str(m, "name", ""),
			       v, wu, json_get_str(m, "unit", ""), wb,
			       json_get_str(m, "baseline", ""), b, r, tg);
			if (!has_target(m))
				printf("-");
			else if (json_get_bool(m, "met", false))
				term_fputs(stdout, TERM_GREEN, "yes");
			else
				term_fputs(stdout, TERM_RED, "NO");
			putchar('\n');
		}
	}
	printf("%u suite%s, %u metric%s, %u/%u targets met", t.suites,
	       t.suites == 1 ? "" : "s", t.metrics, t.metrics == 1 ? "" : "s",
	       t.met, t.targets);
	if (t.failed)
		printf(", %u suite%s FAILED", t.failed,
		       t.failed == 1 ? "" : "s");
	putchar('\n');
}

/* Keep the suites named in @names (in that order, once each); -1 naming
 * the first unknown one. */
static int select_suites(struct suite *all, unsigned nall, char **names,
			 unsigned nnames, struct suite **out, unsigned *n)
{
	struct suite *s = calloc(nnames ? nnames : 1, sizeof(*s));

	*n = 0;
	if (!s) {
		tool_error("bench", "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < nnames; i++) {
		unsigned k, j;

		for (k = 0; k < nall && strcmp(all[k].name, names[i]); k++)
			;
		if (k == nall) {
			tool_error("bench",
				   "no benchmark suite '%s' (ionest bench "
				   "--list shows them)",
				   names[i]);
			free(s);
			return -2;
		}
		for (j = 0; j < *n && strcmp(s[j].name, names[i]); j++)
			;
		if (j == *n)
			s[(*n)++] = all[k];
	}
	*out = s;
	return 0;
}

/* The preload's location for bench-preload, unless the caller chose. */
static void export_preload(void)
{
	const char *env = getenv("IONEST_PRELOAD");
	char path[PATH_MAX];

	if ((!env || !*env) && !preload_find(path, sizeof(path)))
		setenv("IONEST_PRELOAD", path, 1);
}

int cmd_bench(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "quick", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "list", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct suite *all = NULL, *run = NULL;
	unsigned nall, nrun, failed = 0;
	struct opts o = { 0 };
	char dir[PATH_MAX];
	bool list = false;
	int opt, rc;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+hqjl", lopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			help(stdout);
			return 0;
		case 'q':
			o.quick = true;
			break;
		case 'j':
			o.json = true;
			break;
		case 'l':
			list = true;
			break;
		default:
			tool_error("bench", "unknown option '%s'",
				   argv[optind - 1]);
			help(stderr);
			return 2;
		}
	}
	if (list && (optind < argc || o.quick || o.json)) {
		tool_error("bench", "--list takes nothing else");
		return 2;
	}
	if (bench_dir(dir, sizeof(dir))) {
		tool_error("bench",
			   "no benchmark programs (looked in %s; set "
			   "IONEST_BENCH_DIR)",
			   dir);
		return 1;
	}
	if (discover(dir, &all, &nall)) {
		tool_error("bench", "%s: %s", dir, strerror(errno));
		return 1;
	}
	if (list) {
		for (unsigned i = 0; i < nall; i++)
			printf("%s\n", all[i].name);
		free(all);
		return fflush(stdout) ? 1 : 0;
	}
	if (!nall) {
		tool_error("bench", "no bench-* programs in %s", dir);
		free(all);
		return 1;
	}
	if (optind < argc) {
		rc = select_suites(all, nall, argv + optind,
				   (unsigned)(argc - optind), &run, &nrun);
		if (rc) {
			free(all);
			return rc == -2 ? 2 : 1;
		}
	} else {
		run = all;
		nrun = nall;
		all = NULL;
	}
	export_preload();
	for (unsigned i = 0; i < nrun; i++) {
		term_progress(stderr, "ionest bench: [%u/%u] %s%s", i + 1, nrun,
			      run[i].name, o.quick ? " (quick)" : "");
		run_suite(&run[i], &o);
		if (!run[i].doc) {
			failed++;
			tool_error("bench", "%s: %s", run[i].name,
				   run[i].error);
		}
	}
	term_progress_end(stderr);
	if (o.json)
		print_json(run, nrun, &o);
	else
		print_table(run, nrun);
	for (unsigned i = 0; i < nrun; i++)
		json_free(run[i].doc);
	free(run);
	free(all);
	if (fflush(stdout)) {
		tool_error("bench", "cannot write the output");
		return 1;
	}
	return failed ? 1 : 0;
}
