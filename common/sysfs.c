/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sysroot-aware access to sysfs, procfs and the other system trees. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysfs.h"

static char sysroot[PATH_MAX];

int vu_sysroot_set(const char *dir)
{
	char real[PATH_MAX];
	struct stat st;
	size_t len;

	if (!dir)
		dir = getenv("VFIO_UTILS_SYSROOT");
	if (!dir || !*dir)
		dir = "/";
	/* Absolute, so that dry-run output and libpci's sysfs.path work from any cwd. */
	if (!realpath(dir, real))
		return -errno;
	if (stat(real, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	len = strlen(real);
	if (len == 1)
		len = 0;
	memcpy(sysroot, real, len);
	sysroot[len] = '\0';
	return 0;
}

const char *vu_hex_range(const char *s, char sep, unsigned long long *start,
			 unsigned long long *end)
{
	char *p;

	errno = 0;
	*start = strtoull(s, &p, 16);
	if (p == s || errno || *p != sep)
		return NULL;
	s = p + 1;
	*end = strtoull(s, &p, 16);
	return p == s || errno ? NULL : p;
}

const char *vu_sysroot(void)
{
	return sysroot;
}

static int vpath(char *buf, size_t size, const char *fmt, va_list ap)
{
	size_t rlen = strlen(sysroot);
	int n;

	if (rlen >= size)
		return -ENAMETOOLONG;
	memcpy(buf, sysroot, rlen + 1);
	n = vsnprintf(buf + rlen, size - rlen, fmt, ap);
	if (n < 0 || (size_t)n >= size - rlen)
		return -ENAMETOOLONG;
	return 0;
}

int vu_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = vpath(buf, size, fmt, ap);
	va_end(ap);
	return err;
}

int vu_readf(char *buf, size_t size, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	return err < 0 ? err : vu_read(path, buf, size);
}

bool vu_existsf(const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	return err == 0 && vu_exists(path);
}

const char *vu_unrooted(const char *path)
{
	size_t rlen = strlen(sysroot);

	if (rlen && strncmp(path, sysroot, rlen) == 0 && path[rlen] == '/')
		return path + rlen;
	return path;
}

int vu_read(const char *path, char *buf, size_t size)
{
	return vu_read_at(AT_FDCWD, path, buf, size);
}

int vu_read_at(int dirfd, const char *name, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size);
	if (n < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	if ((size_t)n == size)
		return -EOVERFLOW;
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return (int)n;
}

int vu_read_ulong(const char *path, unsigned long *val)
{
	return vu_read_ulong_at(AT_FDCWD, path, val);
}

int vu_read_ulong_at(int dirfd, const char *name, unsigned long *val)
{
	char buf[64], *end;
	int n = vu_read_at(dirfd, name, buf, sizeof(buf));

	if (n < 0)
		return n;
	errno = 0;
	*val = strtoul(buf, &end, 0);
	if (errno || end == buf || (*end && *end != '\n'))
		return -EINVAL;
	return 0;
}

int vu_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	/* sysfs reports some errors only at close. */
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

int vu_readlink(const char *path, char *buf, size_t size)
{
	ssize_t n = readlinkat(AT_FDCWD, path, buf, size);

	if (n < 0)
		return -errno;
	if ((size_t)n == size)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return (int)n;
}

int vu_link_name(const char *path, char *buf, size_t size)
{
	return vu_link_name_at(AT_FDCWD, path, buf, size);
}

int vu_link_name_at(int dirfd, const char *name, char *buf, size_t size)
{
	char target[PATH_MAX];
	const char *base;
	size_t len;
	ssize_t n = readlinkat(dirfd, name, target, sizeof(target));

	if (n < 0)
		return -errno;
	if ((size_t)n == sizeof(target))
		return -ENAMETOOLONG;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	len = strlen(base);
	if (len >= size)
		return -ENAMETOOLONG;
	memcpy(buf, base, len + 1);
	return (int)len;
}

bool vu_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static int cmp_version(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

int vu_listdir(const char *path, struct vu_names *out)
{
	struct dirent *e;
	size_t cap = 0;
	DIR *dir;

	out->v = NULL;
	out->n = 0;
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		if (out->n == cap) {
			char **v = realloc(out->v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!v)
				goto nomem;
			out->v = v;
		}
		out->v[out->n] = strdup(e->d_name);
		if (!out->v[out->n])
			goto nomem;
		out->n++;
	}
	closedir(dir);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_version);
	return 0;
nomem:
	closedir(dir);
	vu_names_free(out);
	return -ENOMEM;
}

int vu_names_add(struct vu_names *l, const char *s)
{
	char **v;

	if (!l)
		return 0;
	if (!(v = realloc(l->v, (l->n + 1) * sizeof(*v))))
		return -ENOMEM;
	l->v = v;
	if (!(l->v[l->n] = strdup(s)))
		return -ENOMEM;
	l->n++;
	return 0;
}

bool vu_names_has(const struct vu_names *l, const char *s)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

int vu_names_add_unique(struct vu_names *l, const char *s)
{
	return vu_names_has(l, s) ? 0 : vu_names_add(l, s);
}

void vu_names_free(struct vu_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* mkdir -p DIR (0755): 0, or -errno of the first directory that could not be made. */
int vu_mkdir_p(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *c = path + 1;; c++)
		if (*c == '/' || !*c) {
			char end = *c;

			*c = '\0';
			if (mkdir(path, 0755) < 0 && errno != EEXIST)
				return -errno;
			if (!end)
				return 0;
			*c = end;
		}
}

int vu_file_replace(const char *path, mode_t mode, void (*fill)(FILE *f, const void *arg),
		    const void *arg)
{
	char tmp[PATH_MAX + 8];
	int fd, err = 0;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	/* Whatever is there (a FIFO would block an open) goes; the new file is made new. */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		unlink(tmp);
		return err;
	}
	fill(f, arg);
	/* On disk before the rename: a crash leaves the old file or the new one, never half. */
	if (fflush(f) != 0 || fsync(fd) != 0)
		err = -errno;
	if (fclose(f) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static void text_fill(FILE *f, const void *text)
{
	fputs(text, f);
}

int vu_file_write_text(const char *path, mode_t mode, const char *text)
{
	char dir[PATH_MAX], *slash;
	int err;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		if ((err = vu_mkdir_p(dir)) < 0)
			return err;
	}
	return vu_file_replace(path, mode, text_fill, text);
}
