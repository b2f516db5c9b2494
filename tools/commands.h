/* SPDX-License-Identifier: MIT */
/*
 * The subcommands of `ionest`, one file each (tools/cmd_<name>.c defines
 * int cmd_<name>(int argc, char **argv), argv[0] being the subcommand's
 * name). Adding one: a line here, its file, and its name in
 * tools/meson.build.
 */
#ifndef IONEST_TOOLS_COMMANDS_H
#define IONEST_TOOLS_COMMANDS_H

#include <stdbool.h>

/* X(name, one-line summary) */
#define IONEST_COMMANDS(X)                                               \
	X(run, "run a program with the machine's /dev/iommu and VFIO "   \
	       "devices (LD_PRELOAD)")                                   \
	X(topology, "print the machine a machine file describes (text, " \
		    "--json, --dot)")                                    \
	X(demo, "build the seed topology (host + 2 VMs, nested SVA) "    \
		"and check it")                                          \
	X(explain, "translate one access and print every step the "      \
		   "IOMMU takes (text, --json)")                         \
	X(bench, "run the benchmark suites against their in-run "        \
		 "baselines (table, --json)")

#define IONEST_CMD_DECL(name, summary) int cmd_##name(int argc, char **argv);
IONEST_COMMANDS(IONEST_CMD_DECL)
#undef IONEST_CMD_DECL

/* Diagnostics on stderr, prefixed "ionest <cmd>: ". */
void tool_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Whether @arg is -h or --help. */
bool tool_is_help(const char *arg);

#endif
