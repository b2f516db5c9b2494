/* SPDX-License-Identifier: MIT */
/* Finding the preload library and the runtime it must come after. */
#ifndef IONEST_TOOLS_PRELOAD_FIND_H
#define IONEST_TOOLS_PRELOAD_FIND_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The path of libionest-preload.so: $IONEST_PRELOAD if set, else next to
 * this binary in the build tree (../shim/), beside it, in the install
 * tree relative to it (../<libdir>/ionest/), then the configured
 * <libdir>/ionest/. 0, or -1 if none exists (@out has the last tried).
 */
int preload_find(char *out, size_t len);
/* 1 with the name of the sanitizer runtime among @path's DT_NEEDED
 * entries in @out, 0 if it needs none, -1 if @path is not a 64-bit ELF. */
int elf_needed_runtime(const char *path, char *out, size_t len);
/* The file this process loaded @soname from, or @soname itself. */
void runtime_path(const char *soname, char *out, size_t len);

#endif
