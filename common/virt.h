/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Asking libvirt, read-only, which domains exist and what they pass: libvirt is loaded only here.
 */
#ifndef VU_VIRT_H
#define VU_VIRT_H

#include <stdbool.h>
#include <stddef.h>

struct vu_virt_domain {
	char *name;
	char *xml; /* its definition (the live one while it runs) */
	bool active;
};

struct vu_virt_domains {
	struct vu_virt_domain *v;
	size_t n;
};

/*
 * Every domain defined at URI (NULL: libvirt's default), through a read-only
 * connection. 0, or -errno with the reason in WHY (libvirt not installed, the
 * daemon not running, ...).
 */
int vu_virt_list(const char *uri, struct vu_virt_domains *out, char *why, size_t size);
const struct vu_virt_domain *vu_virt_find(const struct vu_virt_domains *d, const char *name);
void vu_virt_free(struct vu_virt_domains *d);

/*
 * The systemd unit of libvirt's QEMU daemon on this host, as systemd has it:
 * the running one of libvirtd and virtqemud (modular daemons), else the one
 * installed, libvirtd first. NULL without systemd or either unit.
 */
const char *vu_virt_daemon(void);

#endif
