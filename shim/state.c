// SPDX-License-Identifier: MIT
/*
 * The preload's state: the machine of $IONEST_CONFIG (loaded on first
 * use), the device paths, the thread mark that lets library code reach
 * libc directly, and fork.
 *
 * Fork: the child gets a copy of this process, so of every ionest object;
 * its inherited fds keep working on that private copy (a map, a DMA or a
 * fault in the child is invisible to the parent and the reverse). For
 * the copy to be consistent, fork waits until no thread is inside the
 * library (a shared lock every library call holds). The fds are real
 * eventfds whose counters carry poll readiness; the child gets fresh
 * eventfds at the same numbers (and for the library's private duplicates,
 * found with kcmp(2)) so that readiness is not shared with the parent.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <ionest/ionest.h>

#include "machine/machine.h"
#include "shim.h"
#include "uapi/fdtable.h"

__thread int shim_depth __attribute__((tls_model("initial-exec")));

/* Writer-preferring, so a fork is not starved by a stream of calls. */
static pthread_rwlock_t fork_lock =
	PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static __thread bool fork_locked __attribute__((tls_model("initial-exec")));

static pthread_mutex_t machine_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ionest_machine *machine;
static int machine_state; /* 0 not tried, 1 loaded, -1 none, -2 broken */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

void shim_enter(void)
{
	if (shim_depth++ == 0)
		pthread_rwlock_rdlock(&fork_lock);
}

void shim_leave(void)
{
	int e = errno;

	if (--shim_depth == 0)
		pthread_rwlock_unlock(&fork_lock);
	errno = e;
}

/* ---- Fork ---- */

static void fork_prepare(void)
{
	/* A thread that forks from inside the library (never ours) would
	 * wait for itself. */
	fork_locked = shim_depth == 0;
	if (fork_locked)
		pthread_rwlock_wrlock(&fork_lock);
}

static void fork_parent(void)
{
	if (fork_locked)
		pthread_rwlock_unlock(&fork_lock);
	fork_locked = false;
}

/* The counter of eventfd @fd, from /proc (reading it would consume it). */
static uint64_t eventfd_count(int fd)
{
	char path[64], line[128];
	uint64_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "eventfd-count:", 14)) {
			v = strtoull(line + 14, NULL, 16);
			break;
		}
	}
	fclose(f);
	return v;
}

static bool same_file(int a, int b)
{
	pid_t p = getpid();

	return syscall(SYS_kcmp, p, p, KCMP_FILE, a, b) == 0;
}

/* Put a fresh eventfd with @r's counter and flags at every fd that refers
 * to @r's open file (our dups in @fds, and any private duplicate). */
static void fresh_eventfd(int r, const int *fds, int nfds)
{
	int fl = fcntl(r, F_GETFL), nfd, *hits = NULL, nhits = 0, cap = 0;
	bool kcmp_ok = syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, r, r) ==
		       0;
	DIR *dir = kcmp_ok ? opendir("/proc/self/fd") : NULL;

	nfd = eventfd((unsigned)eventfd_count(r),
		      EFD_CLOEXEC |
			      (fl >= 0 && (fl & O_NONBLOCK) ? EFD_NONBLOCK :
							      0));
	if (nfd < 0) {
		if (dir)
			closedir(dir);
		return;
	}
	/* First find every match, then replace: after a replacement @r is
	 * no longer the old file. */
	if (dir) {
		struct dirent *de;

		while ((de = readdir(dir))) {
			int x = atoi(de->d_name);

			if (de->d_name[0] < '0' || de->d_name[0] > '9' ||
			    x == nfd || x == dirfd(dir) || !same_file(x, r))
				continue;
			if (nhits == cap) {
				int *n = realloc(hits, (size_t)(cap + 16) *
							       sizeof(*n));

				if (!n)
					break;
				hits = n;
				cap += 16;
			}
			hits[nhits++] = x;
		}
		closedir(dir);
	}
	if (!hits) {
		/* No kcmp: at least our own numbers. */
		hits = (int *)fds;
		nhits = nfds;
	}
	for (int i = 0; i < nhits; i++) {
		int fdfl = fcntl(hits[i], F_GETFD);

		dup3(nfd, hits[i],
		     fdfl >= 0 && (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0);
	}
	if (hits != fds)
		free(hits);
	close(nfd);
}

static void fork_child(void)
{
	int lim = fdmap_limit(), *fds, n = 0;
	struct ionest_file **files;

	/* The lock was taken by a thread of the parent (the owner is
	 * recorded by thread id): start the child's afresh. */
	if (fork_locked) {
		pthread_rwlock_t fresh =
			PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

		memcpy(&fork_lock, &fresh, sizeof(fresh));
	}
	fork_locked = false;
	if (!__atomic_load_n(&machine, __ATOMIC_ACQUIRE) || !lim)
		return;
	shim_depth++; /* our own calls below go straight to libc */
	/* DMA in flight tracking: the child is a new process for
	 * membarrier(2). */
	syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0,
		0);
	fds = calloc((size_t)lim, sizeof(*fds));
	files = calloc((size_t)lim, sizeof(*files));
	if (fds && files) {
		for (int fd = 0; fd < lim; fd++) {
			if (!fdmap_test(fd) || !(files[n] = file_get(fd)))
				continue;
			fds[n++] = fd;
		}
		/* One fresh eventfd per open file (dup'd fds share one). */
		for (int i = 0; i < n; i++) {
			int grp[64], ng = 0;
			bool seen = false;

			for (int j = 0; j < i && !seen; j++)
				seen = files[j] == files[i];
			if (seen)
				continue;
			for (int j = i; j < n && ng < 64; j++) {
				if (files[j] == files[i])
					grp[ng++] = fds[j];
			}
			fresh_eventfd(fds[i], grp, ng);
		}
		for (int i = 0; i < n; i++)
			file_put(files[i]);
	}
	free(fds);
	free(files);
	shim_depth--;
}

static void atfork_register(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* ---- The machine ---- */

struct ionest_machine *shim_machine(void)
{
	int st = __atomic_load_n(&machine_state, __ATOMIC_ACQUIRE);
	char err[512];

	if (st)
		return st > 0 ? machine : NULL;
	pthread_mutex_lock(&machine_lock);
	if (!machine_state) {
		const char *cfg = getenv("IONEST_CONFIG");

		pthread_once(&atfork_once, atfork_register);
		file_set_install_hook(fdmap_set);
		if (cfg && *cfg) {
			machine = ionest_machine_load(cfg, err, sizeof(err));
			if (!machine)
				fprintf(stderr, "ionest-preload: %s\n", err);
		}
		__atomic_store_n(&machine_state,
				 machine     ? 1 :
				 cfg && *cfg ? -2 :
					       -1,
				 __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&machine_lock);
	return machine;
}

enum shim_kind shim_kind(int fd)
{
	struct ionest_file *f = file_get(fd);
	enum shim_kind k;

	if (!f) {
		/* A stale hint: clear it, then look again in case the fd
		 * was installed meanwhile (installs set the hint after the
		 * table entry). */
		fdmap_clear(fd);
		f = file_get(fd);
		if (!f)
			return SHIM_NOT_OURS;
		fdmap_set(fd);
	}
	if (!strcmp(f->ops->name, "iommufd"))
		k = SHIM_IOMMUFD;
	else if (!strcmp(f->ops->name, "vfio-device"))
		k = SHIM_VFIO_DEVICE;
	else
		k = SHIM_OTHER;
	file_put(f);
	return k;
}

/* ---- Device paths ---- */

enum shim_path shim_classify(const char *path, int *n)
{
	static const char devs[] = "/dev/vfio/devices/";
	const char *p;
	long v = 0;

	if (!shim_maybe_device(path))
		return SHIM_PATH_OTHER;
	if (!strcmp(path, "/dev/iommu"))
		return SHIM_PATH_IOMMU;
	if (!strcmp(path, "/dev/vfio/vfio"))
		return SHIM_PATH_CONTAINER;
	if (strncmp(path, devs, sizeof(devs) - 1))
		return SHIM_PATH_OTHER;
	p = path + sizeof(devs) - 1;
	if (strncmp(p, "vfio", 4) || !p[4] || (p[4] == '0' && p[5]))
		return SHIM_PATH_VFIO_BAD;
	for (p += 4; *p; p++) {
		if (*p < '0' || *p > '9' || v > 1000000)
			return SHIM_PATH_VFIO_BAD;
		v = v * 10 + (*p - '0');
	}
	*n = (int)v;
	return SHIM_PATH_VFIO_DEV;
}

enum shim_path shim_device_path(const char *path, int *n)
{
	enum shim_path k = shim_classify(path, n);
	struct ionest_machine *m;

	if (k == SHIM_PATH_OTHER)
		return k;
	m = shim_machine();
	/* No machine file: the paths are libc's. A broken one: they do not
	 * exist (never the host's real devices by mistake). */
	if (!m)
		return __atomic_load_n(&machine_state, __ATOMIC_ACQUIRE) == -2 ?
			       SHIM_PATH_VFIO_BAD :
			       SHIM_PATH_OTHER;
	if (k == SHIM_PATH_VFIO_DEV && !machine_device(m, *n))
		return SHIM_PATH_VFIO_BAD;
	return k;
}

__attribute__((constructor)) static void shim_init(void)
{
	for (int i = 0; i < R_NFNS; i++)
		real_fn((enum real_fn)i);
	pthread_once(&atfork_once, atfork_register);
}
