/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The device model: PCI functions, their class, IOMMU group and bound driver. */
#ifndef VU_DEVICE_H
#define VU_DEVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "out.h"
#include "pciaddr.h"

#define VU_DRIVER_MAX 64

struct vu_dev {
	char name[VU_NAME_MAX]; /* kernel name, "0000:01:00.0" */
	struct vu_addr addr;
	unsigned vendor, device;
	unsigned class; /* class, subclass, prog-if: 0x030000 */
	unsigned rev;
	int group;		    /* IOMMU group, -1 when the device has none */
	char driver[VU_DRIVER_MAX]; /* bound driver, "" when none */
};

/* Every device of the machine, in address order. */
struct vu_devs {
	struct vu_dev *v;
	size_t n;
	bool domains; /* some device lies outside domain 0: lspci then prints domains */
};

/* An IOMMU group and its members, in address order. */
struct vu_group {
	int num;
	struct vu_dev **members;
	size_t n;
};

struct vu_groups {
	struct vu_group *v;
	size_t n;
};

/*
 * These read sysfs, print "NAME: PATH: what failed" themselves (they alone
 * know the file) and return -errno; the caller only decides the exit status.
 */
int vu_dev_read(const char *name, struct vu_dev *d);
int vu_devs_scan(struct vu_devs *out);
void vu_devs_free(struct vu_devs *devs);
struct vu_dev *vu_devs_find(const struct vu_devs *devs, const char *name);
/* Groups from /sys/kernel/iommu_groups, in numeric order; none is not an error. */
int vu_groups_scan(const struct vu_devs *devs, struct vu_groups *out);
void vu_groups_free(struct vu_groups *groups);
const struct vu_group *vu_groups_find(const struct vu_groups *groups, int num);

/* PCI-to-PCI and host bridges: vfio-pci never takes them, a group may hold them. */
bool vu_dev_is_bridge(const struct vu_dev *d);
/* Display controllers, 3D controllers included (class 03xx). */
bool vu_dev_is_display(const struct vu_dev *d);
/* The GPU the firmware booted on (boot_vga 1): the host's screen. */
bool vu_dev_boot_vga(const struct vu_dev *d);
/* Say, the one way every command does, that D is in no IOMMU group. */
void vu_dev_err_no_group(const struct vu_dev *d);

/* Append D to the array *OUT of *N unless it is there; 0 or -ENOMEM. */
int vu_devs_add_unique(struct vu_dev ***out, size_t *n, struct vu_dev *d);
/*
 * Resolve command-line device arguments against DEVS, in argument order
 * without repeats. Each problem is reported: a malformed spelling stops
 * there with -EINVAL (the caller's usage error); an unknown device or an
 * ambiguous vendor:device without ALL gives -ENODEV once all are looked at.
 * 0 when every one resolved.
 */
int vu_devs_resolve(const struct vu_devs *devs, char *const *args, int nargs, bool all,
		    struct vu_dev ***out, size_t *nout);
/*
 * D as a device of the schema (vfio-utils(7)), appended to L: address,
 * group (null without one) and driver (null without one). The record, for
 * the command's own keys.
 */
struct vu_rec *vu_dev_rec(struct vu_list *l, const struct vu_dev *d);

#endif
