/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Device names from libpci, exactly as lspci prints them. */
#ifndef VU_PCINAMES_H
#define VU_PCINAMES_H

#include <stddef.h>

#include "device.h"

struct pci_access;

/* lspci's buffer sizes: longer names are cut exactly where lspci cuts them. */
#define VU_PCI_NAME_MAX 128

/*
 * libpci for names only. A sysroot that carries its own PCI ID database
 * (at the path libpci uses, e.g. usr/share/misc/pci.ids) names devices as
 * that machine did, and udev's hwdb is then not consulted.
 */
struct pci_access *vu_pci_open(void);
void vu_pci_close(struct pci_access *pacc);

/* What `lspci -nns` prints after the slot. */
void vu_pci_describe(struct pci_access *pacc, const struct vu_dev *d, char *buf, size_t size);
/* Plain names, NULL where the database has none. */
const char *vu_pci_class_name(struct pci_access *pacc, const struct vu_dev *d, char *buf,
			      size_t size);
const char *vu_pci_vendor_name(struct pci_access *pacc, const struct vu_dev *d, char *buf,
			       size_t size);
const char *vu_pci_device_name(struct pci_access *pacc, const struct vu_dev *d, char *buf,
			       size_t size);

#endif
