/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PCI device addresses and the spellings users meet in the guides. */
#ifndef VU_PCIADDR_H
#define VU_PCIADDR_H

#include <stdbool.h>

/* "0000:01:00.0" plus room for the 5+ digit domains of VMD bridges. */
#define VU_NAME_MAX 20

struct vu_addr {
	unsigned domain, bus, dev, func;
};

enum vu_devarg_kind {
	VU_DEVARG_ADDR, /* 0000:01:00.0, 01:00.0, 1:0.0, pci_0000_01_00_0 */
	VU_DEVARG_ID,	/* 10de:1f03 */
};

struct vu_devarg {
	enum vu_devarg_kind kind;
	struct vu_addr addr;
	unsigned vendor, device;
};

/* 0, or -EINVAL when S is none of the accepted spellings. */
int vu_devarg_parse(const char *s, struct vu_devarg *out);
/* Strict kernel name as found in sysfs ("0000:01:00.0"). */
int vu_addr_from_name(const char *name, struct vu_addr *a);
/* Kernel name, "0000:01:00.0". */
void vu_addr_name(const struct vu_addr *a, char buf[VU_NAME_MAX]);
/* lspci's slot, "01:00.0", with the domain only when asked. */
void vu_addr_slot(const struct vu_addr *a, bool domain, char buf[VU_NAME_MAX]);
/* virsh node-device name, "pci_0000_01_00_0". */
void vu_addr_virsh(const struct vu_addr *a, char buf[VU_NAME_MAX + 8]);
int vu_addr_cmp(const struct vu_addr *a, const struct vu_addr *b);
/* Functions of one slot: same domain, bus and device. */
bool vu_addr_same_slot(const struct vu_addr *a, const struct vu_addr *b);

#define VU_DEVARG_HELP "0000:01:00.0, 01:00.0, pci_0000_01_00_0 or vendor:device like 10de:1f03"

#endif
