/* SPDX-License-Identifier: MIT */
/*
 * Running the ionest command ($IONEST_BIN) as a user does, for the CLI
 * suites: both streams captured whole, the exit status (128 + N for a
 * signal), temporary files that clean up after themselves.
 */
#ifndef IONEST_TESTS_CLI_UTIL_H
#define IONEST_TESTS_CLI_UTIL_H

#include <stddef.h>

struct cli_out {
	char *o, *e; /* stdout, stderr; NUL-terminated, never NULL after
		      * cli_run */
	size_t olen, elen;
	int status;
};

/* $@name, failing the test if it is unset. */
const char *cli_env(const char *name);
/* $IONEST_EXAMPLES/@name (a static buffer, overwritten by the next
 * call). */
const char *cli_example(const char *name);

/* Run ionest with @args (NULL-terminated); frees what @r held. */
void cli_run(struct cli_out *r, const char *const *args);
void cli_out_free(struct cli_out *r);
/* Like cli_run with stdout and stderr on one raw pseudo-terminal, as in a
 * terminal window: everything written is in r->o, r->e is empty. */
void cli_run_pty(struct cli_out *r, const char *const *args);

#define CLI(r, ...)                                             \
	do {                                                    \
		const char *const a_[] = { __VA_ARGS__, NULL }; \
		cli_run(r, a_);                                 \
	} while (0)

#define CLI_PTY(r, ...)                                         \
	do {                                                    \
		const char *const a_[] = { __VA_ARGS__, NULL }; \
		cli_run_pty(r, a_);                             \
	} while (0)

/* A new empty directory under $TMPDIR (or /tmp); the caller frees the
 * string after cli_rmtree(). */
char *cli_mkdtemp(void);
/* Write @text to @dir/@name with mode @mode. */
void cli_write(const char *dir, const char *name, const char *text,
	       unsigned mode);
/* Remove @dir and the plain files in it. */
void cli_rmtree(const char *dir);

#endif
