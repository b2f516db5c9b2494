// SPDX-License-Identifier: MIT
/* Timing, repetition, reporting (table or JSON) for the benchmarks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

struct metric {
	char name[64];
	char unit[16];
	char baseline_name[64];
	double value, baseline, target;
	bool higher;
};

static struct {
	const char *suite;
	bool json, quick;
	struct metric *m;
	unsigned n, cap;
} B = { .suite = "bench" };

static void usage(const char *prog)
{
	printf("usage: %s [--json] [--quick] [--help]\n"
	       "  --json   print one JSON array of metrics\n"
	       "  --quick  3 repetitions instead of 7, smaller sizes\n"
	       "Each metric is our value, a plain baseline measured in the\n"
	       "same run, their ratio and the target ratio.\n",
	       prog);
}

void bench_init(int argc, char **argv, const char *suite)
{
	int i;

	B.suite = suite;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			B.json = true;
		} else if (!strcmp(argv[i], "--quick")) {
			B.quick = true;
		} else if (!strcmp(argv[i], "--help") ||
			   !strcmp(argv[i], "-h")) {
			usage(argv[0]);
			exit(0);
		} else {
			fprintf(stderr, "%s: unknown option %s\n", argv[0],
				argv[i]);
			usage(argv[0]);
			exit(2);
		}
	}
}

bool bench_quick(void)
{
	return B.quick;
}

unsigned bench_reps(void)
{
	return B.quick ? 3 : 7;
}

double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median(double *v, unsigned n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double bench_run(void (*fn)(void *ctx, uint64_t iters), void *ctx,
		 uint64_t iters)
{
	double t[7];
	unsigned i, reps = bench_reps();

	if (!iters)
		iters = 1;
	for (i = 0; i < reps; i++) {
		double t0 = bench_now_ns();

		fn(ctx, iters);
		bench_clobber();
		t[i] = (bench_now_ns() - t0) / (double)iters;
	}
	return bench_median(t, reps);
}

double bench_run2(void (*fn_a)(void *ctx, uint64_t iters), void *ctx_a,
		  void (*fn_b)(void *ctx, uint64_t iters), void *ctx_b,
		  uint64_t iters, double *b_ns)
{
	double ta[7], tb[7];
	unsigned i, reps = bench_reps();

	if (!iters)
		iters = 1;
	for (i = 0; i < reps; i++) {
		double t0 = bench_now_ns();

		fn_b(ctx_b, iters);
		bench_clobber();
		tb[i] = (bench_now_ns() - t0) / (double)iters;
		t0 = bench_now_ns();
		fn_a(ctx_a, iters);
		bench_clobber();
		ta[i] = (bench_now_ns() - t0) / (double)iters;
	}
	if (b_ns)
		*b_ns = bench_median(tb, reps);
	return bench_median(ta, reps);
}

void bench_report(const char *name, double value, const char *unit,
		  const char *baseline_name, double baseline, double target,
		  bool higher_is_better)
{
	struct metric *m;

	if (B.n == B.cap) {
		unsigned cap = B.cap ? B.cap * 2 : 16;
		struct metric *nm = realloc(B.m, cap * sizeof(*nm));

		if (!nm)
			return;
		B.m = nm;
		B.cap = cap;
	}
	m = &B.m[B.n++];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->unit, sizeof(m->unit), "%s", unit ? unit : "");
	snprintf(m->baseline_name, sizeof(m->baseline_name), "%s",
		 baseline_name ? baseline_name : "");
	m->value = value;
	m->baseline = baseline;
	m->target = target;
	m->higher = higher_is_better;
}

static double ratio(const struct metric *m)
{
	return m->baseline > 0 ? m->value / m->baseline : 0;
}

static bool met(const struct metric *m)
{
	double r = ratio(m);

	if (m->target <= 0)
		return true;
	if (m->baseline <= 0)
		return false;
	return m->higher ? r >= m->target : r <= m->target;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* JSON has no NaN or infinity: a measurement that produced one is null. */
static void json_num(const char *key, double v, int prec)
{
	printf(",\"%s\":", key);
	if (isfinite(v))
		printf("%.*g", prec, v);
	else
		printf("null");
}

static int width(int w, const char *s)
{
	int l = (int)strlen(s);

	return l > w ? l : w;
}

int bench_finish(void)
{
	unsigned i, nmet = 0, ntarget = 0;

	for (i = 0; i < B.n; i++) {
		if (B.m[i].target > 0) {
			ntarget++;
			nmet += met(&B.m[i]);
		}
	}
	if (B.json) {
		printf("[");
		for (i = 0; i < B.n; i++) {
			const struct metric *m = &B.m[i];

			printf("%s\n {\"suite\":", i ? "," : "");
			json_str(B.suite);
			printf(",\"name\":");
			json_str(m->name);
			json_num("value", m->value, 6);
			printf(",\"unit\":");
			json_str(m->unit);
			printf(",\"baseline\":");
			json_str(m->baseline_name);
			json_num("baseline_value", m->baseline, 6);
			json_num("ratio", ratio(m), 4);
			json_num("target", m->target, 4);
			printf(",\"higher_is_better\":%s,\"met\":%s}",
			       m->higher ? "true" : "false",
			       met(m) ? "true" : "false");
		}
		printf("\n]\n");
	} else {
		/* Columns as wide as their longest entry, as `ionest bench`
		 * prints them: metric names reach 56 characters. */
		int wn = (int)strlen(B.suite), wu = 4, wb = 8;

		for (i = 0; i < B.n; i++) {
			wn = width(wn, B.m[i].name);
			wu = width(wu, B.m[i].unit);
			wb = width(wb, B.m[i].baseline_name);
		}
		printf("%-*s  %10s %-*s  %-*s  %10s  %7s  %8s\n", wn, B.suite,
		       "value", wu, "unit", wb, "baseline", "base", "ratio",
		       "target");
		for (i = 0; i < B.n; i++) {
			const struct metric *m = &B.m[i];
			char tgt[24] = "-";

			if (m->target > 0)
				snprintf(tgt, sizeof(tgt), "%s%.2f",
					 m->higher ? ">=" : "<=", m->target);
			printf("%-*s  %10.4g %-*s  %-*s  %10.4g  %7.2f  %8s%s\n",
			       wn, m->name, m->value, wu, m->unit, wb,
			       m->baseline_name, m->baseline, ratio(m), tgt,
			       m->target > 0 ? (met(m) ? " met" : " MISSED") :
					       "");
		}
		printf("%u/%u targets met\n", nmet, ntarget);
	}
	fflush(stdout);
	free(B.m);
	B.m = NULL;
	B.n = B.cap = 0;
	return 0;
}
