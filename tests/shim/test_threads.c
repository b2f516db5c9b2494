// SPDX-License-Identifier: MIT
/*
 * Many threads at once: ioctls on one iommufd, opens and closes racing
 * with unrelated fds that reuse the same numbers, and DMA through two
 * devices while their address space changes elsewhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "shim_util.h"

#define NTHREADS 6
#define ROUNDS 150

struct job {
	int fd, dfd, id;
	uint32_t ioas;
	uint8_t *mem;
	long errors;
};

static void *map_loop(void *arg)
{
	struct job *j = arg;
	uint64_t iova = 0x1000000ull * (uint64_t)(j->id + 1);

	for (int i = 0; i < ROUNDS; i++) {
		j->errors += ioas_map(j->fd, j->ioas, j->mem, PAGE, iova) != 0;
		j->errors += ioas_unmap(j->fd, j->ioas, iova, PAGE) != 0;
	}
	return NULL;
}

static void test_ioctls_one_fd(void **state)
{
	int fd = iommufd_open();
	struct job j[NTHREADS];
	pthread_t t[NTHREADS];
	uint32_t shared = ioas_alloc(fd);
	uint8_t *mem = page_alloc(PAGE);

	/* Half the threads share an IOAS, half have their own. */
	for (int i = 0; i < NTHREADS; i++) {
		j[i] = (struct job){ .fd = fd, .id = i, .mem = mem };
		j[i].ioas = i & 1 ? shared : ioas_alloc(fd);
		assert_int_equal(pthread_create(&t[i], NULL, map_loop, &j[i]),
				 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(j[i].errors, 0);
	}
	close(fd);
	page_free(mem, PAGE);
}

static void *open_close_loop(void *arg)
{
	struct job *j = arg;

	for (int i = 0; i < ROUNDS; i++) {
		int fd = open("/dev/iommu", O_RDWR), d;
		struct iommu_ioas_alloc a = { .size = sizeof(a) };

		if (fd < 0) {
			j->errors++;
			continue;
		}
		d = dup(fd);
		j->errors += ioctl(d, IOMMU_IOAS_ALLOC, &a) != 0;
		j->errors += close(fd) != 0;
		j->errors += ioctl(d, IOMMU_IOAS_ALLOC, &a) != 0;
		j->errors += close(d) != 0;
	}
	return NULL;
}

/* Plain pipes whose numbers our fds just had: data must reach them. */
static void *pipe_loop(void *arg)
{
	struct job *j = arg;

	for (int i = 0; i < ROUNDS; i++) {
		uint64_t out = 0x1122334455667788ull + (uint64_t)i, in = 0;
		int p[2];

		if (pipe(p)) {
			j->errors++;
			continue;
		}
		j->errors += write(p[1], &out, 8) != 8;
		j->errors += read(p[0], &in, 8) != 8 || in != out;
		close(p[0]);
		close(p[1]);
	}
	return NULL;
}

static void test_open_close_races(void **state)
{
	struct job j[NTHREADS];
	pthread_t t[NTHREADS];

	for (int i = 0; i < NTHREADS; i++) {
		j[i] = (struct job){ .id = i };
		assert_int_equal(pthread_create(&t[i], NULL,
						i & 1 ? pipe_loop :
							open_close_loop,
						&j[i]),
				 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(j[i].errors, 0);
	}
}

static void *dma_loop(void *arg)
{
	struct job *j = arg;

	for (int i = 0; i < ROUNDS; i++) {
		uint32_t off = (uint32_t)(i % 64) * 8;

		j->mem[off] = (uint8_t)i;
		j->errors += dma_copy(j->dfd, 0x100000 + off, 0x101000 + off,
				      8) != IONEST_DMA_ST_DONE;
		j->errors += j->mem[PAGE + off] != (uint8_t)i;
	}
	return NULL;
}

static void test_dma_while_mapping(void **state)
{
	int fd = iommufd_open();
	uint32_t ioas = ioas_alloc(fd);
	uint8_t *mem[2] = { page_alloc(2 * PAGE), page_alloc(2 * PAGE) };
	uint8_t *other = page_alloc(PAGE);
	struct job j[3];
	pthread_t t[3];

	/* Each device has its own window of the same IOAS. */
	for (int i = 0; i < 2; i++) {
		uint32_t pt = ioas_alloc(fd);

		assert_int_equal(ioas_map(fd, pt, mem[i], 2 * PAGE, 0x100000),
				 0);
		j[i] = (struct job){ .fd = fd, .mem = mem[i], .id = i };
		j[i].dfd = device_open(i, fd, pt, NULL);
		assert_int_equal(pthread_create(&t[i], NULL, dma_loop, &j[i]),
				 0);
	}
	j[2] = (struct job){ .fd = fd, .ioas = ioas, .mem = other, .id = 2 };
	assert_int_equal(pthread_create(&t[2], NULL, map_loop, &j[2]), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(j[i].errors, 0);
	}
	close(j[0].dfd);
	close(j[1].dfd);
	close(fd);
	page_free(mem[0], 2 * PAGE);
	page_free(mem[1], 2 * PAGE);
	page_free(other, PAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ioctls_one_fd),
		cmocka_unit_test(test_open_close_races),
		cmocka_unit_test(test_dma_while_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
