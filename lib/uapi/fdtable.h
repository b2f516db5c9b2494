/* SPDX-License-Identifier: MIT */
/*
 * Open files of the library behind real file descriptors. Each open makes an
 * eventfd, so the number is a real, unique fd (poll, dup, close-on-exec
 * behave), and a thread-safe table maps it to a struct ionest_file, which
 * is reference counted like a kernel struct file: an ioctl in progress
 * keeps its file alive across a concurrent close.
 */
#ifndef IONEST_UAPI_FDTABLE_H
#define IONEST_UAPI_FDTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ionest_file;

struct ionest_file_ops {
	const char *name; /* "iommufd", "vfio-device", ... */
	/* >= 0 or -errno */
	long (*ioctl)(struct ionest_file *f, unsigned long req, void *arg);
	ssize_t (*read)(struct ionest_file *f, void *buf, size_t n);
	ssize_t (*write)(struct ionest_file *f, const void *buf, size_t n);
	/* The last reference is gone: free priv. */
	void (*release)(struct ionest_file *f);
};

struct ionest_file {
	const struct ionest_file_ops *ops;
	unsigned refs;
	int fd;
	void *priv;
};

/* A file with one reference (the table's once installed). */
struct ionest_file *file_new(const struct ionest_file_ops *ops, void *priv);
/* Give @f an fd (O_CLOEXEC / O_NONBLOCK from @flags). Returns the fd or
 * -errno; on failure @f is untouched (still the caller's). */
int file_install(struct ionest_file *f, int flags);
/* The file behind @fd with a reference, or NULL. */
struct ionest_file *file_get(int fd);
void file_put(struct ionest_file *f);
/* Drop a reference unless it is the last one (then false, and the caller
 * still holds it): for dropping one where the release cannot run. */
bool file_put_unless_last(struct ionest_file *f);
/* Remove @fd from the table and close it: -EBADF if not ours. */
int file_close(int fd);
/* The same, only if @fd still refers to @f (a number the caller may have
 * closed and the system reused is left alone): -EBADF otherwise. */
int file_close_file(int fd, struct ionest_file *f);

/* ---- For the preload library (shim/) ---- */
/* @fn learns of every fd installed, also those ioctls create (fault and
 * vEVENTQ fds), so the preload can keep a lock-free "maybe ours" map. */
void file_set_install_hook(void (*fn)(int fd));
/* @newfd was made a duplicate of @oldfd (dup, dup2, dup3, F_DUPFD): it
 * refers to the same file from now on, and an entry @newfd had is
 * dropped. 0, -EBADF (@oldfd is not ours) or -ENOMEM. */
int file_dup(int oldfd, int newfd);
/* Drop @fd from the table without closing it: the descriptor was closed
 * or replaced behind the table's back (dup2 onto it). -EBADF if absent. */
int file_forget(int fd);

#endif
