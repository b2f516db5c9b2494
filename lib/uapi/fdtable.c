// SPDX-License-Identifier: MIT
/* The fd -> struct ionest_file table. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "uapi/fdtable.h"
#include "util/alloc.h"

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ionest_file **table;
static size_t table_len;
static void (*install_hook)(int fd);

struct ionest_file *file_new(const struct ionest_file_ops *ops, void *priv)
{
	struct ionest_file *f = xzalloc(sizeof(*f));

	if (!f)
		return NULL;
	f->ops = ops;
	f->refs = 1;
	f->fd = -1;
	f->priv = priv;
	return f;
}

int file_install(struct ionest_file *f, int flags)
{
	int efd_flags = 0, fd;

	if (flags & O_CLOEXEC)
		efd_flags |= EFD_CLOEXEC;
	if (flags & O_NONBLOCK)
		efd_flags |= EFD_NONBLOCK;
	fd = eventfd(0, efd_flags);
	if (fd < 0)
		return -errno;
	pthread_mutex_lock(&table_lock);
	if ((size_t)fd >= table_len) {
		size_t nlen = table_len ? table_len : 64;
		struct ionest_file **n;

		while (nlen <= (size_t)fd)
			nlen *= 2;
		n = xrealloc(table, nlen * sizeof(*n));
		if (!n) {
			pthread_mutex_unlock(&table_lock);
			close(fd);
			return -ENOMEM;
		}
		memset(n + table_len, 0, (nlen - table_len) * sizeof(*n));
		table = n;
		table_len = nlen;
	}
	f->fd = fd;
	table[fd] = f;
	pthread_mutex_unlock(&table_lock);
	if (install_hook)
		install_hook(fd);
	return fd;
}

struct ionest_file *file_get(int fd)
{
	struct ionest_file *f = NULL;

	if (fd < 0)
		return NULL;
	pthread_mutex_lock(&table_lock);
	if ((size_t)fd < table_len && table[fd]) {
		f = table[fd];
		f->refs++;
	}
	pthread_mutex_unlock(&table_lock);
	return f;
}

void file_put(struct ionest_file *f)
{
	unsigned left;

	pthread_mutex_lock(&table_lock);
	left = --f->refs;
	pthread_mutex_unlock(&table_lock);
	if (left)
		return;
	if (f->ops->release)
		f->ops->release(f);
	xfree(f);
}

int file_close(int fd)
{
	struct ionest_file *f = NULL;

	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&table_lock);
	if ((size_t)fd < table_len) {
		f = table[fd];
		table[fd] = NULL;
	}
	pthread_mutex_unlock(&table_lock);
	if (!f)
		return -EBADF;
	/* Out of the table before the number can be reused. */
	close(fd);
	file_put(f);
	return 0;
}

bool file_put_unless_last(struct ionest_file *f)
{
	bool done = false;

	pthread_mutex_lock(&table_lock);
	if (f->refs > 1) {
		f->refs--;
		done = true;
	}
	pthread_mutex_unlock(&table_lock);
	return done;
}

int file_close_file(int fd, struct ionest_file *f)
{
	bool ours = false;

	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&table_lock);
	if ((size_t)fd < table_len && table[fd] == f) {
		table[fd] = NULL;
		ours = true;
	}
	pthread_mutex_unlock(&table_lock);
	if (!ours)
		return -EBADF;
	close(fd);
	file_put(f);
	return 0;
}

void file_set_install_hook(void (*fn)(int fd))
{
	install_hook = fn;
}

/* Room for table[fd]; table_lock held. */
static int table_reserve(int fd)
{
	size_t nlen = table_len ? table_len : 64;
	struct ionest_file **n;

	if ((size_t)fd < table_len)
		return 0;
	while (nlen <= (size_t)fd)
		nlen *= 2;
	n = xrealloc(table, nlen * sizeof(*n));
	if (!n)
		return -ENOMEM;
	memset(n + table_len, 0, (nlen - table_len) * sizeof(*n));
	table = n;
	table_len = nlen;
	return 0;
}

int file_dup(int oldfd, int newfd)
{
	struct ionest_file *f = NULL, *old = NULL;
	int rc;

	if (oldfd < 0 || newfd < 0)
		return -EBADF;
	pthread_mutex_lock(&table_lock);
	if ((size_t)oldfd < table_len)
		f = table[oldfd];
	rc = f ? table_reserve(newfd) : -EBADF;
	if (!rc && f != table[newfd]) {
		old = table[newfd];
		f->refs++;
		table[newfd] = f;
	}
	pthread_mutex_unlock(&table_lock);
	if (old)
		file_put(old);
	if (!rc && install_hook)
		install_hook(newfd);
	return rc;
}

int file_forget(int fd)
{
	struct ionest_file *f = NULL;

	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&table_lock);
	if ((size_t)fd < table_len) {
		f = table[fd];
		table[fd] = NULL;
	}
	pthread_mutex_unlock(&table_lock);
	if (!f)
		return -EBADF;
	file_put(f);
	return 0;
}
