/* SPDX-License-Identifier: MIT */
/*
 * Terminal niceties for the ionest command: colour and a progress line,
 * both only where a person is looking. Colour goes to a stream only when
 * it is a terminal and NO_COLOR is unset or empty (https://no-color.org:
 * any non-empty value turns colour off). The progress line goes to a
 * stream only when it is a terminal; it is rewritten in place (\r) and
 * erased by term_progress_end(), so redirected output never contains it.
 */
#ifndef IONEST_TOOLS_TERM_H
#define IONEST_TOOLS_TERM_H

#include <stdbool.h>
#include <stdio.h>

enum term_color {
	TERM_RESET,
	TERM_BOLD,
	TERM_DIM,
	TERM_RED,
	TERM_GREEN,
	TERM_YELLOW,
	TERM_BLUE,
	TERM_CYAN,
};

/* Whether @f is a terminal. */
bool term_isatty(FILE *f);
/* Whether colour escapes may be written to @f (terminal, NO_COLOR unset
 * or empty). */
bool term_use_color(FILE *f);
/* The escape sequence selecting @c on @f, or "" where colour is off. */
const char *term_sgr(FILE *f, enum term_color c);
/* @s on @f in colour @c (reset after it); plain where colour is off.
 * Returns what fputs returns. */
int term_fputs(FILE *f, enum term_color c, const char *s);
/* "OK" in green or "FAIL" in red (plain where colour is off). */
int term_status(FILE *f, bool ok);

/*
 * Replace the progress line on @f (normally stderr) with the formatted
 * text, cut to the terminal's width; nothing when @f is not a terminal.
 */
void term_progress(FILE *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Erase the progress line, if one was shown on @f. */
void term_progress_end(FILE *f);

#endif
