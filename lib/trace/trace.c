// SPDX-License-Identifier: MIT
/* Trace event selection by glob and output as text or JSON lines. */
#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "trace/trace.h"

bool ionest_trace_on[IONEST_TRACE_COUNT];

struct trace_desc {
	const char *name;
	const char *fmt;
	const char *args; /* comma-separated argument names */
};

static const struct trace_desc trace_descs[IONEST_TRACE_COUNT] = {
#define IONEST_TRACE_DESC(n, f, ...) \
	[IONEST_TRACE_##n] = { .name = #n, .fmt = f, .args = #__VA_ARGS__ },
	IONEST_TRACE_EVENTS(IONEST_TRACE_DESC)
#undef IONEST_TRACE_DESC
};

static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *trace_out;
static enum ionest_trace_format trace_fmt;

static bool name_matches(const char *name, const char *globs)
{
	char pat[128];
	const char *p = globs;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n > 0 && n < sizeof(pat)) {
			memcpy(pat, p, n);
			pat[n] = '\0';
			if (fnmatch(pat, name, 0) == 0)
				return true;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

IONEST_API int ionest_trace_enable(const char *globs)
{
	int n = 0;

	for (unsigned i = 0; i < IONEST_TRACE_COUNT; i++) {
		bool on = globs && name_matches(trace_descs[i].name, globs);

		__atomic_store_n(&ionest_trace_on[i], on, __ATOMIC_RELAXED);
		n += on;
	}
	return n;
}

IONEST_API void ionest_trace_set_output(FILE *f, enum ionest_trace_format fmt)
{
	pthread_mutex_lock(&trace_lock);
	trace_out = f;
	trace_fmt = fmt;
	pthread_mutex_unlock(&trace_lock);
}

IONEST_API const char *ionest_trace_event_name(unsigned i)
{
	return i < IONEST_TRACE_COUNT ? trace_descs[i].name : NULL;
}

/* Append the JSON fields "name":value for each argument. */
static int json_args(char *buf, size_t len, const struct trace_desc *d,
		     const uint64_t *args, unsigned nargs)
{
	const char *p = d->args;
	int off = 0;

	for (unsigned i = 0; i < nargs && *p; i++) {
		size_t n;

		while (*p == ' ' || *p == ',')
			p++;
		n = strcspn(p, ", ");
		off += snprintf(buf + off, len - (size_t)off,
				",\"%.*s\":%" PRIu64, (int)n, p, args[i]);
		if ((size_t)off >= len)
			return (int)len - 1;
		p += n;
	}
	return off;
}

void ionest_trace_emit(enum ionest_trace_id id, const uint64_t *args,
		       unsigned nargs)
{
	const struct trace_desc *d = &trace_descs[id];
	uint64_t a[6] = { 0 };
	struct timespec ts;
	char line[512];
	int off;

	memcpy(a, args, (nargs < 6 ? nargs : 6) * sizeof(a[0]));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&trace_lock);
	if (trace_fmt == IONEST_TRACE_JSON) {
		off = snprintf(line, sizeof(line),
			       "{\"ts\":%lld.%09ld,\"event\":\"%s\"",
			       (long long)ts.tv_sec, ts.tv_nsec, d->name);
		off += json_args(line + off, sizeof(line) - (size_t)off - 2, d,
				 a, nargs);
		line[off++] = '}';
	} else {
		off = snprintf(line, sizeof(line),
			       "%lld.%09ld %s: ", (long long)ts.tv_sec,
			       ts.tv_nsec, d->name);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		off += snprintf(line + off, sizeof(line) - (size_t)off - 1,
				d->fmt, a[0], a[1], a[2], a[3], a[4], a[5]);
#pragma GCC diagnostic pop
		if ((size_t)off > sizeof(line) - 2)
			off = (int)sizeof(line) - 2;
	}
	line[off++] = '\n';
	fwrite(line, 1, (size_t)off, trace_out ? trace_out : stderr);
	fflush(trace_out ? trace_out : stderr);
	pthread_mutex_unlock(&trace_lock);
}

__attribute__((constructor)) static void trace_init_from_env(void)
{
	const char *globs = getenv("IONEST_TRACE");
	const char *fmt = getenv("IONEST_TRACE_FORMAT");
	const char *file = getenv("IONEST_TRACE_FILE");

	if (fmt && strcmp(fmt, "json") == 0)
		trace_fmt = IONEST_TRACE_JSON;
	if (file && *file) {
		trace_out = fopen(file, "ae");
		if (!trace_out)
			fprintf(stderr,
				"ionest: cannot open IONEST_TRACE_FILE %s: %s\n",
				file, strerror(errno));
	}
	if (globs && *globs)
		ionest_trace_enable(globs);
}
