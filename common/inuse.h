/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which devices the host is using: mounted filesystems, swap, network interfaces that are up. */
#ifndef VU_INUSE_H
#define VU_INUSE_H

#include <stddef.h>

#include "pciaddr.h"

#define VU_INUSE_WHY 160

struct vu_inuse {
	char dev[VU_NAME_MAX];
	char why[VU_INUSE_WHY]; /* "holds /, /home", "holds swap", "interface enp8s0 is up" */
};

struct vu_inuse_list {
	struct vu_inuse *v;
	size_t n;
};

/*
 * Scan mountinfo, swaps and the network interfaces once. A file that
 * cannot be read is skipped: this only ever adds refusals, so a missing
 * source errs on the side of letting the user decide.
 */
int vu_inuse_scan(struct vu_inuse_list *out);
void vu_inuse_free(struct vu_inuse_list *l);
/* Why the host uses DEV (kernel name), or NULL. */
const char *vu_inuse_why(const struct vu_inuse_list *l, const char *dev);

#endif
