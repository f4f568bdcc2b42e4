/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Processes that hold device nodes open: what makes an unbind block in the kernel. */
#ifndef VU_HOLDERS_H
#define VU_HOLDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "device.h"
#include "sysfs.h"

struct vu_holder {
	pid_t pid;
	char comm[32];
	char node[64];
};

struct vu_holders {
	struct vu_holder *v;
	size_t n;
};

/*
 * The nodes of a device: DRM card and render nodes, /dev/nvidiaN, its sound
 * cards' /dev/snd nodes, and /dev/vfio/GROUP on vfio-pci.
 */
int vu_dev_nodes(const struct vu_dev *d, struct vu_names *out);
/* Every process holding one of NODES (paths as under /dev) open. */
int vu_holders_find(const struct vu_names *nodes, struct vu_holders *out);
/*
 * The same, an entry for each of NODES a process holds: one walk of /proc
 * (a walk of every process's descriptors) that serves several devices.
 */
int vu_holders_find_each(const struct vu_names *nodes, struct vu_holders *out);
/* Whether some entry of H is one of NODES. */
bool vu_holders_hold(const struct vu_holders *h, const struct vu_names *nodes);
void vu_holders_free(struct vu_holders *h);
/* "Xorg (1234), gnome-shell (1301)". */
void vu_holders_format(const struct vu_holders *h, char *buf, size_t size);

#endif
