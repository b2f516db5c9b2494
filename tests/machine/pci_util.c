// SPDX-License-Identifier: MIT
#include <ionest/ionest.h>

#include "pci_util.h"
#include "test_util.h"

uint32_t cfg_read(int fd, uint32_t off, unsigned size)
{
	uint32_t v = 0;

	assert_int_equal(ionest_pread(fd, &v, size, (off_t)CFG_OFF(off)),
			 (ssize_t)size);
	return v;
}

void cfg_write(int fd, uint32_t off, unsigned size, uint32_t v)
{
	assert_int_equal(ionest_pwrite(fd, &v, size, (off_t)CFG_OFF(off)),
			 (ssize_t)size);
}

uint32_t bar_r32(int fd, uint32_t off)
{
	uint32_t v = 0;

	assert_int_equal(ionest_pread(fd, &v, 4, off), 4);
	return v;
}

uint64_t bar_r64(int fd, uint32_t off)
{
	uint64_t v = 0;

	assert_int_equal(ionest_pread(fd, &v, 8, off), 8);
	return v;
}

void bar_w32(int fd, uint32_t off, uint32_t v)
{
	assert_int_equal(ionest_pwrite(fd, &v, 4, off), 4);
}

void bar_w64(int fd, uint32_t off, uint64_t v)
{
	assert_int_equal(ionest_pwrite(fd, &v, 8, off), 8);
}

void pci_enable(int fd)
{
	cfg_write(fd, 4, 2, 0x6);
}
