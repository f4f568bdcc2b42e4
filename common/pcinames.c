/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Device names from libpci, exactly as lspci prints them. */
#include <limits.h>
#include <pci/pci.h>
#include <stdarg.h>
#include <stdnoreturn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "pcinames.h"
#include "sysfs.h"

/* As libpci declares its error hook (clang tells the attribute from _Noreturn). */
__attribute__((__noreturn__)) static void pci_die(char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vu_err("libpci: %s", msg);
	exit(VU_EXIT_FAIL);
}

static void pci_warn(char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vu_warn("libpci: %s", msg);
}

static void pci_quiet(char *fmt, ...)
{
	(void)fmt;
}

/* The database below the sysroot at libpci's own path, with or without .gz. */
static void sysroot_ids(struct pci_access *pacc)
{
	char path[PATH_MAX];
	size_t len;

	if (!*vu_sysroot() || vu_path(path, sizeof(path), "%s", pacc->id_file_name) < 0)
		return;
	len = strlen(path);
	if (!vu_exists(path) && len > 3 && strcmp(path + len - 3, ".gz") == 0)
		path[len - 3] = '\0';
	if (!vu_exists(path))
		return;
	pci_set_name_list_path(pacc, strdup(path), 1);
	pci_set_param(pacc, "hwdb.disable", "1");
}

struct pci_access *vu_pci_open(void)
{
	char sysfs[PATH_MAX];
	struct pci_access *pacc = pci_alloc();

	if (!pacc)
		pci_die("cannot allocate");
	pacc->error = pci_die;
	pacc->warning = pci_warn;
	pacc->debug = pci_quiet;
	pacc->method = PCI_ACCESS_SYS_BUS_PCI;
	if (vu_path(sysfs, sizeof(sysfs), "/sys/bus/pci") == 0)
		pci_set_param(pacc, "sysfs.path", sysfs);
	sysroot_ids(pacc);
	pci_init(pacc);
	return pacc;
}

void vu_pci_close(struct pci_access *pacc)
{
	if (pacc)
		pci_cleanup(pacc);
}

void vu_pci_describe(struct pci_access *pacc, const struct vu_dev *d, char *buf, size_t size)
{
	char cls[VU_PCI_NAME_MAX], dev[VU_PCI_NAME_MAX];

	/* lspci -nn: names with numbers, rev only when non-zero. */
	snprintf(buf, size, "%s: %s",
		 pci_lookup_name(pacc, cls, sizeof(cls), PCI_LOOKUP_CLASS | PCI_LOOKUP_MIXED,
				 d->class >> 8),
		 pci_lookup_name(pacc, dev, sizeof(dev),
				 PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE | PCI_LOOKUP_MIXED,
				 d->vendor, d->device));
	if (d->rev) {
		size_t len = strlen(buf);

		snprintf(buf + len, size - len, " (rev %02x)", d->rev);
	}
}

const char *vu_pci_class_name(struct pci_access *pacc, const struct vu_dev *d, char *buf,
			      size_t size)
{
	return pci_lookup_name(pacc, buf, (int)size, PCI_LOOKUP_CLASS | PCI_LOOKUP_NO_NUMBERS,
			       d->class >> 8);
}

const char *vu_pci_vendor_name(struct pci_access *pacc, const struct vu_dev *d, char *buf,
			       size_t size)
{
	return pci_lookup_name(pacc, buf, (int)size, PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS,
			       d->vendor);
}

const char *vu_pci_device_name(struct pci_access *pacc, const struct vu_dev *d, char *buf,
			       size_t size)
{
	return pci_lookup_name(pacc, buf, (int)size, PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS,
			       d->vendor, d->device);
}

const char *vu_pci_filter(struct pci_access *pacc, struct pci_filter *f, const char *slot,
			  const char *id)
{
	static char why[256];
	const char *what = NULL, *arg = NULL;
	char *copy;

	pci_filter_init(pacc, f);
	/* libpci parses in place, and its messages say what, not where. */
	if (slot && (copy = strdup(slot))) {
		what = pci_filter_parse_slot(f, copy);
		arg = slot;
		free(copy);
	}
	if (!what && id && (copy = strdup(id))) {
		what = pci_filter_parse_id(f, copy);
		arg = id;
		free(copy);
	}
	if (!what)
		return NULL;
	snprintf(why, sizeof(why), "%.64s: %s", arg, what);
	return why;
}

bool vu_pci_match(struct pci_access *pacc, struct pci_filter *f, const struct vu_dev *d)
{
	struct pci_dev *p = pci_get_dev(pacc, (int)d->addr.domain, (int)d->addr.bus,
					(int)d->addr.dev, (int)d->addr.func);
	bool match;

	if (!p)
		return false;
	match = pci_filter_match(f, p) != 0;
	pci_free_dev(p);
	return match;
}
