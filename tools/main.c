// SPDX-License-Identifier: MIT
/*
 * ionest: the command-line front end. `ionest CMD [ARGS]` dispatches to
 * the subcommands of commands.h; data goes to stdout, diagnostics to
 * stderr. Exit status: 0 success, 1 failure, 2 usage error (`run`
 * returns the program's status instead).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

#ifndef IONEST_VERSION
#define IONEST_VERSION "unknown"
#endif

struct command {
	const char *name, *summary;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
#define IONEST_CMD_ENTRY(n, s) { #n, s, cmd_##n },
	IONEST_COMMANDS(IONEST_CMD_ENTRY)
#undef IONEST_CMD_ENTRY
};

void tool_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ionest%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool tool_is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ionest COMMAND [ARGS...]\n"
		"       ionest --help | --version\n\n"
		"A userspace /dev/iommu (iommufd) with nested translation on "
		"SMMUv3 and VT-d models.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "\n`ionest help COMMAND` (or `ionest COMMAND --help`) "
		   "describes a command.\n\n"
		   "environment:\n"
		   "  IONEST_CONFIG    the machine file (when no FILE is "
		   "given)\n"
		   "  IONEST_TRACE     trace events to enable, e.g. 'uapi_*,"
		   "smmu_*'\n"
		   "  NO_COLOR         set and not empty: no colour on a "
		   "terminal\n\n"
		   "exit status: 0 success, 1 failure, 2 usage error (`run`: "
		   "the program's).\n"
		   "See ionest(1) and, for the C library, libionest(3).\n");
}

/* Data went to stdout: a write error there (a full disk, a closed pipe
 * reader) is a failure, not a silent truncation. */
static int finish(int rc)
{
	if (fflush(stdout) || ferror(stdout)) {
		tool_error(NULL, "cannot write the output: %s",
			   strerror(errno));
		return rc ? rc : 1;
	}
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (tool_is_help(argv[1]) || !strcmp(argv[1], "help")) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			for (size_t i = 0;
			     i < sizeof(commands) / sizeof(commands[0]); i++) {
				if (!strcmp(argv[2], commands[i].name)) {
					char *a[] = { argv[2], "--help", NULL };

					return finish(commands[i].fn(2, a));
				}
			}
			tool_error(NULL, "no command '%s'", argv[2]);
			return 2;
		}
		usage(stdout);
		return finish(0);
	}
	if (!strcmp(argv[1], "--version")) {
		printf("ionest %s\n", IONEST_VERSION);
		return finish(0);
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return finish(commands[i].fn(argc - 1, argv + 1));
	}
	tool_error(NULL, "no command '%s' (try ionest --help)", argv[1]);
	return 2;
}
