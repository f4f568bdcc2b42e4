/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The qemu.d hook tree: libvirt's events, which scripts an event runs, which are safe. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hooks.h"

const struct vu_hook_event vu_hook_events[] = {
	{ "prepare", "begin", true }, { "start", "begin", true },     { "started", "begin", true },
	{ "stopped", "end", false },  { "release", "end", false },    { "migrate", "begin", true },
	{ "restore", "begin", true }, { "reconnect", "begin", true },
};
const size_t vu_hook_nevents = sizeof(vu_hook_events) / sizeof(*vu_hook_events);

const struct vu_hook_event *vu_hook_event(const char *op, const char *subop)
{
	for (size_t i = 0; i < vu_hook_nevents; i++)
		if (strcmp(vu_hook_events[i].op, op) == 0 &&
		    strcmp(vu_hook_events[i].subop, subop) == 0)
			return &vu_hook_events[i];
	return NULL;
}

bool vu_hook_op_known(const char *op)
{
	for (size_t i = 0; i < vu_hook_nevents; i++)
		if (strcmp(vu_hook_events[i].op, op) == 0)
			return true;
	return false;
}

bool vu_hook_name_safe(const char *name)
{
	return *name && !strchr(name, '/') && !strchr(name, '\n') && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

bool vu_hook_name_skipped(const char *name)
{
	return name[0] == '.' || ends_with(name, "~") || ends_with(name, ".bak") ||
	       strstr(name, ".dpkg-") || strstr(name, ".rpmnew") || strstr(name, ".rpmsave") ||
	       strstr(name, ".rpmorig");
}

static const char *unsafe_stat(const char *path, const struct stat *st, char *why, size_t size)
{
	if (st->st_uid != geteuid()) {
		snprintf(why, size,
			 "%s: owned by uid %u, not by %s: it could change what runs as root", path,
			 (unsigned)st->st_uid, geteuid() == 0 ? "root" : "this user");
		return why;
	}
	if (st->st_mode & 0022) {
		snprintf(why, size, "%s: writable by %s: it could change what runs as root", path,
			 st->st_mode & 0002 ? "everyone" : "its group");
		return why;
	}
	return NULL;
}

const char *vu_hook_unsafe(const char *base, const char *path, char *why, size_t size)
{
	char dir[PATH_MAX];
	struct stat st;
	size_t start;

	if (stat(path, &st) < 0) {
		snprintf(why, size, "%s: %s", path, strerror(errno));
		return why;
	}
	if (unsafe_stat(path, &st, why, size))
		return why;
	/* Every directory from qemu.d down: whoever can rename in one can swap the script. */
	snprintf(dir, sizeof(dir), "%s", path);
	start = strlen(base) + strlen("/qemu.d");
	for (char *slash = strrchr(dir, '/'); slash && (size_t)(slash - dir) >= start;
	     slash = strrchr(dir, '/')) {
		*slash = '\0';
		if (stat(dir, &st) == 0 && unsafe_stat(dir, &st, why, size))
			return why;
	}
	/*
	 * Where the script really is (a link may lead out of qemu.d), every
	 * directory up to /: one that someone else can write to, unless it is
	 * sticky like /tmp, lets them put another file in its place.
	 */
	if (!realpath(path, dir)) {
		snprintf(why, size, "%s: %s", path, strerror(errno));
		return why;
	}
	for (char *slash = strrchr(dir, '/'); slash; slash = strrchr(dir, '/')) {
		slash[slash == dir] = '\0'; /* "/x" leaves "/" */
		if (stat(dir, &st) < 0)
			continue;
		if (st.st_uid != 0 && st.st_uid != geteuid()) {
			snprintf(why, size, "%s: owned by uid %u: it could replace the script", dir,
				 (unsigned)st.st_uid);
			return why;
		}
		if ((st.st_mode & 0022) && !(st.st_mode & S_ISVTX)) {
			snprintf(why, size, "%s: writable by %s: it could replace the script", dir,
				 st.st_mode & 0002 ? "everyone" : "its group");
			return why;
		}
		if (slash == dir)
			break;
	}
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vu_hook_scripts(const char *base, const char *guest, const char *op, const char *subop,
		    struct vu_names *scripts, struct vu_names *skipped)
{
	char path[PATH_MAX];
	struct dirent *e;
	struct stat st;
	DIR *d;
	int err = 0;

	scripts->v = NULL;
	scripts->n = 0;
	if (skipped) {
		skipped->v = NULL;
		skipped->n = 0;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/qemu.d/%s/%s/%s", base, guest, op, subop) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	if (stat(path, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	if (S_ISREG(st.st_mode))
		return access(path, X_OK) == 0 ? vu_names_add(scripts, path)
					       : vu_names_add(skipped, path);
	if (!S_ISDIR(st.st_mode) || !(d = opendir(path)))
		return 0;
	while (!err && (e = readdir(d))) {
		char file[PATH_MAX];

		if (vu_hook_name_skipped(e->d_name))
			continue;
		if ((size_t)snprintf(file, sizeof(file), "%s/%s", path, e->d_name) >= sizeof(file))
			continue;
		/* Links are followed, as the guides' find -L does. */
		if (stat(file, &st) == 0 && S_ISREG(st.st_mode) && access(file, X_OK) == 0)
			err = vu_names_add(scripts, file);
		else
			err = vu_names_add(skipped, file);
	}
	closedir(d);
	/* strcmp order, whatever the directory's own order or the locale. */
	if (scripts->n)
		qsort(scripts->v, scripts->n, sizeof(*scripts->v), cmp_str);
	if (skipped && skipped->n)
		qsort(skipped->v, skipped->n, sizeof(*skipped->v), cmp_str);
	return err;
}
