// SPDX-License-Identifier: MIT
/*
 * The memory behind IOAS areas: a user VA range or a memfd range the
 * library maps itself (IOMMU_IOAS_MAP_FILE), shared by every area that
 * COPY made from it. Pages are "pinned" (validated and accounted against
 * the locked-memory limit) while an area using them sits in an IOAS with a
 * domain, as Linux pins them (iommufd-uapi.md §5: lazy without a domain).
 * Nothing is really pinned: the caller keeps the memory mapped.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <ionest/ionest.h>

#include "core/core.h"
#include "util/alloc.h"

static pthread_mutex_t pin_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t pinned_user, pinned_mm; /* pages */
static uint64_t pin_limit_override; /* bytes; 0 = Linux's rule */

static uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

static bool has_cap(unsigned cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = { { 0 } };

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

bool iommufd_capable_sys_resource(void)
{
	return has_cap(CAP_SYS_RESOURCE);
}

static uint64_t pin_limit_pages(void)
{
	uint64_t o = __atomic_load_n(&pin_limit_override, __ATOMIC_RELAXED);
	struct rlimit rl;

	if (o)
		return o == UINT64_MAX ? UINT64_MAX : o / iommufd_page_size;
	if (has_cap(CAP_IPC_LOCK))
		return UINT64_MAX;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return UINT64_MAX;
	return rl.rlim_cur / iommufd_page_size;
}

IONEST_API void ionest_set_pin_limit(uint64_t bytes)
{
	__atomic_store_n(&pin_limit_override, bytes, __ATOMIC_RELAXED);
}

IONEST_API void ionest_pinned_pages(uint64_t *user, uint64_t *mm)
{
	pthread_mutex_lock(&pin_lock);
	if (user)
		*user = pinned_user;
	if (mm)
		*mm = pinned_mm;
	pthread_mutex_unlock(&pin_lock);
}

static int account(bool mm, uint64_t npages)
{
	uint64_t *ctr = mm ? &pinned_mm : &pinned_user;
	uint64_t limit = pin_limit_pages();
	int rc = 0;

	pthread_mutex_lock(&pin_lock);
	if (*ctr + npages < *ctr || *ctr + npages > limit)
		rc = -ENOMEM;
	else
		*ctr += npages;
	pthread_mutex_unlock(&pin_lock);
	return rc;
}

static void unaccount(bool mm, uint64_t npages)
{
	pthread_mutex_lock(&pin_lock);
	if (mm)
		pinned_mm -= npages;
	else
		pinned_user -= npages;
	pthread_mutex_unlock(&pin_lock);
}

/*
 * Is [lo, hi) entirely mapped, readable, and writable if @write? Walks
 * /proc/self/maps (sorted by address). Pinning a range with a hole or
 * without the needed permission fails with EFAULT in Linux (GUP).
 */
struct maps_scan {
	uint64_t cur, hi;
	bool write, done, bad;
};

static void maps_line(struct maps_scan *s, const char *line)
{
	char *end;
	uint64_t start = strtoull(line, &end, 16), stop;

	if (*end != '-')
		return;
	stop = strtoull(end + 1, &end, 16);
	if (*end != ' ')
		return;
	end++;
	if (stop <= s->cur)
		return;
	if (start > s->cur || end[0] != 'r' || (s->write && end[1] != 'w')) {
		s->bad = true;
		return;
	}
	s->cur = stop;
	if (s->cur >= s->hi)
		s->done = true;
}

static int check_mapped(uint64_t lo, uint64_t hi, bool write)
{
	struct maps_scan s = { .cur = lo, .hi = hi, .write = write };
	char buf[8192];
	size_t have = 0;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0; /* cannot check: trust the caller */
	while (!s.done && !s.bad) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *line, *nl;

		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = 0;
		line = buf;
		while (!s.done && !s.bad && (nl = strchr(line, '\n'))) {
			*nl = 0;
			maps_line(&s, line);
			line = nl + 1;
		}
		if (line == buf && have == sizeof(buf) - 1) {
			/* one huge line: its address fields are in buf */
			maps_line(&s, line);
			have = 0;
			continue;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
	}
	close(fd);
	return s.done && !s.bad ? 0 : -EFAULT;
}

static struct iopt_pages *pages_alloc(uint64_t base_byte, uint64_t length,
				      bool writable, bool account_mm,
				      uint64_t *start_byte)
{
	uint64_t page = iommufd_page_size;
	struct iopt_pages *p = xzalloc(sizeof(*p));

	if (!p)
		return NULL;
	*start_byte = base_byte % page;
	p->refs = 1;
	p->writable = writable;
	p->account_mm = account_mm;
	p->npages = (*start_byte + length + page - 1) / page;
	p->length = p->npages * page;
	return p;
}

int iopt_pages_new_user(uint64_t uptr, uint64_t length, bool writable,
			bool account_mm, struct iopt_pages **out,
			uint64_t *start_byte)
{
	uint64_t end;
	struct iopt_pages *p;

	if (!length || length > UINT64_MAX - iommufd_page_size)
		return -EINVAL;
	if (add_overflows(uptr, length, &end) ||
	    end > UINT64_MAX - iommufd_page_size)
		return -EOVERFLOW;
	p = pages_alloc(uptr, length, writable, account_mm, start_byte);
	if (!p)
		return -ENOMEM;
	p->kind = IOPT_PAGES_USER;
	p->base = align_down(uptr, iommufd_page_size);
	*out = p;
	return 0;
}

int iopt_pages_new_file(int fd, uint64_t start, uint64_t length, bool writable,
			bool account_mm, struct iopt_pages **out,
			uint64_t *start_byte)
{
	struct stat st;
	struct statfs sfs;
	uint64_t end, gran, map_off, map_end;
	struct iopt_pages *p;
	void *map;

	if (fd < 0 || fstat(fd, &st))
		return -EBADF;
	if (!length)
		return -EINVAL;
	if (add_overflows(start, length, &end))
		return -EOVERFLOW;
	/* Only shmem (memfd, tmpfs) and hugetlbfs files can be pinned. */
	if (!S_ISREG(st.st_mode) || fstatfs(fd, &sfs) ||
	    (sfs.f_type != TMPFS_MAGIC && sfs.f_type != HUGETLBFS_MAGIC))
		return -EINVAL;
	if (end > (uint64_t)st.st_size)
		return -EINVAL;
	gran = iommufd_page_size;
	if (sfs.f_type == HUGETLBFS_MAGIC && sfs.f_bsize > 0)
		gran = (uint64_t)sfs.f_bsize;
	map_off = align_down(start, gran);
	map_end = align_down(end + gran - 1, gran);
	map = mmap(NULL, map_end - map_off,
		   PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd,
		   (off_t)map_off);
	if (map == MAP_FAILED)
		return errno == EACCES || errno == EPERM ? -EPERM : -ENOMEM;
	p = pages_alloc(start, length, writable, account_mm, start_byte);
	if (!p) {
		munmap(map, map_end - map_off);
		return -ENOMEM;
	}
	p->kind = IOPT_PAGES_FILE;
	p->map = map;
	p->map_len = map_end - map_off;
	p->file_off = align_down(start, iommufd_page_size);
	p->base = (uint64_t)(uintptr_t)map +
		  (align_down(start, iommufd_page_size) - map_off);
	*out = p;
	return 0;
}

void iopt_pages_get(struct iopt_pages *p)
{
	p->refs++;
}

void iopt_pages_put(struct iopt_pages *p)
{
	if (--p->refs)
		return;
	if (p->pinned)
		unaccount(p->account_mm, p->npages);
	if (p->map)
		munmap(p->map, p->map_len);
	xfree(p);
}

int iopt_pages_pin_user(struct iopt_pages *p)
{
	int rc;

	if (p->pin_users++)
		return 0;
	if (p->kind == IOPT_PAGES_USER) {
		rc = check_mapped(p->base, p->base + p->length, p->writable);
		if (rc)
			goto fail;
	}
	rc = account(p->account_mm, p->npages);
	if (rc)
		goto fail;
	p->pinned = true;
	return 0;
fail:
	p->pin_users--;
	return rc;
}

void iopt_pages_unpin_user(struct iopt_pages *p)
{
	if (--p->pin_users)
		return;
	if (p->pinned)
		unaccount(p->account_mm, p->npages);
	p->pinned = false;
}
