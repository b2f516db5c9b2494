// SPDX-License-Identifier: MIT
/*
 * The ionest command as a user meets it: --help/--version, `topology` in
 * its three formats and its errors, and `run`: exit statuses, signals,
 * the environment it sets up, the preload actually working, tracing.
 * IONEST_BIN, IONEST_HELPER and IONEST_EXAMPLES come from meson.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

struct out {
	char o[16384], e[16384];
	int status; /* exit status, or 128 + signal */
};

static const char *env_or(const char *name)
{
	const char *v = getenv(name);

	assert_non_null(v);
	return v;
}

static char example[512];

static const char *ex(const char *name)
{
	snprintf(example, sizeof(example), "%s/%s", env_or("IONEST_EXAMPLES"),
		 name);
	return example;
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

/* Run ionest with @args (NULL-terminated); capture both streams. */
static void run(struct out *r, const char *const *args)
{
	const char *argv[32] = { env_or("IONEST_BIN") };
	int po[2], pe[2], st;
	size_t lo = 0, le = 0;
	bool oo = true, eo = true;
	pid_t pid;

	for (int i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	memset(r, 0, sizeof(*r));
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
			{ .fd = eo ? pe[0] : -1, .events = POLLIN }
		};

		assert_true(poll(p, 2, -1) > 0);
		if (p[0].revents)
			drain(po[0], r->o, sizeof(r->o), &lo, &oo);
		if (p[1].revents)
			drain(pe[0], r->e, sizeof(r->e), &le, &eo);
	}
	close(po[0]);
	close(pe[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#define RUN(r, ...)                                             \
	do {                                                    \
		const char *const a_[] = { __VA_ARGS__, NULL }; \
		run(r, a_);                                     \
	} while (0)

static struct out r;

static void test_help_version(void **state)
{
	RUN(&r, "--version");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.o, "ionest 0.1.0\n");
	RUN(&r, "--help");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.o, "\n  run "));
	assert_non_null(strstr(r.o, "\n  topology "));
	assert_string_equal(r.e, "");
	RUN(&r, "help", "run");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.o, "usage: ionest run"));
	RUN(&r, "run", "--help");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.o, "usage: ionest run"));
	RUN(&r, "topology", "-h");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.o, "usage: ionest topology"));
	/* Usage errors: status 2, message on stderr only. */
	RUN(&r, "frob");
	assert_int_equal(r.status, 2);
	assert_string_equal(r.o, "");
	assert_string_equal(r.e,
			    "ionest: no command 'frob' (try ionest --help)\n");
	RUN(&r, "help", "frob");
	assert_int_equal(r.status, 2);
	{
		const char *const none[] = { NULL };

		run(&r, none);
	}
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.e, "usage: ionest COMMAND"));
}

static void test_topology_text(void **state)
{
	RUN(&r, "topology", ex("smmuv3-nesting.yaml"));
	assert_int_equal(r.status, 0);
	assert_string_equal(r.e, "");
	assert_non_null(strstr(r.o, ": 1 IOMMU, 3 devices\n"));
	assert_non_null(
		strstr(r.o, "`-- smmu0: smmuv3, nesting hw (can nest)\n"));
	assert_non_null(strstr(r.o, "config: s1p=true s2p=true ssidsize=20"));
	assert_non_null(strstr(r.o, "|-- vfio0 00:01.0 rid 0x0008 nic0 pasid "
				    "20 ats pri\n"));
	assert_non_null(strstr(r.o, "`-- vfio2 01:00.0 rid 0x0100 gpu0 pasid "
				    "0\n"));
	RUN(&r, "topology", "--text", ex("vtd.yaml"));
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.o, "`-- vtd1: vtd, nesting shadow\n"));
	assert_non_null(strstr(r.o, "vfio1 00:04.0 rid 0x0020 accel0 pasid "
				    "20 ats pasid_exec\n"));
}

static void test_topology_json(void **state)
{
	char want[2048];

	RUN(&r, "topology", "--json", ex("mock.yaml"));
	assert_int_equal(r.status, 0);
	snprintf(want, sizeof(want),
		 "{\"file\":\"%s\",\"iommus\":[{\"name\":\"iommu0\","
		 "\"model\":\"mock\",\"nesting\":\"auto\",\"can_nest\":%s,"
		 "\"config\":{\"pasid_bits\":8},\"devices\":["
		 "{\"vfio\":0,\"path\":\"/dev/vfio/devices/vfio0\","
		 "\"name\":\"dma0\",\"bdf\":\"00:01.0\",\"rid\":8,"
		 "\"pasid_bits\":8,\"ats\":true,\"pri\":false,"
		 "\"pasid_exec\":false,\"pasid_priv\":false},"
		 "{\"vfio\":1,\"path\":\"/dev/vfio/devices/vfio1\","
		 "\"name\":\"dma1\",\"bdf\":\"00:02.0\",\"rid\":16,"
		 "\"pasid_bits\":8,\"ats\":false,\"pri\":false,"
		 "\"pasid_exec\":false,\"pasid_priv\":false}]}]}\n",
		 ex("mock.yaml"),
		 strstr(r.o, "\"can_nest\":true") ? "true" : "false");
	assert_string_equal(r.o, want);
}

static void test_topology_dot(void **state)
{
	RUN(&r, "topology", "--dot", ex("vtd.yaml"));
	assert_int_equal(r.status, 0);
	assert_int_equal(strncmp(r.o, "digraph machine {\n", 18), 0);
	assert_non_null(strstr(r.o, "\t\"vfio2\" -> \"iommu:vtd1\";\n"));
	assert_non_null(strstr(r.o, "\t\"iommu:vtd0\" [shape=box,"));
	assert_string_equal(r.o + strlen(r.o) - 2, "}\n");
}

static char *tmp_file(const char *text)
{
	char *p = strdup("/tmp/ionest-cli-XXXXXX");
	int fd = mkstemp(p);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return p;
}

static void test_topology_errors(void **state)
{
	char *bad = tmp_file("iommus:\n  - name: x\n    model: amd\n"),
	     want[512];

	RUN(&r, "topology", bad);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.o, "");
	snprintf(want, sizeof(want),
		 "ionest topology: %s:3: iommus[0].model: expected smmuv3, "
		 "vtd or mock\n",
		 bad);
	assert_string_equal(r.e, want);
	RUN(&r, "topology", "/nonexistent.yaml");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.e, "ionest topology: /nonexistent.yaml: cannot "
				 "open: No such file or directory\n");
	RUN(&r, "topology", "a", "b");
	assert_int_equal(r.status, 2);
	RUN(&r, "topology", "--yaml", "a");
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.e, "unknown option '--yaml'"));
	unsetenv("IONEST_CONFIG");
	RUN(&r, "topology");
	assert_int_equal(r.status, 2);
	assert_string_equal(r.e, "ionest topology: no machine file (give FILE "
				 "or set IONEST_CONFIG)\n");
	setenv("IONEST_CONFIG", ex("mock.yaml"), 1);
	RUN(&r, "topology");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.o, "iommu0: mock"));
	unsetenv("IONEST_CONFIG");
	unlink(bad);
	free(bad);
}

#define HELPER env_or("IONEST_HELPER")

static void test_run_status(void **state)
{
	char *bad = tmp_file("iommus: 1\n"), want[512];

	RUN(&r, "run", "--config", ex("mock.yaml"), "--", HELPER, "exit", "3");
	assert_int_equal(r.status, 3);
	RUN(&r, "run", "-c", ex("mock.yaml"), HELPER, "exit", "0");
	assert_int_equal(r.status, 0);
	RUN(&r, "run", "-c", ex("mock.yaml"), "--", HELPER, "signal", "15");
	assert_int_equal(r.status, 128 + 15);
	RUN(&r, "run", "-c", ex("mock.yaml"), "--", "/nonexistent/prog");
	assert_int_equal(r.status, 127);
	assert_string_equal(r.e, "ionest run: /nonexistent/prog: No such file "
				 "or directory\n");
	RUN(&r, "run", "-c", ex("mock.yaml"), "--", ex("mock.yaml"));
	assert_int_equal(r.status, 126);
	/* ionest's own failures: 2 for usage, 125 otherwise. */
	RUN(&r, "run", "-c", ex("mock.yaml"));
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.e, "ionest run: no program to run\n"));
	unsetenv("IONEST_CONFIG");
	RUN(&r, "run", "--", HELPER, "exit", "0");
	assert_int_equal(r.status, 2);
	RUN(&r, "run", "--bogus", HELPER);
	assert_int_equal(r.status, 2);
	RUN(&r, "run", "--config");
	assert_int_equal(r.status, 2);
	RUN(&r, "run", "-c", bad, "--", HELPER, "exit", "0");
	assert_int_equal(r.status, 125);
	snprintf(want, sizeof(want),
		 "ionest run: %s:1: iommus: expected a list\n", bad);
	assert_string_equal(r.e, want);
	RUN(&r, "run", "-c", "/nonexistent.yaml", "--", HELPER, "exit", "0");
	assert_int_equal(r.status, 125);
	setenv("IONEST_PRELOAD", "/nonexistent.so", 1);
	RUN(&r, "run", "-c", ex("mock.yaml"), "--", HELPER, "exit", "0");
	assert_int_equal(r.status, 125);
	assert_non_null(strstr(r.e, "cannot find libionest-preload.so"));
	unsetenv("IONEST_PRELOAD");
	unlink(bad);
	free(bad);
}

static void test_run_environment(void **state)
{
	char cwd[512], want[600];

	/* A relative machine file reaches the program as a full path. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(env_or("IONEST_EXAMPLES")), 0);
	RUN(&r, "run", "-c", "mock.yaml", "--", HELPER, "env", "IONEST_CONFIG");
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(r.status, 0);
	assert_true(r.o[0] == '/');
	snprintf(want, sizeof(want), "/mock.yaml\n");
	assert_string_equal(r.o + strlen(r.o) - strlen(want), want);
	/* The machine file may come from the environment. */
	setenv("IONEST_CONFIG", ex("mock.yaml"), 1);
	RUN(&r, "run", "--trace", "uapi_*", "--", HELPER, "env",
	    "IONEST_TRACE");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.o, "uapi_*\n");
	unsetenv("IONEST_CONFIG");
	/* Our preload first (after the sanitizer runtime if it needs it),
	 * what was preloaded before kept after it. */
	setenv("LD_PRELOAD", "", 1);
	RUN(&r, "run", "-c", ex("mock.yaml"), "--", HELPER, "env",
	    "LD_PRELOAD");
	unsetenv("LD_PRELOAD");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.o, "libionest-preload.so"));
	if (strstr(r.o, "libasan"))
		assert_true(strstr(r.o, "libasan") < strstr(r.o, "libionest"));
}

static void test_run_preload_works(void **state)
{
	RUN(&r, "run", "-c", ex("mock.yaml"), "--", HELPER, "open");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.o, "ok\n");
	/* --trace: the program's ioctls are traced on stderr. */
	RUN(&r, "run", "-c", ex("mock.yaml"), "--trace", "uapi_ioctl", "--",
	    HELPER, "open");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.e, "uapi_ioctl"));
	/* A machine file broken when the program first uses it: said once,
	 * and the device paths do not exist. */
	RUN(&r, "run", "-c", ex("mock.yaml"), "--", HELPER, "open-with",
	    "/nonexistent.yaml");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.o, "No such file or directory\n");
	assert_string_equal(r.e, "ionest-preload: /nonexistent.yaml: cannot "
				 "open: No such file or directory\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_version),
		cmocka_unit_test(test_topology_text),
		cmocka_unit_test(test_topology_json),
		cmocka_unit_test(test_topology_dot),
		cmocka_unit_test(test_topology_errors),
		cmocka_unit_test(test_run_status),
		cmocka_unit_test(test_run_environment),
		cmocka_unit_test(test_run_preload_works),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
