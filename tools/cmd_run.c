// SPDX-License-Identifier: MIT
/*
 * ionest run [--config FILE] [--trace GLOB] -- PROGRAM [ARGS...]: run an
 * unmodified program with libionest-preload.so, so that its /dev/iommu
 * and /dev/vfio/devices/vfioN are those of the machine in FILE. The
 * machine file is checked before the program starts. Exit status: the
 * program's, 128+N if a signal N ended it, 125 if ionest itself failed,
 * 126 if the program could not be executed, 127 if it was not found
 * (the conventions of env(1)).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <ionest/ionest.h>

#include "commands.h"
#include "preload_find.h"

#define RUN_FAILED 125
#define RUN_CANNOT_EXEC 126
#define RUN_NOT_FOUND 127

static void help(FILE *f)
{
	fprintf(f,
		"usage: ionest run [--config FILE] [--trace GLOB] [--] PROGRAM "
		"[ARGS...]\n\n"
		"Run PROGRAM with LD_PRELOAD=libionest-preload.so: its "
		"/dev/iommu,\n/dev/vfio/vfio and /dev/vfio/devices/vfioN are "
		"those of the machine\nin FILE (default: $IONEST_CONFIG), "
		"emulated in the program's process.\n\n"
		"  -c, --config FILE   the machine file\n"
		"  -t, --trace GLOB    enable trace events (IONEST_TRACE)\n"
		"  -h, --help          this text\n\n"
		"Exit status: PROGRAM's, 128+N if signal N ended it, 125 if "
		"ionest failed,\n126 if PROGRAM cannot be executed, 127 if it "
		"was not found.\n$IONEST_PRELOAD overrides where the preload "
		"library is.\n");
}

/* "A:B" from @first, then the old list without @skip entries. */
static int set_ld_preload(const char *runtime, const char *preload)
{
	const char *old = getenv("LD_PRELOAD");
	size_t len = (runtime ? strlen(runtime) : 0) + strlen(preload) +
		     (old ? strlen(old) : 0) + 4;
	char *v = malloc(len), *copy, *tok, *save = NULL;
	int rc;

	if (!v)
		return -1;
	snprintf(v, len, "%s%s%s", runtime ? runtime : "", runtime ? ":" : "",
		 preload);
	copy = old ? strdup(old) : NULL;
	for (tok = copy ? strtok_r(copy, ": ", &save) : NULL; tok;
	     tok = strtok_r(NULL, ": ", &save)) {
		if (!strcmp(tok, preload) || (runtime && !strcmp(tok, runtime)))
			continue;
		strcat(v, ":");
		strcat(v, tok);
	}
	free(copy);
	rc = setenv("LD_PRELOAD", v, 1);
	free(v);
	return rc;
}

static pid_t child;

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static int wait_child(void)
{
	struct sigaction sa = { .sa_handler = forward },
			 ign = { .sa_handler = SIG_IGN };
	int status;

	/* The terminal's ^C and ^\ reach the program itself; a SIGTERM or
	 * SIGHUP sent to us is passed on. */
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGQUIT, &ign, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR) {
			tool_error("run", "waitpid: %s", strerror(errno));
			return RUN_FAILED;
		}
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "config", required_argument, NULL, 'c' },
		{ "trace", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	char preload[PATH_MAX], rt[256], rtpath[PATH_MAX], cfg[PATH_MAX],
		err[512];
	const char *config = NULL, *trace = NULL;
	struct ionest_machine *m;
	int opt, r;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+hc:t:", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			help(stdout);
			return 0;
		case 'c':
			config = optarg;
			break;
		case 't':
			trace = optarg;
			break;
		case ':':
			tool_error("run", "'%s' needs an argument",
				   argv[optind - 1]);
			return 2;
		default:
			tool_error("run", "unknown option '%s'",
				   argv[optind - 1]);
			help(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		tool_error("run", "no program to run");
		help(stderr);
		return 2;
	}
	if (!config)
		config = getenv("IONEST_CONFIG");
	if (!config || !*config) {
		tool_error("run",
			   "no machine file (--config FILE or IONEST_CONFIG)");
		return 2;
	}
	/* The program may change directory: pass the file's full path. */
	if (!realpath(config, cfg)) {
		tool_error("run", "%s: %s", config, strerror(errno));
		return RUN_FAILED;
	}
	/* Check the machine now rather than at the program's first open. */
	m = ionest_machine_load(cfg, err, sizeof(err));
	if (!m) {
		tool_error("run", "%s", err[0] ? err : strerror(errno));
		return RUN_FAILED;
	}
	ionest_machine_free(m);
	if (preload_find(preload, sizeof(preload))) {
		tool_error("run",
			   "cannot find libionest-preload.so (last tried %s; "
			   "set IONEST_PRELOAD)",
			   preload);
		return RUN_FAILED;
	}
	r = elf_needed_runtime(preload, rt, sizeof(rt));
	if (r < 0) {
		tool_error("run", "%s: not a 64-bit ELF library", preload);
		return RUN_FAILED;
	}
	if (r > 0)
		runtime_path(rt, rtpath, sizeof(rtpath));
	if (set_ld_preload(r > 0 ? rtpath : NULL, preload) ||
	    setenv("IONEST_CONFIG", cfg, 1) ||
	    (trace && setenv("IONEST_TRACE", trace, 1))) {
		tool_error("run", "cannot set the environment");
		return RUN_FAILED;
	}
	fflush(NULL);
	child = fork();
	if (child < 0) {
		tool_error("run", "fork: %s", strerror(errno));
		return RUN_FAILED;
	}
	if (!child) {
		execvp(argv[optind], argv + optind);
		r = errno;
		tool_error("run", "%s: %s", argv[optind], strerror(r));
		_exit(r == ENOENT ? RUN_NOT_FOUND : RUN_CANNOT_EXEC);
	}
	return wait_child();
}
