// SPDX-License-Identifier: MIT
/*
 * tools/term.c: colour only on a terminal and only without NO_COLOR; the
 * progress line only on a terminal, erased at the end. The terminal is a
 * pseudo-terminal whose master side the test reads.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "test_util.h"
#include "../../tools/term.h"

struct pty {
	int master;
	FILE *slave;
};

static void pty_open(struct pty *p)
{
	struct termios t;
	int fd;

	p->master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(p->master >= 0);
	assert_int_equal(grantpt(p->master), 0);
	assert_int_equal(unlockpt(p->master), 0);
	fd = open(ptsname(p->master), O_RDWR | O_NOCTTY);
	assert_true(fd >= 0);
	/* Raw: what is written arrives unchanged (no \n -> \r\n). */
	assert_int_equal(tcgetattr(fd, &t), 0);
	cfmakeraw(&t);
	assert_int_equal(tcsetattr(fd, TCSANOW, &t), 0);
	p->slave = fdopen(fd, "w");
	assert_non_null(p->slave);
}

/* Everything written to the slave so far. */
static void pty_read(struct pty *p, char *buf, size_t cap)
{
	size_t len = 0;

	fflush(p->slave);
	for (;;) {
		struct pollfd pf = { .fd = p->master, .events = POLLIN };
		ssize_t n;

		if (poll(&pf, 1, 100) <= 0 || len + 1 >= cap)
			break;
		n = read(p->master, buf + len, cap - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
}

static void pty_close(struct pty *p)
{
	fclose(p->slave);
	close(p->master);
}

/* What was written to the regular file @f. */
static void file_read(FILE *f, char *buf, size_t cap)
{
	size_t n;

	fflush(f);
	rewind(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
}

static void test_not_a_tty(void **state)
{
	FILE *f = tmpfile();
	char buf[256];

	assert_non_null(f);
	unsetenv("NO_COLOR");
	assert_false(term_isatty(f));
	assert_false(term_use_color(f));
	assert_string_equal(term_sgr(f, TERM_RED), "");
	term_status(f, true);
	fputc(' ', f);
	term_status(f, false);
	fputc(' ', f);
	term_fputs(f, TERM_BOLD, "x");
	term_progress(f, "step %d of %d", 1, 3);
	term_progress_end(f);
	file_read(f, buf, sizeof(buf));
	assert_string_equal(buf, "OK FAIL x");
	assert_null(strchr(buf, '\033'));
	fclose(f);
}

static void test_tty_colour(void **state)
{
	struct pty p;
	char buf[256];

	pty_open(&p);
	unsetenv("NO_COLOR");
	assert_true(term_isatty(p.slave));
	assert_true(term_use_color(p.slave));
	assert_string_equal(term_sgr(p.slave, TERM_GREEN), "\033[32m");
	assert_string_equal(term_sgr(p.slave, (enum term_color)99), "");
	term_status(p.slave, true);
	term_status(p.slave, false);
	pty_read(&p, buf, sizeof(buf));
	assert_string_equal(buf, "\033[32mOK\033[0m\033[31mFAIL\033[0m");
	/* An empty NO_COLOR does not count. */
	setenv("NO_COLOR", "", 1);
	assert_true(term_use_color(p.slave));
	pty_close(&p);
}

static void test_no_color(void **state)
{
	struct pty p;
	char buf[256];

	pty_open(&p);
	setenv("NO_COLOR", "1", 1);
	assert_false(term_use_color(p.slave));
	assert_string_equal(term_sgr(p.slave, TERM_GREEN), "");
	term_status(p.slave, true);
	term_fputs(p.slave, TERM_RED, " plain");
	pty_read(&p, buf, sizeof(buf));
	assert_string_equal(buf, "OK plain");
	/* NO_COLOR is about colour only: the progress line still shows. */
	term_progress(p.slave, "working");
	term_progress_end(p.slave);
	pty_read(&p, buf, sizeof(buf));
	assert_string_equal(buf, "\rworking\033[K\r\033[K");
	unsetenv("NO_COLOR");
	pty_close(&p);
}

static void test_progress(void **state)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 10 };
	struct pty p;
	char buf[256];

	pty_open(&p);
	term_progress(p.slave, "a %s", "b\nc");
	term_progress(p.slave, "second");
	term_progress_end(p.slave);
	pty_read(&p, buf, sizeof(buf));
	assert_string_equal(buf, "\ra b c\033[K\rsecond\033[K\r\033[K");
	/* Nothing to erase once erased. */
	term_progress_end(p.slave);
	pty_read(&p, buf, sizeof(buf));
	assert_string_equal(buf, "");
	/* Cut to one column less than the terminal is wide. */
	assert_int_equal(ioctl(fileno(p.slave), TIOCSWINSZ, &ws), 0);
	term_progress(p.slave, "0123456789abcdef");
	term_progress_end(p.slave);
	pty_read(&p, buf, sizeof(buf));
	assert_string_equal(buf, "\r012345678\033[K\r\033[K");
	pty_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_a_tty),
		cmocka_unit_test(test_tty_colour),
		cmocka_unit_test(test_no_color),
		cmocka_unit_test(test_progress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
