/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sets of CPUs and NUMA nodes in the list syntax the kernel prints and libvirt takes. */
#ifndef VU_CPUSET_H
#define VU_CPUSET_H

#include <stdbool.h>
#include <stddef.h>

/* Enough for every CPU of any machine the kernel's default NR_CPUS builds for. */
#define VU_SET_MAX 8192

struct vu_set {
	unsigned long long bits[VU_SET_MAX / 64];
};

/*
 * S ("0-3,8", libvirt's "0-7,^2" exclusions, the kernel's "" for none) into
 * SET: the number of members, or -EINVAL for anything else (a member of
 * VU_SET_MAX or more, "3-1", "1,,2").
 */
int vu_set_parse(const char *s, struct vu_set *set);
/* SET in the kernel's list syntax ("0-3,8"; "" when empty). -ENOSPC when it does not fit. */
int vu_set_format(const struct vu_set *set, char *buf, size_t size);
/*
 * A cpumask as the kernel prints and takes it ("ff", "0000000f,ffffffff":
 * 32-bit words in hex, the highest first): 0 or -EINVAL.
 */
int vu_set_parse_mask(const char *s, struct vu_set *set);
/* SET as such a mask of NBITS CPUs. -ENOSPC when it does not fit. */
int vu_set_format_mask(const struct vu_set *set, int nbits, char *buf, size_t size);
bool vu_set_has(const struct vu_set *set, int i);
void vu_set_add(struct vu_set *set, int i);
/* Members: the count, and the highest (-1 when empty). */
int vu_set_count(const struct vu_set *set);
int vu_set_last(const struct vu_set *set);

#endif
