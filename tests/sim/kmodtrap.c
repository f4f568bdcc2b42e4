/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kmodtrap.so: preloaded under the simulator, it turns the module load and
 * unload system calls into requests to the simulated kernel. Nothing else is
 * trapped: libkmod and modprobe read the simulated module tree as they read
 * a real one. Without a sysroot it refuses, so it never reaches the real kernel.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "modtree.h"

/* What the commands look for before a module system call below a sysroot. */
extern const int vu_kmodtrap_active;
const int vu_kmodtrap_active = 1;

int init_module(void *image, unsigned long len, const char *params);
int finit_module(int fd, const char *params, int flags);
int delete_module(const char *name, unsigned int flags);
long syscall(long nr, ...);

static int request(const char *verb, const char *name)
{
	const char *root = getenv("VFIO_UTILS_SYSROOT");
	char path[PATH_MAX], cmd[256];
	ssize_t n;
	int fd, err;

	if (!root || !*root || strcmp(root, "/") == 0) {
		errno = EPERM;
		return -1;
	}
	snprintf(path, sizeof(path), "%s/.simfs/modules", root);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		errno = ENOSYS;
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "%s %s", verb, name);
	n = write(fd, cmd, strlen(cmd));
	err = errno;
	close(fd);
	if (n < 0) {
		errno = err;
		return -1;
	}
	return 0;
}

int init_module(void *image, unsigned long len, const char *params)
{
	char name[64];

	(void)params;
	if (modtree_image_name(image, len, name, sizeof(name)) < 0) {
		errno = ENOEXEC;
		return -1;
	}
	return request("load", name);
}

int finit_module(int fd, const char *params, int flags)
{
	struct stat st;
	void *image;
	int ret;

	(void)flags;
	if (fstat(fd, &st) < 0)
		return -1;
	image = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (image == MAP_FAILED)
		return -1;
	ret = init_module(image, (unsigned long)st.st_size, params);
	munmap(image, (size_t)st.st_size);
	return ret;
}

int delete_module(const char *name, unsigned int flags)
{
	(void)flags;
	return request("unload", name);
}

long syscall(long nr, ...)
{
	static long (*real)(long, ...);
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	switch (nr) {
	case SYS_init_module:
		return init_module((void *)a[0], (unsigned long)a[1], (const char *)a[2]);
	case SYS_finit_module:
		return finit_module((int)a[0], (const char *)a[1], (int)a[2]);
	case SYS_delete_module:
		return delete_module((const char *)a[0], (unsigned int)a[1]);
	}
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
