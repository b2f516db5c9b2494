// SPDX-License-Identifier: MIT
/*
 * fork() of a program holding iommufd and device fds (docs/preload.md):
 * the child works on a private copy of every object. Its DMA lands in its
 * own memory, its maps and unmaps are not the parent's, it can open new
 * fds, and whatever it does leaves the parent's state as it was. A fork
 * while other threads are inside ioctls waits for them, so the copy is
 * consistent.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim_util.h"

struct env {
	int fd, dfd;
	uint32_t ioas;
	uint8_t *mem; /* 4 pages at 0x100000 */
};

static int setup(void **state)
{
	static struct env e;

	e.fd = iommufd_open();
	e.ioas = ioas_alloc(e.fd);
	e.mem = page_alloc(4 * PAGE);
	assert_int_equal(ioas_map(e.fd, e.ioas, e.mem, 4 * PAGE, 0x100000), 0);
	e.dfd = device_open(0, e.fd, e.ioas, NULL);
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	close(e->dfd);
	close(e->fd);
	page_free(e->mem, 4 * PAGE);
	return 0;
}

/* Run @fn in a child; its exit status (0 = every check held). */
static int in_child(int (*fn)(struct env *), struct env *e)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (!pid)
		_exit(fn(e));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static int child_dma(struct env *e)
{
	memcpy(e->mem, "child", 6);
	if (dma_copy(e->dfd, 0x100000, 0x101000, 6) != IONEST_DMA_ST_DONE)
		return 1;
	return memcmp(e->mem + PAGE, "child", 6) ? 2 : 0;
}

static void test_child_dma_private(void **state)
{
	struct env *e = *state;

	memcpy(e->mem, "parent", 7);
	assert_int_equal(in_child(child_dma, e), 0);
	/* Nothing reached the parent's memory. */
	assert_int_equal(e->mem[PAGE], 0);
	assert_int_equal(dma_copy(e->dfd, 0x100000, 0x102000, 7),
			 IONEST_DMA_ST_DONE);
	assert_string_equal((char *)e->mem + 2 * PAGE, "parent");
}

static int child_maps(struct env *e)
{
	uint8_t *m = page_alloc(PAGE);
	uint32_t ioas;
	int fd;

	/* A mapping of the child's own, and an unmap of the parent's. */
	if (ioas_map(e->fd, e->ioas, m, PAGE, 0x500000))
		return 1;
	if (ioas_unmap(e->fd, e->ioas, 0x100000, 4 * PAGE))
		return 2;
	if (dma_copy(e->dfd, 0x500000, 0x500010, 4) != IONEST_DMA_ST_DONE)
		return 3;
	/* New fds work too. */
	fd = open("/dev/iommu", O_RDWR);
	if (fd < 0)
		return 4;
	ioas = ioas_alloc(fd);
	if (!ioas || ioas_map(fd, ioas, m, PAGE, 0x1000))
		return 5;
	close(fd);
	/* And closing inherited ones is the child's business. */
	if (close(e->dfd) || close(e->fd))
		return 6;
	return 0;
}

static void test_child_objects_private(void **state)
{
	struct env *e = *state;

	assert_int_equal(in_child(child_maps, e), 0);
	/* The parent's IOAS is as it was. */
	assert_int_equal(ioas_unmap(e->fd, e->ioas, 0x500000, PAGE), -ENOENT);
	assert_int_equal(dma_copy(e->dfd, 0x100000, 0x103000, 8),
			 IONEST_DMA_ST_DONE);
}

static int stop;

static void *ioctl_loop(void *arg)
{
	int fd = *(int *)arg;
	long bad = 0;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		struct iommu_ioas_alloc a = { .size = sizeof(a) };
		struct iommu_destroy d = { .size = sizeof(d) };

		if (ioctl(fd, IOMMU_IOAS_ALLOC, &a)) {
			bad++;
			continue;
		}
		d.id = a.out_ioas_id;
		bad += ioctl(fd, IOMMU_DESTROY, &d) != 0;
	}
	return (void *)bad;
}

static int child_uses_copy(struct env *e)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	if (ioctl(e->fd, IOMMU_IOAS_ALLOC, &a))
		return 1;
	return dma_copy(e->dfd, 0x100000, 0x101000, 16) == IONEST_DMA_ST_DONE ?
		       0 :
		       2;
}

static void test_fork_during_ioctls(void **state)
{
	struct env *e = *state;
	pthread_t t[2];
	void *bad;

	for (int i = 0; i < 2; i++)
		assert_int_equal(
			pthread_create(&t[i], NULL, ioctl_loop, &e->fd), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(in_child(child_uses_copy, e), 0);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], &bad), 0);
		assert_null(bad);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_child_dma_private, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_child_objects_private,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_during_ioctls, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
