// SPDX-License-Identifier: MIT
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_util.h"

void test_rng_seed(struct test_rng *r, uint64_t seed)
{
	r->s = seed ? seed : 0x9e3779b97f4a7c15ull;
}

uint64_t test_rng_next(struct test_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

uint64_t test_rng_below(struct test_rng *r, uint64_t n)
{
	return test_rng_next(r) % n;
}

void test_arena_init(struct test_arena *a, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	assert_true(p != MAP_FAILED);
	a->base = p;
	a->size = size;
	a->used = 0;
}

void *test_arena_alloc(struct test_arena *a, size_t size, size_t align)
{
	uintptr_t start = ((uintptr_t)a->base + a->used + align - 1) &
			  ~(uintptr_t)(align - 1);

	assert_true(start + size <= (uintptr_t)a->base + a->size);
	a->used = start + size - (uintptr_t)a->base;
	memset((void *)start, 0, size);
	return (void *)start;
}

void test_arena_fini(struct test_arena *a)
{
	munmap(a->base, a->size);
	a->base = NULL;
}

static const char *watchdog_what;

static void watchdog_fire(int sig)
{
	static const char msg[] = ": watchdog expired (deadlock?)\n";
	const char *w = watchdog_what ? watchdog_what : "test";

	(void)sig;
	/* Only async-signal-safe calls here. */
	if (write(STDERR_FILENO, w, strlen(w)) < 0 ||
	    write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

void test_watchdog(unsigned seconds, const char *what)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watchdog_fire;
	sigemptyset(&sa.sa_mask);
	watchdog_what = what;
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	alarm(seconds);
}

void test_watchdog_stop(void)
{
	alarm(0);
}
