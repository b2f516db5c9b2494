// SPDX-License-Identifier: MIT
/*
 * The command line's conventions, for every subcommand `ionest --help`
 * lists (so commands added later are held to them too): --help and -h
 * print the command's usage on stdout and exit 0, `ionest help CMD` says
 * the same, an unknown option is a usage error (2, stderr only, stdout
 * untouched); --version; a failed write of the output is a failure.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"
#include "cli_util.h"

static struct cli_out r;

/* The command names of `ionest --help`'s "commands:" section. */
static unsigned commands(char names[][32], unsigned max)
{
	const char *p;
	unsigned n = 0;

	CLI(&r, "--help");
	assert_int_equal(r.status, 0);
	p = strstr(r.o, "\ncommands:\n");
	assert_non_null(p);
	p += strlen("\ncommands:\n");
	while (!strncmp(p, "  ", 2) && p[2] != ' ' && n < max) {
		size_t len = strcspn(p + 2, " \n");

		assert_true(len > 0 && len < 32);
		memcpy(names[n], p + 2, len);
		names[n++][len] = '\0';
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	return n;
}

static void test_every_command_help(void **state)
{
	char names[32][32], want[1100], *help;
	unsigned n = commands(names, 32);

	/* At least the commands of this part of the tree. */
	assert_true(n >= 3);
	for (unsigned i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "usage: ionest %s", names[i]);
		CLI(&r, names[i], "--help");
		if (r.status || strncmp(r.o, want, strlen(want)))
			print_error("ionest %s --help: status %d\n%s%s\n",
				    names[i], r.status, r.o, r.e);
		assert_int_equal(r.status, 0);
		assert_int_equal(strncmp(r.o, want, strlen(want)), 0);
		assert_string_equal(r.e, "");
		help = strdup(r.o);
		assert_non_null(help);
		CLI(&r, names[i], "-h");
		assert_int_equal(r.status, 0);
		assert_string_equal(r.o, help);
		CLI(&r, "help", names[i]);
		assert_int_equal(r.status, 0);
		assert_string_equal(r.o, help);
		assert_string_equal(r.e, "");
		free(help);
	}
}

static void test_every_command_bad_option(void **state)
{
	char names[32][32], want[1100];
	unsigned n = commands(names, 32);

	for (unsigned i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "ionest %s: ", names[i]);
		CLI(&r, names[i], "--no-such-option");
		if (r.status != 2)
			print_error("ionest %s --no-such-option: status %d\n",
				    names[i], r.status);
		assert_int_equal(r.status, 2);
		assert_string_equal(r.o, "");
		assert_int_equal(strncmp(r.e, want, strlen(want)), 0);
		assert_non_null(strstr(r.e, "'--no-such-option'"));
	}
}

static void test_top_level(void **state)
{
	CLI(&r, "--version");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.o, "ionest 0.1.0\n");
	assert_string_equal(r.e, "");
	CLI(&r, "help");
	assert_int_equal(r.status, 0);
	assert_int_equal(strncmp(r.o, "usage: ionest COMMAND", 21), 0);
	assert_non_null(strstr(r.o, "\n  bench "));
	assert_non_null(strstr(r.o, "\nenvironment:\n"));
	assert_non_null(strstr(r.o, "  NO_COLOR "));
	assert_non_null(strstr(r.o, "\nexit status: 0 success, 1 failure, 2 "
				    "usage error"));
	CLI(&r, "-h");
	assert_int_equal(r.status, 0);
	assert_int_equal(strncmp(r.o, "usage: ionest COMMAND", 21), 0);
	/* Usage errors: 2, on stderr. */
	CLI(&r, "help", "frob");
	assert_int_equal(r.status, 2);
	assert_string_equal(r.o, "");
	assert_string_equal(r.e, "ionest: no command 'frob'\n");
	CLI(&r, "--frob");
	assert_int_equal(r.status, 2);
	assert_string_equal(r.o, "");
	assert_string_equal(
		r.e, "ionest: no command '--frob' (try ionest --help)\n");
}

/* ionest with stdout on /dev/full: the exit status. */
static int status_on_full(const char *const *args)
{
	const char *argv[8] = { cli_env("IONEST_BIN") };
	int st, fd;
	pid_t pid;

	for (int i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		fd = open("/dev/full", O_WRONLY);
		if (fd < 0)
			_exit(112);
		dup2(fd, 1);
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 2);
		execv(argv[0], (char **)argv);
		_exit(111);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_write_error(void **state)
{
	const char *const version[] = { "--version", NULL };
	const char *const help[] = { "--help", NULL };
	const char *const topo[] = { "topology", "--json",
				     cli_example("vtd.yaml"), NULL };

	if (access("/dev/full", W_OK)) {
		skip();
		return;
	}
	assert_int_equal(status_on_full(version), 1);
	assert_int_equal(status_on_full(help), 1);
	assert_int_equal(status_on_full(topo), 1);
}

static int teardown(void **state)
{
	cli_out_free(&r);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_command_help),
		cmocka_unit_test(test_every_command_bad_option),
		cmocka_unit_test(test_top_level),
		cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
