/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel's huge page pools, per size and NUMA node, and what a domain needs of them. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "domxml.h"
#include "hugepages.h"
#include "msg.h"
#include "sysfs.h"

unsigned long vu_huge_default_kib(void)
{
	char meminfo[8192];
	const char *p;

	if (vu_readf(meminfo, sizeof(meminfo), "/proc/meminfo") <= 0 ||
	    !(p = strstr(meminfo, "Hugepagesize:")))
		return 0;
	return strtoul(p + strlen("Hugepagesize:"), NULL, 10);
}

static int by_size(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return (x > y) - (x < y);
}

size_t vu_huge_sizes(unsigned long *kib, size_t max)
{
	char dir[PATH_MAX];
	struct vu_names l;
	size_t n = 0;

	if (vu_path(dir, sizeof(dir), "/sys/kernel/mm/hugepages") < 0 || vu_listdir(dir, &l) < 0)
		return 0;
	for (size_t i = 0; i < l.n && n < max; i++) {
		char *end;
		unsigned long v;

		if (strncmp(l.v[i], "hugepages-", 10) != 0)
			continue;
		v = strtoul(l.v[i] + 10, &end, 10);
		if (v && strcmp(end, "kB") == 0)
			kib[n++] = v;
	}
	vu_names_free(&l);
	qsort(kib, n, sizeof(*kib), by_size);
	return n;
}

void vu_huge_nodes(struct vu_set *nodes)
{
	char list[4096];

	if (vu_readf(list, sizeof(list), "/sys/devices/system/node/has_memory") < 0 ||
	    vu_set_parse(list, nodes) <= 0) {
		memset(nodes, 0, sizeof(*nodes));
		vu_set_add(nodes, 0);
	}
}

int vu_huge_path(char *buf, size_t size, unsigned long kib, int node, const char *attr)
{
	if (node < 0)
		return vu_path(buf, size, "/sys/kernel/mm/hugepages/hugepages-%lukB/%s", kib, attr);
	return vu_path(buf, size, "/sys/devices/system/node/node%d/hugepages/hugepages-%lukB/%s",
		       node, kib, attr);
}

static int count(unsigned long kib, int node, const char *attr, unsigned long *v)
{
	char path[PATH_MAX];
	int err;

	*v = 0;
	if ((err = vu_huge_path(path, sizeof(path), kib, node, attr)) < 0)
		return err;
	return vu_read_ulong(path, v);
}

int vu_huge_read(unsigned long kib, int node, struct vu_hugepool *p)
{
	int err;

	memset(p, 0, sizeof(*p));
	p->kib = kib;
	p->node = node;
	if ((err = count(kib, node, "nr_hugepages", &p->nr)) < 0 ||
	    (err = count(kib, node, "free_hugepages", &p->free)) < 0 ||
	    (err = count(kib, node, "surplus_hugepages", &p->surplus)) < 0)
		return err;
	/* Only the whole pool knows its reservations. */
	if (node < 0 && (err = count(kib, node, "resv_hugepages", &p->resv)) < 0)
		return err;
	return 0;
}

int vu_huge_write(unsigned long kib, int node, unsigned long n)
{
	char path[PATH_MAX], val[32];
	int err;

	if ((err = vu_huge_path(path, sizeof(path), kib, node, "nr_hugepages")) < 0)
		return err;
	snprintf(val, sizeof(val), "%lu", n);
	return vu_act_write(path, val);
}

/* The one host node SET names, -1 for none or several (the kernel picks among them). */
static int one_node(const char *set, const char *shown, const char *what)
{
	struct vu_set s;
	int n;

	if (!set[0])
		return -1;
	if ((n = vu_set_parse(set, &s)) < 0) {
		vu_err("%s: %s '%s' is not a set of NUMA nodes", shown, what, set);
		return -EINVAL;
	}
	return n == 1 ? vu_set_last(&s) : -1;
}

/* Add PAGES of KIB on NODE to OUT, merged with an entry of both. */
static int add(struct vu_hugeneed *out, size_t *n, size_t max, unsigned long kib, int node,
	       unsigned long pages)
{
	for (size_t i = 0; i < *n; i++)
		if (out[i].kib == kib && out[i].node == node) {
			if (out[i].pages > ULONG_MAX - pages)
				return -EOVERFLOW;
			out[i].pages += pages;
			return 0;
		}
	if (*n == max)
		return -ENOSPC;
	out[(*n)++] = (struct vu_hugeneed){ kib, node, pages };
	return 0;
}

int vu_huge_needs(const struct vu_domxml *x, unsigned long default_kib, const char *shown,
		  struct vu_hugeneed *out, size_t max)
{
	struct vu_domcell whole = { .kib = x->memory_kib };
	const struct vu_domcell *cells = x->ncells ? x->cells : &whole;
	size_t ncells = x->ncells ? x->ncells : 1, n = 0;
	int err;

	if (!x->hugepages)
		return 0;
	if (!x->ncells)
		snprintf(whole.amount, sizeof(whole.amount), "%s", x->memory_amount);
	for (size_t c = 0; c < ncells; c++) {
		const struct vu_dompage *page = NULL;
		unsigned long kib = x->npages ? 0 : default_kib;
		int node;

		for (size_t p = 0; p < x->npages; p++) {
			struct vu_set guest;

			if (!x->pages[p].kib) {
				vu_err("%s: a <hugepages><page> without a size libvirt takes", shown);
				return -EINVAL;
			}
			if (!x->pages[p].nodeset[0]) {
				page = page ? page : &x->pages[p];
			} else if (vu_set_parse(x->pages[p].nodeset, &guest) < 0) {
				vu_err("%s: <page nodeset='%s'> is not a set of guest NUMA cells",
				       shown, x->pages[p].nodeset);
				return -EINVAL;
			} else if (vu_set_has(&guest, cells[c].id)) {
				page = &x->pages[p];
				break;
			}
		}
		if (page)
			kib = (unsigned long)page->kib;
		/* A cell no page names, or pages of 4 KiB: ordinary memory. */
		if (!kib || kib <= 4)
			continue;
		node = one_node(cells[c].memnode[0] ? cells[c].memnode : x->numa_nodeset, shown,
				"<numatune> nodeset");
		if (node < -1)
			return node;
		/* Nothing reserved for an amount QEMU would be started with all the same. */
		if (!cells[c].kib) {
			vu_err("%s: %s '%s': not an amount of memory libvirt takes", shown,
			       x->ncells ? "<cell memory>" : "<memory>",
			       cells[c].amount[0] ? cells[c].amount : "(none)");
			return -EINVAL;
		}
		err = add(out, &n, max, kib, node,
			  (unsigned long)(cells[c].kib / kib + (cells[c].kib % kib != 0)));
		if (err == -EOVERFLOW) {
			vu_err("%s: its cells' memory adds up past what a count of pages holds",
			       shown);
			return -EINVAL;
		}
		if (err < 0) {
			vu_err("%s: more than %zu huge page sizes and nodes", shown, max);
			return -EINVAL;
		}
	}
	return (int)n;
}
