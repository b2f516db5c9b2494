// SPDX-License-Identifier: MIT
/*
 * Where libionest-preload.so is, and what must be preloaded before it:
 * a preload built with AddressSanitizer needs the ASan runtime first in
 * the process's initial library list (ASan refuses to start otherwise),
 * so the runtime it names in its DT_NEEDED entries goes first in
 * LD_PRELOAD, by the path this process loaded it from when it has it.
 */
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preload_find.h"

#ifndef IONEST_LIBDIR
#define IONEST_LIBDIR "/usr/local/lib"
#endif
#ifndef IONEST_LIBDIR_REL
#define IONEST_LIBDIR_REL "lib"
#endif

#define PRELOAD_NAME "libionest-preload.so"

static bool is_file(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISREG(st.st_mode);
}

int preload_find(char *out, size_t len)
{
	const char *env = getenv("IONEST_PRELOAD");
	char exe[PATH_MAX], *slash;
	ssize_t n;
	const char *cands[] = {
		"%s/../shim/" PRELOAD_NAME, /* the build tree */
		"%s/" PRELOAD_NAME,
		"%s/../" IONEST_LIBDIR_REL "/ionest/" PRELOAD_NAME, /* moved
								     * install
								     */
	};

	if (env && *env) {
		if (!is_file(env))
			return -1;
		snprintf(out, len, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
			char p[PATH_MAX + 64], real[PATH_MAX];

			snprintf(p, sizeof(p), cands[i], exe);
			if (is_file(p) && realpath(p, real)) {
				snprintf(out, len, "%s", real);
				return 0;
			}
		}
	}
	snprintf(out, len, "%s/ionest/" PRELOAD_NAME, IONEST_LIBDIR);
	return is_file(out) ? 0 : -1;
}

static bool is_sanitizer_runtime(const char *name)
{
	return !strncmp(name, "libasan.so", 10) ||
	       !strncmp(name, "libclang_rt.asan", 16);
}

/* @len bytes at @off of the file, or false. */
static bool read_at(int fd, void *buf, size_t len, uint64_t off)
{
	return pread(fd, buf, len, (off_t)off) == (ssize_t)len;
}

int elf_needed_runtime(const char *path, char *out, size_t len)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh, strsh;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -1;
	if (!read_at(fd, &eh, sizeof(eh), 0) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum > 4096) {
		close(fd);
		return -1;
	}
	for (unsigned i = 0; i < eh.e_shnum && !rc; i++) {
		if (!read_at(fd, &sh, sizeof(sh), eh.e_shoff + i * sizeof(sh)))
			break;
		if (sh.sh_type != SHT_DYNAMIC || sh.sh_link >= eh.e_shnum ||
		    !read_at(fd, &strsh, sizeof(strsh),
			     eh.e_shoff + sh.sh_link * sizeof(strsh)))
			continue;
		for (uint64_t o = 0; o + sizeof(Elf64_Dyn) <= sh.sh_size;
		     o += sizeof(Elf64_Dyn)) {
			Elf64_Dyn dyn;
			char name[256] = { 0 };

			if (!read_at(fd, &dyn, sizeof(dyn), sh.sh_offset + o) ||
			    dyn.d_tag == DT_NULL)
				break;
			if (dyn.d_tag != DT_NEEDED ||
			    dyn.d_un.d_val >= strsh.sh_size)
				continue;
			if (pread(fd, name, sizeof(name) - 1,
				  (off_t)(strsh.sh_offset + dyn.d_un.d_val)) <=
			    0)
				continue;
			if (is_sanitizer_runtime(name)) {
				snprintf(out, len, "%s", name);
				rc = 1;
				break;
			}
		}
	}
	close(fd);
	return rc;
}

struct find_ctx {
	const char *base;
	char *out;
	size_t len;
	bool found;
};

static int find_loaded(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct find_ctx *c = arg;
	const char *slash;

	if (!info->dlpi_name || !*info->dlpi_name)
		return 0;
	slash = strrchr(info->dlpi_name, '/');
	if (strcmp(slash ? slash + 1 : info->dlpi_name, c->base))
		return 0;
	snprintf(c->out, c->len, "%s", info->dlpi_name);
	c->found = true;
	return 1;
}

void runtime_path(const char *soname, char *out, size_t len)
{
	struct find_ctx c = { soname, out, len, false };

	dl_iterate_phdr(find_loaded, &c);
	if (!c.found)
		snprintf(out, len, "%s", soname);
}
