/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Asking libvirt, read-only, which domains exist: libvirt is loaded only here. */
#ifndef VU_VIRT_H
#define VU_VIRT_H

#include <stddef.h>

#include "sysfs.h"

/*
 * The names of the domains defined at URI (NULL: libvirt's default), through
 * a read-only connection. 0, or -errno with the reason in WHY (libvirt not
 * installed, the daemon not running, ...).
 */
int vu_virt_domains(const char *uri, struct vu_names *names, char *why, size_t size);

#endif
