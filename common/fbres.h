/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the firmware framebuffer holds of a GPU's memory, as /proc/iomem shows it. */
#ifndef VU_FBRES_H
#define VU_FBRES_H

#include <stdbool.h>
#include <stddef.h>

#include "pciaddr.h"

/*
 * A framebuffer's range inside a PCI device's BAR: "BOOTFB" (the resource of
 * a simple-framebuffer device, kept until the device is unregistered, its
 * driver bound or not), or "efifb", "vesafb", "simplefb", "simpledrm" (what
 * those drivers reserve while bound). vfio-pci binds all the same; QEMU's
 * request for the whole BAR fails when it maps it ("BAR N: can't reserve").
 */
struct vu_fbres {
	char name[16];
	unsigned long long start, end;
	char dev[VU_NAME_MAX]; /* the device whose memory holds it, "" when none */
	int bar;	       /* its BAR, -1 when no BAR of the device holds it whole */
};

/* Every such range of /proc/iomem, in its order; 0 or -errno (none is not an error). */
int vu_fbres_scan(struct vu_fbres **out, size_t *n);
/* The kernel's version as major * 1000 + minor (6.1 is 6001), from the sysroot; 0 unknown. */
int vu_kernel_version(void);
/*
 * Whether binding DEV to vfio-pci releases a reservation in its memory:
 * Linux 6.0 and later unregister the firmware framebuffer of a VGA-class
 * (0x0300) device as vfio-pci takes it.
 */
bool vu_fbres_evicted(unsigned dev_class);

#endif
