/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which devices the host is using: mounted filesystems, swap, network interfaces that are up. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inuse.h"
#include "sysfs.h"

static struct vu_inuse *entry(struct vu_inuse_list *l, const char *dev)
{
	struct vu_inuse *v;

	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].dev, dev) == 0)
			return &l->v[i];
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	l->v = v;
	v = &l->v[l->n++];
	snprintf(v->dev, sizeof(v->dev), "%s", dev);
	v->why[0] = '\0';
	return v;
}

/* Add "holds /" or extend "holds /, /home"; other reasons join with "; ". */
static void add_reason(struct vu_inuse_list *l, const char *dev, const char *verb, const char *what)
{
	struct vu_inuse *e = entry(l, dev);
	size_t len, vlen = strlen(verb);
	char *last;

	if (!e)
		return;
	len = strlen(e->why);
	last = strrchr(e->why, ';');
	last = last ? last + 2 : e->why;
	if (len && strncmp(last, verb, vlen) == 0 && last[vlen] == ' ')
		snprintf(e->why + len, sizeof(e->why) - len, ", %s", what);
	else
		snprintf(e->why + len, sizeof(e->why) - len, "%s%s %s", len ? "; " : "", verb,
			 what);
}

/* The PCI function a sysfs device path sits below: its last PCI address component. */
static int pci_ancestor(const char *path, char dev[VU_NAME_MAX])
{
	char copy[PATH_MAX], *save, *c;
	int found = 0;

	snprintf(copy, sizeof(copy), "%s", path);
	for (c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		struct vu_addr a;

		if (vu_addr_from_name(c, &a) == 0) {
			vu_addr_name(&a, dev);
			found = 1;
		}
	}
	return found;
}

/* Block device NAME and, through dm/md "slaves", whatever lies beneath it. */
static void block_users(struct vu_inuse_list *l, const char *name, const char *verb,
			const char *what, int depth)
{
	char path[PATH_MAX], real[PATH_MAX], dev[VU_NAME_MAX];
	struct vu_names slaves;

	if (depth > 8 || vu_path(path, sizeof(path), "/sys/class/block/%s", name) < 0 ||
	    !realpath(path, real))
		return;
	if (!strstr(real, "/virtual/")) {
		if (pci_ancestor(real, dev))
			add_reason(l, dev, verb, what);
		return;
	}
	if (vu_path(path, sizeof(path), "/sys/class/block/%s/slaves", name) < 0 ||
	    vu_listdir(path, &slaves) < 0)
		return;
	for (size_t i = 0; i < slaves.n; i++)
		block_users(l, slaves.v[i], verb, what, depth + 1);
	vu_names_free(&slaves);
}

/* "/dev/mapper/root" -> "dm-0", following the links below the sysroot. */
static int dev_node_name(const char *node, char *name, size_t size)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;

	if (strncmp(node, "/dev/", 5) != 0)
		return -EINVAL;
	snprintf(target, sizeof(target), "%s", node);
	for (int hops = 0; hops < 8; hops++) {
		char dir[PATH_MAX];

		if (vu_path(path, sizeof(path), "%s", target) < 0)
			return -ENAMETOOLONG;
		if (vu_readlink(path, dir, sizeof(dir)) < 0)
			break;
		if (dir[0] == '/') {
			snprintf(target, sizeof(target), "%s", dir);
		} else {
			char *slash = strrchr(target, '/');

			*slash = '\0';
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", target, dir) >=
			    sizeof(path))
				return -ENAMETOOLONG;
			memcpy(target, path, sizeof(target));
		}
	}
	base = strrchr(target, '/') + 1;
	snprintf(name, size, "%s", base);
	return 0;
}

/* mountinfo escapes blanks as \040. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++, d++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] && s[3]) {
			*d = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*d = *s;
		}
	}
	*d = '\0';
}

static void scan_mounts(struct vu_inuse_list *l)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	FILE *f;

	if (vu_path(path, sizeof(path), "/proc/self/mountinfo") < 0 || !(f = fopen(path, "re")))
		return;
	while (getline(&line, &cap, f) > 0) {
		char majmin[32], target[PATH_MAX], source[PATH_MAX], name[NAME_MAX + 1];
		char *sep = strstr(line, " - ");
		char link[PATH_MAX];

		if (!sep || sscanf(line, "%*s %*s %31s %*s %4095s", majmin, target) != 2 ||
		    sscanf(sep + 3, "%*s %4095s", source) != 1)
			continue;
		unescape(target);
		/* btrfs and friends show an anonymous 0:N: fall back to the source. */
		if (vu_path(path, sizeof(path), "/sys/dev/block/%s", majmin) == 0 &&
		    vu_readlink(path, link, sizeof(link)) >= 0) {
			char *base = strrchr(link, '/');

			block_users(l, base ? base + 1 : link, "holds", target, 0);
		} else if (dev_node_name(source, name, sizeof(name)) == 0) {
			block_users(l, name, "holds", target, 0);
		}
	}
	free(line);
	fclose(f);
}

static void scan_swaps(struct vu_inuse_list *l)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	FILE *f;

	if (vu_path(path, sizeof(path), "/proc/swaps") < 0 || !(f = fopen(path, "re")))
		return;
	while (getline(&line, &cap, f) > 0) {
		char node[PATH_MAX], name[NAME_MAX + 1];

		if (sscanf(line, "%4095s", node) == 1 &&
		    dev_node_name(node, name, sizeof(name)) == 0)
			block_users(l, name, "holds", "swap", 0);
	}
	free(line);
	fclose(f);
}

static void scan_net(struct vu_inuse_list *l)
{
	char path[PATH_MAX], real[PATH_MAX], dev[VU_NAME_MAX];
	struct vu_names ifs;

	if (vu_path(path, sizeof(path), "/sys/class/net") < 0 || vu_listdir(path, &ifs) < 0)
		return;
	for (size_t i = 0; i < ifs.n; i++) {
		unsigned long flags;

		if (vu_path(path, sizeof(path), "/sys/class/net/%s", ifs.v[i]) < 0 ||
		    !realpath(path, real) || !pci_ancestor(real, dev))
			continue;
		/* IFF_UP: administratively up, whether or not a cable is in. */
		if (vu_path(path, sizeof(path), "/sys/class/net/%s/flags", ifs.v[i]) == 0 &&
		    vu_read_ulong(path, &flags) == 0 && (flags & 1)) {
			char what[NAME_MAX + 16];

			snprintf(what, sizeof(what), "%s is up", ifs.v[i]);
			add_reason(l, dev, "interface", what);
		}
	}
	vu_names_free(&ifs);
}

int vu_inuse_scan(struct vu_inuse_list *out)
{
	out->v = NULL;
	out->n = 0;
	scan_mounts(out);
	scan_swaps(out);
	scan_net(out);
	return 0;
}

void vu_inuse_free(struct vu_inuse_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

const char *vu_inuse_why(const struct vu_inuse_list *l, const char *dev)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].dev, dev) == 0 && l->v[i].why[0])
			return l->v[i].why;
	return NULL;
}
