/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Device names from libpci, exactly as lspci prints them. */
#ifndef VU_PCINAMES_H
#define VU_PCINAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "device.h"

struct pci_access;
struct pci_filter;

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

/*
 * lspci's selectors, parsed by libpci itself: SLOT as -s takes it
 * ([[domain:]bus:][slot][.func]), ID as -d ([vendor]:[device][:class[:prog-if]]);
 * either may be NULL. NULL when both parse, else what is wrong with which.
 */
const char *vu_pci_filter(struct pci_access *pacc, struct pci_filter *f, const char *slot,
			  const char *id);
/* Whether D matches F, as lspci decides it. */
bool vu_pci_match(struct pci_access *pacc, struct pci_filter *f, const struct vu_dev *d);

#endif
