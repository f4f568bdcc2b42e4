/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The qemu.d hook tree: libvirt's events, which scripts an event runs, which are safe. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hooks.h"
#include "util.h"

const struct vu_hook_event vu_hook_events[] = {
	{ "prepare", "begin", true }, { "start", "begin", true },     { "started", "begin", true },
	{ "stopped", "end", false },  { "release", "end", false },    { "migrate", "begin", true },
	{ "restore", "begin", true }, { "reconnect", "begin", true },
};
const size_t vu_hook_nevents = VU_ARRAY_SIZE(vu_hook_events);

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

static bool trusted_uid(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/*
 * Whether looking NAME up in the real directory DIR is safe: only root (or
 * we) can change what the name leads to. A directory others can write to
 * lets them put another entry in its place, unless it is sticky like /tmp
 * and the entry is root's.
 */
static const char *lookup_unsafe(const char *dir, const char *name, char *why, size_t size)
{
	char entry[PATH_MAX];
	struct stat st;

	if (stat(dir, &st) < 0) {
		snprintf(why, size, "%s: %s", dir, strerror(errno));
		return why;
	}
	if (!trusted_uid(st.st_uid)) {
		snprintf(why, size, "%s: owned by uid %u: it could replace the script", dir,
			 (unsigned)st.st_uid);
		return why;
	}
	if (!(st.st_mode & 0022))
		return NULL;
	if (!(st.st_mode & S_ISVTX)) {
		snprintf(why, size, "%s: writable by %s: it could replace the script", dir,
			 st.st_mode & 0002 ? "everyone" : "its group");
		return why;
	}
	snprintf(entry, sizeof(entry), "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name);
	if (lstat(entry, &st) == 0 && !trusted_uid(st.st_uid)) {
		snprintf(
		    why, size,
		    "%s: owned by uid %u in a directory everyone can write to: its owner could replace it",
		    entry, (unsigned)st.st_uid);
		return why;
	}
	return NULL;
}

/*
 * Resolve PATH as the kernel does, one name at a time, every symbolic link
 * of the chain followed, and check each directory a name is looked up in:
 * a link in a directory a user can write to is as good as the user's own
 * script. REAL gets the file's real path, ST its stat.
 */
static int lookup_error(const char *path, int err, char *why, size_t size)
{
	snprintf(why, size, "%s: %s", path, strerror(err));
	return -err;
}

static int walk(const char *path, char *real, size_t rsize, struct stat *st, char *why, size_t size)
{
	char remaining[PATH_MAX * 2], cur[PATH_MAX] = "/", next[PATH_MAX];
	int links = 0;

	if (path[0] != '/' && !getcwd(cur, sizeof(cur)))
		return lookup_error(path, errno, why, size);
	snprintf(remaining, sizeof(remaining), "%s/%s", path[0] == '/' ? "" : cur, path);
	snprintf(cur, sizeof(cur), "/");
	for (char *p = remaining; *p;) {
		size_t len;
		char *comp;

		p += strspn(p, "/");
		if (!*p)
			break;
		len = strcspn(p, "/");
		comp = p;
		p += len;
		if (*p)
			*p++ = '\0';
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			char *slash = strrchr(cur, '/');

			slash[slash == cur] = '\0';
			continue;
		}
		if (lookup_unsafe(cur, comp, why, size))
			return 1;
		if ((size_t)snprintf(next, sizeof(next), "%s%s%s", cur, strcmp(cur, "/") ? "/" : "",
				     comp) >= sizeof(next))
			return lookup_error(path, ENAMETOOLONG, why, size);
		if (lstat(next, st) < 0)
			return lookup_error(next, errno, why, size);
		if (S_ISLNK(st->st_mode)) {
			char target[PATH_MAX], rest[PATH_MAX * 2];
			ssize_t n = readlink(next, target, sizeof(target) - 1);

			if (++links > 40 || n <= 0)
				return lookup_error(next, n <= 0 ? errno : ELOOP, why, size);
			target[n] = '\0';
			snprintf(rest, sizeof(rest), "%s/%s", target, p);
			snprintf(remaining, sizeof(remaining), "%s", rest);
			p = remaining;
			if (target[0] == '/')
				snprintf(cur, sizeof(cur), "/");
			continue;
		}
		snprintf(cur, sizeof(cur), "%s", next);
	}
	if (stat(cur, st) < 0)
		return lookup_error(cur, errno, why, size);
	snprintf(real, rsize, "%s", cur);
	return 0;
}

/* The interpreter a "#!" line names, checked as the script is, down the kernel's four levels. */
static const char *interpreter_unsafe(const char *script, int fd, int depth, char *why, size_t size)
{
	char line[256], interp[PATH_MAX], real[PATH_MAX], inner[PATH_MAX + 256];
	struct stat st;
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
	size_t start, len;
	const char *bad;
	int ifd, err;

	if (n < 2 || line[0] != '#' || line[1] != '!')
		return NULL;
	line[n] = '\0';
	start = 2 + strspn(line + 2, " \t");
	len = strcspn(line + start, " \t\n");
	snprintf(interp, sizeof(interp), "%.*s", (int)len, line + start);
	if (interp[0] != '/') {
		snprintf(why, size, "%s: its interpreter '%s' is not an absolute path", script,
			 interp);
		return why;
	}
	if (depth >= 4) {
		snprintf(why, size, "%s: interpreters nested too deep", script);
		return why;
	}
	/*
	 * One that does not exist fails to run, no more: a name the walk got
	 * to the end of can only be created by root.
	 */
	if ((err = walk(interp, real, sizeof(real), &st, inner, sizeof(inner))) < 0)
		return NULL;
	if (err > 0 || unsafe_stat(interp, &st, inner, sizeof(inner))) {
		snprintf(why, size, "%s runs %s, and %s", script, interp, inner);
		return why;
	}
	if ((ifd = open(real, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL; /* the kernel will say what it says */
	bad = interpreter_unsafe(interp, ifd, depth + 1, inner, sizeof(inner));
	close(ifd);
	if (bad) {
		snprintf(why, size, "%s runs %s", script, inner);
		return why;
	}
	return NULL;
}

const char *vu_hook_unsafe(const char *base, const char *path, char *why, size_t size, int *fdp)
{
	char dir[PATH_MAX], real[PATH_MAX];
	struct stat st, fst;
	size_t start;
	int fd;

	if (fdp)
		*fdp = -1;
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
	/* Every name of the way there, through every link, from /. */
	if (walk(path, real, sizeof(real), &st, why, size) != 0)
		return why;
	/*
	 * What runs is the file checked, held open: executed through its
	 * descriptor, nothing can swap it in between.
	 */
	if ((fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		snprintf(why, size, "%s: %s", real, strerror(errno));
		return why;
	}
	if (fstat(fd, &fst) < 0 || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
		snprintf(why, size, "%s: changed while it was checked", path);
		close(fd);
		return why;
	}
	if (unsafe_stat(path, &fst, why, size) || interpreter_unsafe(path, fd, 0, why, size)) {
		close(fd);
		return why;
	}
	if (fdp)
		*fdp = fd;
	else
		close(fd);
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

const char *const vu_hook_binds[] = { "vfio-bind", "nodedev-detach", NULL };
const char *const vu_hook_binds_groups[] = { "vfio-bind --group", "vfio-bind -g", NULL };
const char *const vu_hook_hands_over[] = {
	"dm-ctl stop", "vtcon unbind",	  "efifb unbind", "display-manager",
	"vtconsole",   "efi-framebuffer", NULL,
};

const char *const vu_hook_reserves_huge[] = { "vm-hugepages reserve", "nr_hugepages", NULL };
const char *const vu_hook_sets_priority[] = { "vm-prio set", "chrt", "renice", NULL };
const char *const vu_hook_needs_agent[] = {
	"--on-sleep suspend",	   "--on-sleep=suspend",      "--on-sleep hibernate",
	"--on-sleep=hibernate",	   "--on-shutdown shutdown",  "--on-shutdown=shutdown",
	"--on-shutdown hibernate", "--on-shutdown=hibernate", NULL,
};

bool vu_hook_says(const char *base, const char *guest, const char *op, const char *subop,
		  const char *const *words)
{
	struct vu_names scripts;
	bool says = false;

	if (!vu_hook_name_safe(guest) ||
	    vu_hook_scripts(base, guest, op, subop, &scripts, NULL) < 0)
		return false;
	for (size_t i = 0; i < scripts.n && !says; i++) {
		char buf[65536];
		ssize_t n;
		int fd = open(scripts.v[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		for (size_t k = 0; words[k] && !says; k++)
			says = strstr(buf, words[k]) != NULL;
	}
	vu_names_free(&scripts);
	return says;
}
