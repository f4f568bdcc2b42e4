/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The simulated machine's memory: huge page pools per size and NUMA node, as hugetlb keeps them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"

static long surplus(const struct m_hnode *n)
{
	return n->used > n->persist ? n->used - n->persist : 0;
}

static long nr(const struct m_hnode *n)
{
	return n->persist + surplus(n);
}

/* Over one node or (-1) all of them. */
static long sum(const struct m_hsize *h, int node, long (*f)(const struct m_hnode *))
{
	long total = 0;

	for (int i = 0; i < M_NODES_MAX; i++)
		if (node < 0 || node == i)
			total += f(&h->node[i]);
	return total;
}

static long free_of(const struct m_hnode *n)
{
	return nr(n) - n->used;
}

long m_huge_nr(const struct m_hsize *h, int node)
{
	return sum(h, node, nr);
}

long m_huge_free(const struct m_hsize *h, int node)
{
	return sum(h, node, free_of);
}

long m_huge_surplus(const struct m_hsize *h, int node)
{
	return sum(h, node, surplus);
}

unsigned long long m_node_kib(const struct machine *m)
{
	return m->mem_kib / (unsigned long long)m->nnodes;
}

unsigned long long m_node_free_kib(const struct machine *m, int node)
{
	/* The host's own use: an eighth of each node, never huge pages. */
	unsigned long long used = m_node_kib(m) / 8;

	for (int s = 0; s < M_HSIZES; s++)
		used += (unsigned long long)nr(&m->huge[s].node[node]) * m->huge[s].kib;
	return used < m_node_kib(m) ? m_node_kib(m) - used : 0;
}

struct m_hsize *machine_hsize(struct machine *m, const char *size)
{
	char *end;
	unsigned long v = strtoul(size, &end, 10);

	if (end == size)
		return NULL;
	if (strcmp(end, "G") == 0 || strcmp(end, "GB") == 0)
		v <<= 20;
	else if (strcmp(end, "M") == 0 || strcmp(end, "MB") == 0)
		v <<= 10;
	else if (*end && strcmp(end, "kB") != 0 && strcmp(end, "K") != 0)
		return NULL;
	for (int s = 0; s < M_HSIZES; s++)
		if (m->huge[s].kib == v)
			return &m->huge[s];
	return NULL;
}

/* One more page on NODE: memory enough, and under the fault's limit. */
static bool grow(struct machine *m, struct m_hsize *h, int node)
{
	struct m_hnode *n = &h->node[node];

	if (n->used > n->persist) { /* a surplus page becomes the pool's */
		n->persist++;
		return true;
	}
	if ((n->limit >= 0 && nr(n) >= n->limit) || m_node_free_kib(m, node) < h->kib)
		return false;
	n->persist++;
	return true;
}

/* One page less on NODE: a free one, else one in use turns surplus. */
static bool shrink(struct m_hnode *n, bool free_only)
{
	if (n->persist == 0 || (free_only && n->persist <= n->used))
		return false;
	n->persist--;
	return true;
}

void machine_huge_set(struct machine *m, struct m_hsize *h, int node, long target)
{
	static int next; /* the kernel's round robin goes on from where it stopped */
	int lo = node < 0 ? 0 : node, hi = node < 0 ? m->nnodes : node + 1;
	long have = 0;

	for (int i = lo; i < hi; i++)
		have += h->node[i].persist;
	while (have < target) {
		bool any = false;

		for (int k = 0; k < hi - lo && !any; k++, next++)
			any = grow(m, h, lo + (next + k) % (hi - lo));
		if (!any)
			return;
		have++;
	}
	for (bool free_only = true; have > target;) {
		bool any = false;

		for (int k = 0; k < hi - lo && !any; k++, next++)
			any = shrink(&h->node[lo + (next + k) % (hi - lo)], free_only);
		if (any)
			have--;
		else if (free_only)
			free_only = false;
		else
			return;
	}
}

int machine_huge_ctl(struct machine *m, char *args)
{
	char *save, *size = strtok_r(args, " \t", &save), *w = strtok_r(NULL, " \t", &save);
	struct m_hsize *h = size ? machine_hsize(m, size) : NULL;
	int node = -1;
	long count;
	char *end;

	if (!h || !w)
		return -EINVAL;
	if (strcmp(w, "node") == 0) {
		if (!(w = strtok_r(NULL, " \t", &save)) ||
		    (node = (int)strtol(w, &end, 10)) < 0 || *end || node >= m->nnodes)
			return -EINVAL;
		w = strtok_r(NULL, " \t", &save);
	}
	args = w ? strtok_r(NULL, " \t", &save) : NULL;
	if (!w || !args || strtok_r(NULL, " \t", &save))
		return -EINVAL;
	count = strcmp(w, "max") == 0 && strcmp(args, "none") == 0 ? -1 : strtol(args, &end, 10);
	if (count < -1 || (count >= 0 && *end) || (count < 0 && strcmp(w, "max") != 0))
		return -EINVAL;
	if (strcmp(w, "pages") == 0) {
		machine_huge_set(m, h, node, count);
		return 0;
	}
	for (int i = 0; i < m->nnodes; i++) {
		struct m_hnode *n = &h->node[i];

		if (node >= 0 && node != i)
			continue;
		if (strcmp(w, "max") == 0) {
			n->limit = count;
		} else if (strcmp(w, "use") == 0) {
			/* Without a node, the first nodes' free pages first. */
			long take = node >= 0 ? count : count < nr(n) ? count : nr(n);

			if (take > nr(n))
				return -ENOMEM;
			n->used = take;
			count -= take;
		} else {
			return -EINVAL;
		}
	}
	return strcmp(w, "use") == 0 && node < 0 && count > 0 ? -ENOMEM : 0;
}
