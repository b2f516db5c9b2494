// SPDX-License-Identifier: MIT
/* See cli_util.h. */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "test_util.h"
#include "cli_util.h"

const char *cli_env(const char *name)
{
	const char *v = getenv(name);

	if (!v)
		print_error("%s is not set (run the suite through meson)\n",
			    name);
	assert_non_null(v);
	return v;
}

const char *cli_example(const char *name)
{
	static char path[1024];

	snprintf(path, sizeof(path), "%s/%s", cli_env("IONEST_EXAMPLES"), name);
	return path;
}

struct sink {
	char **buf;
	size_t *len, cap;
	bool open;
};

static void drain(int fd, struct sink *s)
{
	ssize_t n;

	if (s->cap - *s->len < 4096) {
		s->cap = s->cap < 16384 ? 16384 : s->cap * 2;
		*s->buf = realloc(*s->buf, s->cap);
		assert_non_null(*s->buf);
	}
	n = read(fd, *s->buf + *s->len, s->cap - 1 - *s->len);
	if (n <= 0)
		s->open = false;
	else
		*s->len += (size_t)n;
	(*s->buf)[*s->len] = '\0';
}

void cli_out_free(struct cli_out *r)
{
	free(r->o);
	free(r->e);
	memset(r, 0, sizeof(*r));
}

/* argv for execv: $IONEST_BIN, then @args. */
static void make_argv(const char **argv, size_t cap, const char *const *args)
{
	size_t i;

	argv[0] = cli_env("IONEST_BIN");
	for (i = 0; args[i]; i++) {
		assert_true(i + 2 < cap);
		argv[i + 1] = args[i];
	}
	argv[i + 1] = NULL;
}

static void wait_status(struct cli_out *r, pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void cli_run_pty(struct cli_out *r, const char *const *args)
{
	const char *argv[64];
	struct sink so = { &r->o, &r->olen, 1, true };
	int master, slave;
	struct termios t;
	pid_t pid;

	cli_out_free(r);
	make_argv(argv, sizeof(argv) / sizeof(argv[0]), args);
	r->o = calloc(1, 1);
	r->e = calloc(1, 1);
	assert_true(r->o && r->e);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	assert_true(slave >= 0);
	assert_int_equal(tcgetattr(slave, &t), 0);
	cfmakeraw(&t);
	assert_int_equal(tcsetattr(slave, TCSANOW, &t), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		close(master);
		close(slave);
		execv(argv[0], (char **)argv);
		_exit(111);
	}
	close(slave);
	/* Until every copy of the slave is closed (read then fails, EIO). */
	while (so.open)
		drain(master, &so);
	close(master);
	wait_status(r, pid);
}

void cli_run(struct cli_out *r, const char *const *args)
{
	const char *argv[64];
	struct sink so = { &r->o, &r->olen, 0, true },
		    se = { &r->e, &r->elen, 0, true };
	int po[2], pe[2];
	pid_t pid;

	cli_out_free(r);
	make_argv(argv, sizeof(argv) / sizeof(argv[0]), args);
	assert_int_equal(pipe(po), 0);
	assert_int_equal(pipe(pe), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		execv(argv[0], (char **)argv);
		_exit(111);
	}
	close(po[1]);
	close(pe[1]);
	/* Both strings exist, even when a stream stays empty. */
	r->o = calloc(1, 1);
	r->e = calloc(1, 1);
	assert_true(r->o && r->e);
	so.cap = se.cap = 1;
	while (so.open || se.open) {
		struct pollfd p[2] = {
			{ .fd = so.open ? po[0] : -1, .events = POLLIN },
			{ .fd = se.open ? pe[0] : -1, .events = POLLIN },
		};

		assert_true(poll(p, 2, -1) > 0);
		if (p[0].revents)
			drain(po[0], &so);
		if (p[1].revents)
			drain(pe[0], &se);
	}
	close(po[0]);
	close(pe[0]);
	wait_status(r, pid);
}

char *cli_mkdtemp(void)
{
	const char *t = getenv("TMPDIR");
	char *p;

	assert_true(asprintf(&p, "%s/ionest-cli-XXXXXX", t && *t ? t : "/tmp") >
		    0);
	assert_non_null(mkdtemp(p));
	return p;
}

void cli_write(const char *dir, const char *name, const char *text,
	       unsigned mode)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

void cli_rmtree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[1024];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		assert_int_equal(unlink(path), 0);
	}
	closedir(d);
	assert_int_equal(rmdir(dir), 0);
}
