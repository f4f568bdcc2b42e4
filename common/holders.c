/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Processes that hold device nodes open: what makes an unbind block in the kernel. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "holders.h"
#include "util.h"

/*
 * The nodes of D's sound cards (an HDMI audio function's): snd_hda_intel's
 * remove waits, without end and deaf to signals, until every one is closed.
 */
static void sound_nodes(const struct vu_dev *d, struct vu_names *out)
{
	static const char *const kinds[] = { "controlC", "pcmC", "hwC", "midiC" };
	char path[PATH_MAX], node[300];
	struct vu_names cards, entries;

	if (vu_path(path, sizeof(path), "/sys/bus/pci/devices/%s/sound", d->name) < 0 ||
	    vu_listdir(path, &cards) < 0)
		return;
	for (size_t c = 0; c < cards.n; c++) {
		if (strncmp(cards.v[c], "card", 4) != 0 ||
		    vu_path(path, sizeof(path), "/sys/bus/pci/devices/%s/sound/%s", d->name,
			    cards.v[c]) < 0 ||
		    vu_listdir(path, &entries) < 0)
			continue;
		for (size_t e = 0; e < entries.n; e++)
			for (size_t k = 0; k < VU_ARRAY_SIZE(kinds); k++)
				if (strncmp(entries.v[e], kinds[k], strlen(kinds[k])) == 0) {
					snprintf(node, sizeof(node), "/dev/snd/%s", entries.v[e]);
					vu_names_add(out, node);
				}
		vu_names_free(&entries);
	}
	vu_names_free(&cards);
}

int vu_dev_nodes(const struct vu_dev *d, struct vu_names *out)
{
	char path[PATH_MAX], node[64], info[4096];
	struct vu_names drm;
	const char *minor;

	out->v = NULL;
	out->n = 0;
	if (vu_path(path, sizeof(path), "/sys/bus/pci/devices/%s/drm", d->name) == 0 &&
	    vu_listdir(path, &drm) == 0) {
		for (size_t i = 0; i < drm.n; i++) {
			if (strncmp(drm.v[i], "card", 4) != 0 &&
			    strncmp(drm.v[i], "renderD", 7) != 0)
				continue;
			snprintf(node, sizeof(node), "/dev/dri/%s", drm.v[i]);
			vu_names_add(out, node);
		}
		vu_names_free(&drm);
	}
	/* nvidia names its nodes by minor, which only its proc file tells. */
	if (vu_readf(info, sizeof(info), "/proc/driver/nvidia/gpus/%s/information", d->name) > 0 &&
	    (minor = strstr(info, "Device Minor:"))) {
		snprintf(node, sizeof(node), "/dev/nvidia%ld", strtol(minor + 13, NULL, 10));
		vu_names_add(out, node);
	}
	if (strcmp(d->driver, "vfio-pci") == 0 && d->group >= 0) {
		snprintf(node, sizeof(node), "/dev/vfio/%d", d->group);
		vu_names_add(out, node);
	}
	sound_nodes(d, out);
	return 0;
}

void vu_holders_free(struct vu_holders *h)
{
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	if (S_ISCHR(a->st_mode) && S_ISCHR(b->st_mode))
		return a->st_rdev == b->st_rdev;
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/*
 * A /proc/PID/fd link names the node as the process opened it: "/dev/dri/card0"
 * on the host, the node's real path below a sysroot. A process in another
 * mount namespace or root (a container, a chroot) names it by a path that
 * means nothing here: a link with the node's base name is then stat'ed, and
 * the same device (or file) is a match.
 */
static const char *match(const char *target, const struct vu_names *nodes, char **real,
			 const struct stat *nst, bool live, int dfd, const char *fd)
{
	struct stat st;
	bool stated = false;

	for (size_t i = 0; i < nodes->n; i++) {
		bool host = !*vu_sysroot() || !live;

		if ((host && strcmp(target, nodes->v[i]) == 0) ||
		    (real[i] && strcmp(target, real[i]) == 0))
			return nodes->v[i];
	}
	for (size_t i = 0; live && i < nodes->n; i++) {
		if (!nst[i].st_mode || strcmp(base_name(target), base_name(nodes->v[i])) != 0)
			continue;
		if (!stated && fstatat(dfd, fd, &st, 0) < 0)
			return NULL;
		stated = true;
		if (same_file(&st, &nst[i]))
			return nodes->v[i];
	}
	return NULL;
}

/* Whether OUT has PID holding NODE already, among its entries from FIRST on. */
static bool recorded(const struct vu_holders *out, size_t first, pid_t pid, const char *node)
{
	for (size_t i = first; i < out->n; i++)
		if (out->v[i].pid == pid && strcmp(out->v[i].node, node) == 0)
			return true;
	return false;
}

/* EACH: an entry for each node a process holds; else one names the process. */
static int holders_scan(const struct vu_names *nodes, struct vu_holders *out, bool each)
{
	char path[PATH_MAX], **real;
	struct vu_names procs;
	struct stat *nst;
	int err;

	out->v = NULL;
	out->n = 0;
	if (nodes->n == 0)
		return 0;
	if ((err = vu_path(path, sizeof(path), "/proc")) < 0 ||
	    (err = vu_listdir(path, &procs)) < 0)
		return err;
	real = calloc(nodes->n, sizeof(*real));
	nst = calloc(nodes->n, sizeof(*nst));
	for (size_t i = 0; real && nst && i < nodes->n; i++) {
		if (vu_path(path, sizeof(path), "%s", nodes->v[i]) < 0)
			continue;
		if (*vu_sysroot())
			real[i] = realpath(path, NULL);
		if (stat(path, &nst[i]) < 0)
			nst[i].st_mode = 0;
	}
	for (size_t p = 0; real && nst && p < procs.n; p++) {
		const char *pid = procs.v[p];
		struct dirent *e;
		DIR *fds;
		int dfd;

		struct stat st;
		bool live;

		/* One open of the fd directory, then readlinkat: no path walk per descriptor. */
		if (strspn(pid, "0123456789") != strlen(pid) ||
		    vu_path(path, sizeof(path), "/proc/%s", pid) < 0 || lstat(path, &st) < 0 ||
		    vu_path(path, sizeof(path), "/proc/%s/fd", pid) < 0 ||
		    (dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			continue;
		/*
		 * A live process (the real one, or the simulator's link to it) names the node
		 * by its real path: below a sysroot, a bare /dev path is the host's node, not
		 * ours. Only a captured tree's own /proc writes the bare path.
		 */
		live = !*vu_sysroot() || S_ISLNK(st.st_mode);
		if (!(fds = fdopendir(dfd))) {
			close(dfd);
			continue;
		}
		size_t first = out->n;

		while ((e = readdir(fds))) {
			char target[PATH_MAX];
			const char *node;
			struct vu_holder *v;
			ssize_t len;
			pid_t id = (pid_t)strtol(pid, NULL, 10);

			if (e->d_name[0] == '.' ||
			    (len = readlinkat(dfd, e->d_name, target, sizeof(target) - 1)) < 0)
				continue;
			target[len] = '\0';
			if (!(node = match(target, nodes, real, nst, live, dfd, e->d_name)) ||
			    recorded(out, first, id, node))
				continue;
			if (!(v = realloc(out->v, (out->n + 1) * sizeof(*v))))
				break;
			out->v = v;
			v = &out->v[out->n++];
			v->pid = id;
			snprintf(v->node, sizeof(v->node), "%s", node);
			if (vu_readf(v->comm, sizeof(v->comm), "/proc/%s/comm", pid) < 0)
				snprintf(v->comm, sizeof(v->comm), "?");
			if (!each)
				break; /* one node is enough to name the process */
		}
		closedir(fds);
	}
	for (size_t i = 0; real && i < nodes->n; i++)
		free(real[i]);
	free(real);
	free(nst);
	vu_names_free(&procs);
	return 0;
}

int vu_holders_find(const struct vu_names *nodes, struct vu_holders *out)
{
	return holders_scan(nodes, out, false);
}

int vu_holders_find_each(const struct vu_names *nodes, struct vu_holders *out)
{
	return holders_scan(nodes, out, true);
}

bool vu_holders_hold(const struct vu_holders *h, const struct vu_names *nodes)
{
	for (size_t i = 0; i < h->n; i++)
		if (vu_names_has(nodes, h->v[i].node))
			return true;
	return false;
}

void vu_holders_format(const struct vu_holders *h, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < h->n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s (%d)", i ? ", " : "",
					h->v[i].comm, (int)h->v[i].pid);
}
