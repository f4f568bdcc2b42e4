/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel's huge page pools, per size and NUMA node, and what a domain needs of them. */
#ifndef VU_HUGEPAGES_H
#define VU_HUGEPAGES_H

#include <stddef.h>

#include "cpuset.h"

struct vu_domxml;

/* One pool: a page size on one node, or (node -1) on all of them. */
struct vu_hugepool {
	unsigned long kib;
	int node;
	unsigned long nr;      /* nr_hugepages: a node's counts its surplus pages too */
	unsigned long free;
	unsigned long resv;    /* promised to a mapping, not yet faulted in: the whole pool only */
	unsigned long surplus; /* beyond the pool's own, given back as they are freed */
};

/* The kernel's default huge page size (Hugepagesize: in /proc/meminfo) in KiB, 0 without. */
unsigned long vu_huge_default_kib(void);
/* The sizes this kernel has, ascending, at most MAX: how many. */
size_t vu_huge_sizes(unsigned long *kib, size_t max);
/* The NUMA nodes with memory; a kernel without NUMA has node 0 alone. */
void vu_huge_nodes(struct vu_set *nodes);
/* P for the pool of KIB on NODE (-1: all nodes): 0, or -ENOENT for a size or node there is not. */
int vu_huge_read(unsigned long kib, int node, struct vu_hugepool *p);
/*
 * Ask for COUNT pages in the pool of KIB on NODE (-1: all nodes), as
 * vu_act_write does (a dry run prints it). The kernel grants fewer without
 * an error when memory is short: read it back. 0 or -errno, unreported.
 */
int vu_huge_write(unsigned long kib, int node, unsigned long count);
/* The rooted file of vu_huge_write, for messages. */
int vu_huge_path(char *buf, size_t size, unsigned long kib, int node, const char *attr);

/* Pages of one size a domain needs on one host node (-1: where the kernel puts them). */
struct vu_hugeneed {
	unsigned long kib;
	int node;
	unsigned long pages;
};

/*
 * What X's <memoryBacking><hugepages> needs, per size and host node: each
 * guest NUMA cell (or the whole <memory> without cells) in the page size
 * whose nodeset names the cell, else the page without a nodeset, else
 * (no <page> at all) DEFAULT_KIB; on the one host node its <numatune>
 * memnode or memory nodeset binds it to, else anywhere. Sizes of 4 KiB are
 * ordinary memory. At most MAX entries in OUT: how many, 0 without huge
 * pages, or -EINVAL (reported, naming SHOWN) for what libvirt would refuse.
 */
int vu_huge_needs(const struct vu_domxml *x, unsigned long default_kib, const char *shown,
		  struct vu_hugeneed *out, size_t max);

#endif
