/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An in-memory file tree: what the simulator serves and mkroot writes out. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tree.h"

static struct t_node **inodes;
static unsigned long ninodes;

static void *xcalloc(size_t n, size_t s)
{
	void *p = calloc(n ? n : 1, s);

	if (!p) {
		perror("sim");
		exit(1);
	}
	return p;
}

static struct t_node *new_node(const char *name, enum t_type type, mode_t mode)
{
	struct t_node *n = xcalloc(1, sizeof(*n));

	n->name = strdup(name);
	n->type = type;
	n->mode = mode;
	if (ninodes % 1024 == 0) {
		struct t_node **grown = realloc(inodes, (ninodes + 1024) * sizeof(struct t_node *));

		if (!grown) {
			perror("sim");
			exit(1);
		}
		inodes = grown;
	}
	if (!n->name) {
		perror("sim");
		exit(1);
	}
	/* FUSE reserves inode 1 for the root; slot 0 stays empty. */
	if (ninodes == 0)
		inodes[ninodes++] = NULL;
	n->ino = ninodes;
	inodes[ninodes++] = n;
	return n;
}

struct t_node *t_by_ino(unsigned long ino)
{
	return ino < ninodes ? inodes[ino] : NULL;
}

struct t_node *t_new_root(void)
{
	return new_node("", T_DIR, 0755);
}

static size_t find_kid(const struct t_node *dir, const char *name, bool *found)
{
	size_t lo = 0, hi = dir->nkids;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(dir->kids[mid]->name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

struct t_node *t_child(struct t_node *dir, const char *name)
{
	bool found;
	size_t i;

	if (!dir || dir->type != T_DIR)
		return NULL;
	i = find_kid(dir, name, &found);
	return found && dir->kids ? dir->kids[i] : NULL;
}

static void add_kid(struct t_node *dir, struct t_node *n)
{
	struct t_node **kids;
	bool found;
	size_t i = find_kid(dir, n->name, &found);

	if (found && dir->kids) {
		t_remove(dir->kids[i]);
		i = find_kid(dir, n->name, &found);
	}
	if (!(kids = realloc(dir->kids, (dir->nkids + 1) * sizeof(struct t_node *)))) {
		perror("sim");
		exit(1);
	}
	dir->kids = kids;
	memmove(dir->kids + i + 1, dir->kids + i, (dir->nkids - i) * sizeof(struct t_node *));
	dir->kids[i] = n;
	dir->nkids++;
	n->parent = dir;
}

struct t_node *t_lookup(struct t_node *root, const char *path)
{
	char buf[PATH_MAX], *save, *c;
	struct t_node *n = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (c = strtok_r(buf, "/", &save); c && n; c = strtok_r(NULL, "/", &save))
		n = t_child(n, c);
	return n;
}

struct t_node *t_resolve(struct t_node *root, const char *path)
{
	char buf[PATH_MAX], *save, *c;
	struct t_node *n = root;
	int hops = 0;

	snprintf(buf, sizeof(buf), "%s", path);
	for (c = strtok_r(buf, "/", &save); c && n; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			n = n->parent ? n->parent : n;
			continue;
		}
		n = t_child(n, c);
		while (n && n->type == T_LINK && hops++ < 16) {
			char target[PATH_MAX];
			struct t_node *dir = n->parent;

			/* Relative targets resolve from the link's directory. */
			if (n->data[0] == '/') {
				n = t_resolve(root, n->data);
				continue;
			}
			t_path(dir, target, sizeof(target));
			snprintf(target + strlen(target), sizeof(target) - strlen(target), "/%s",
				 n->data);
			n = t_resolve(root, target);
		}
	}
	return n;
}

/* Directory holding the last component of PATH, created as needed. */
static struct t_node *parent_of(struct t_node *root, const char *path, const char **base)
{
	char buf[PATH_MAX];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", path);
	slash = strrchr(buf, '/');
	*base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (!slash || slash == buf)
		return root;
	*slash = '\0';
	return t_mkdir(root, buf);
}

struct t_node *t_mkdir(struct t_node *root, const char *path)
{
	char buf[PATH_MAX], *save, *c;
	struct t_node *n = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		struct t_node *k = t_child(n, c);

		if (!k || k->type != T_DIR) {
			k = new_node(c, T_DIR, 0755);
			add_kid(n, k);
		}
		n = k;
	}
	return n;
}

void t_set_data(struct t_node *n, const char *data, size_t len)
{
	free(n->data);
	n->data = xcalloc(len + 1, 1);
	memcpy(n->data, data, len);
	n->len = len;
}

struct t_node *t_file(struct t_node *root, const char *path, mode_t mode, const char *data,
		      size_t len)
{
	const char *base;
	struct t_node *dir = parent_of(root, path, &base);
	struct t_node *n = new_node(base, T_FILE, mode);

	t_set_data(n, data, len);
	add_kid(dir, n);
	return n;
}

struct t_node *t_filef(struct t_node *root, const char *path, mode_t mode, const char *fmt, ...)
{
	char *data;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vasprintf(&data, fmt, ap);
	va_end(ap);
	if (len < 0) {
		perror("sim");
		exit(1);
	}
	struct t_node *n = t_file(root, path, mode, data, (size_t)len);
	free(data);
	return n;
}

struct t_node *t_link(struct t_node *root, const char *path, const char *target)
{
	char rel[PATH_MAX] = "";
	const char *base, *p = path, *t = target;
	struct t_node *dir = parent_of(root, path, &base);
	struct t_node *n = new_node(base, T_LINK, 0777);
	size_t common = 0, len = 0;

	/* Longest common directory prefix, then one ".." per remaining level. */
	for (size_t i = 0; p[i] && p[i] == t[i]; i++)
		if (p[i] == '/')
			common = i + 1;
	for (const char *c = path + common; *c; c++)
		if (*c == '/')
			len += (size_t)snprintf(rel + len, sizeof(rel) - len, "../");
	snprintf(rel + len, sizeof(rel) - len, "%s", target + common);
	t_set_data(n, rel, strlen(rel));
	add_kid(dir, n);
	return n;
}

void t_free(struct t_node *n)
{
	for (size_t i = 0; i < n->nkids; i++)
		t_free(n->kids[i]);
	inodes[n->ino] = NULL;
	free(n->kids);
	free(n->data);
	free(n->name);
	free(n);
}

static void mark_removed(struct t_node *n)
{
	n->removed = true;
	for (size_t i = 0; i < n->nkids; i++)
		mark_removed(n->kids[i]);
}

void t_remove(struct t_node *n)
{
	struct t_node *dir = n->parent;

	if (dir) {
		bool found;
		size_t i = find_kid(dir, n->name, &found);

		if (found && dir->kids[i] == n) {
			memmove(dir->kids + i, dir->kids + i + 1,
				(dir->nkids - i - 1) * sizeof(struct t_node *));
			dir->nkids--;
		}
	}
	n->parent = NULL;
	/*
	 * The kernel may still hold the inode number: keep the node, marked,
	 * so that a late getattr answers ENOENT instead of touching freed memory.
	 */
	mark_removed(n);
}

void t_path(const struct t_node *n, char *buf, size_t size)
{
	if (!n->parent) {
		snprintf(buf, size, "%s", n->name[0] ? n->name : "");
		return;
	}
	t_path(n->parent, buf, size);
	size_t len = strlen(buf);
	snprintf(buf + len, size - len, "/%s", n->name);
}

static int dump(struct t_node *n, int dirfd)
{
	for (size_t i = 0; i < n->nkids; i++) {
		struct t_node *k = n->kids[i];
		int fd, err = 0;

		switch (k->type) {
		case T_DIR:
			if (mkdirat(dirfd, k->name, k->mode) < 0 && errno != EEXIST)
				return -errno;
			fd = openat(dirfd, k->name, O_RDONLY | O_DIRECTORY);
			if (fd < 0)
				return -errno;
			err = dump(k, fd);
			close(fd);
			break;
		case T_FILE:
			fd = openat(dirfd, k->name, O_WRONLY | O_CREAT | O_TRUNC, k->mode | 0200);
			if (fd < 0)
				return -errno;
			if (write(fd, k->data, k->len) != (ssize_t)k->len)
				err = -EIO;
			fchmod(fd, k->mode);
			close(fd);
			break;
		case T_LINK:
			unlinkat(dirfd, k->name, 0);
			if (symlinkat(k->data, dirfd, k->name) < 0)
				return -errno;
			break;
		}
		if (err)
			return err;
	}
	return 0;
}

int t_dump(struct t_node *root, const char *dir)
{
	char parents[PATH_MAX];
	int fd, err;

	snprintf(parents, sizeof(parents), "%s", dir);
	for (char *c = parents + 1; *c; c++)
		if (*c == '/') {
			*c = '\0';
			mkdir(parents, 0755);
			*c = '/';
		}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -errno;
	err = dump(root, fd);
	close(fd);
	return err;
}
