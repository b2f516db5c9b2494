// SPDX-License-Identifier: MIT
/*
 * Colour and progress for the ionest command (see term.h for the rules).
 * SGR escapes (ECMA-48) are the only control sequences written, plus
 * "\r" and "erase to end of line" (CSI K) for the progress line.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "term.h"

static const char *const sgr[] = {
	[TERM_RESET] = "\033[0m",  [TERM_BOLD] = "\033[1m",
	[TERM_DIM] = "\033[2m",	   [TERM_RED] = "\033[31m",
	[TERM_GREEN] = "\033[32m", [TERM_YELLOW] = "\033[33m",
	[TERM_BLUE] = "\033[34m",  [TERM_CYAN] = "\033[36m",
};

/* The file descriptor of the stream the last progress line went to, or
 * -1: only that one is erased. */
static int progress_fd = -1;

bool term_isatty(FILE *f)
{
	int fd = f ? fileno(f) : -1;

	return fd >= 0 && isatty(fd);
}

bool term_use_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR");

	if (nc && *nc)
		return false;
	return term_isatty(f);
}

const char *term_sgr(FILE *f, enum term_color c)
{
	if ((unsigned)c >= sizeof(sgr) / sizeof(sgr[0]) || !term_use_color(f))
		return "";
	return sgr[c];
}

int term_fputs(FILE *f, enum term_color c, const char *s)
{
	if (!term_use_color(f))
		return fputs(s, f);
	return fprintf(f, "%s%s%s", term_sgr(f, c), s, sgr[TERM_RESET]);
}

int term_status(FILE *f, bool ok)
{
	return term_fputs(f, ok ? TERM_GREEN : TERM_RED, ok ? "OK" : "FAIL");
}

/* Columns of the terminal behind @fd; 80 if it does not say. */
static unsigned columns(int fd)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

void term_progress(FILE *f, const char *fmt, ...)
{
	char line[512];
	unsigned cols;
	va_list ap;

	if (!term_isatty(f))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* A line wider than the terminal would wrap, and \r would only
	 * return to its last row: keep it one column short. */
	cols = columns(fileno(f));
	if (cols > 1 && strlen(line) >= cols)
		line[cols - 1] = '\0';
	for (char *p = line; *p; p++) {
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	}
	fprintf(f, "\r%s\033[K", line);
	fflush(f);
	progress_fd = fileno(f);
}

void term_progress_end(FILE *f)
{
	if (!term_isatty(f) || progress_fd != fileno(f))
		return;
	fputs("\r\033[K", f);
	fflush(f);
	progress_fd = -1;
}
