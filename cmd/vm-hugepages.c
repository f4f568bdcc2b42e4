/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vm-hugepages: reserve the huge pages a domain's XML asks for before QEMU starts; give them back. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <unistd.h>

#include "act.h"
#include "domcmd.h"
#include "domxml.h"
#include "hugepages.h"
#include "msg.h"
#include "opts.h"
#include "out.h"
#include "state.h"
#include "sysfs.h"

enum {
	OPT_DROP_CACHES = VU_OPT_CMD,
};

#define STATE "hugepages"
/* A domain's pools are the fields of its one record. */
#define NEEDS_MAX VU_STATE_FIELDS
#define SIZES_MAX 8

static noreturn void usage(void)
{
	fputs("Usage: vm-hugepages [options] [status]\n"
	      "       vm-hugepages [options] reserve --domain-xml FILE|-\n"
	      "       vm-hugepages [options] release [--domain-xml FILE|- | DOMAIN]\n"
	      "\n"
	      "Reserve the huge pages a libvirt domain's <memoryBacking> asks for, per page\n"
	      "size and NUMA node, before QEMU starts (libvirt's prepare hook), and give back\n"
	      "exactly what was added when it stops (release). Short of pages, nothing stays\n"
	      "changed and the exit status is 1, so that libvirt does not start the domain.\n"
	      "\n"
	      "Commands:\n"
	      "  status                 each page size and node: pages, free, reserved, surplus,\n"
	      "                         and the domains holding them (the default)\n"
	      "  reserve                add to the pools what the domain needs and is not free\n"
	      "  release                give back what reserve added for the domain\n"
	      "\n"
	      "Options:\n"
	      "      --domain-xml FILE  the domain's XML ('-': stdin, as a hook gets it)\n"
	      "      --drop-caches      reserve: drop the page cache first, for more free memory\n"
	      "      --timeout SECONDS  wait at most this long for another run (20)\n"
	      "  -n, --dry-run          print the commands that would do it, change nothing\n"
	      "      --json             print the report as JSON (vfio-utils(7))\n" VU_USAGE_COMMON "\n"
	      "Exit status: 0 done (or nothing to do), 1 fewer pages than needed or a write\n"
	      "failed (nothing left changed), 2 usage error.\n"
	      "See vm-hugepages(8).\n",
	      stdout);
	vu_exit(VU_EXIT_OK);
}

/* "2 MiB", "1 GiB": a page size as people say it. */
static const char *size_text(unsigned long kib, char *buf, size_t size)
{
	if (kib >= 1048576 && kib % 1048576 == 0)
		snprintf(buf, size, "%lu GiB", kib / 1048576);
	else if (kib >= 1024 && kib % 1024 == 0)
		snprintf(buf, size, "%lu MiB", kib / 1024);
	else
		snprintf(buf, size, "%lu KiB", kib);
	return buf;
}

/* " on node 0", or "" for the whole pool. */
static const char *where(int node, char *buf, size_t size)
{
	if (node < 0)
		snprintf(buf, size, "%s", "");
	else
		snprintf(buf, size, " on node %d", node);
	return buf;
}

/* A pool as a state field's name: "2048kB@0", "1048576kB@all". */
static void field_name(unsigned long kib, int node, char *buf, size_t size)
{
	if (node < 0)
		snprintf(buf, size, "%lukB@all", kib);
	else
		snprintf(buf, size, "%lukB@%d", kib, node);
}

static int field_parse(const char *name, unsigned long *kib, int *node)
{
	char *end;

	*kib = strtoul(name, &end, 10);
	if (!*kib || strncmp(end, "kB@", 3) != 0)
		return -EINVAL;
	if (strcmp(end + 3, "all") == 0) {
		*node = -1;
		return 0;
	}
	*node = (int)strtol(end + 3, &end, 10);
	return *end || *node < 0 ? -EINVAL : 0;
}

/* A field's value, "NEEDED:ADDED": 0 or -EINVAL. */
static int field_value(const char *v, unsigned long *needed, unsigned long *added)
{
	char *end;

	errno = 0;
	*needed = strtoul(v, &end, 10);
	if (end == v || *end != ':')
		return -EINVAL;
	v = end + 1;
	*added = strtoul(v, &end, 10);
	return end == v || *end || errno ? -EINVAL : 0;
}

/* The pool's own pages, which a write to nr_hugepages sets: surplus ones go as they are freed. */
static unsigned long persistent(const struct vu_hugepool *p)
{
	return p->nr > p->surplus ? p->nr - p->surplus : 0;
}

/* The pool of KIB on NODE, reported when it cannot be read. */
static int read_pool(const char *domain, unsigned long kib, int node, struct vu_hugepool *p)
{
	char sz[32], at[32];
	int err = vu_huge_read(kib, node, p);

	if (err == -ENOENT)
		vu_err("%s: no huge pages of %s%s: this kernel has no such pool", domain,
		       size_text(kib, sz, sizeof(sz)), where(node, at, sizeof(at)));
	else if (err < 0)
		vu_errc(err, "%s: cannot read the pool of %s%s", domain,
			size_text(kib, sz, sizeof(sz)), where(node, at, sizeof(at)));
	return err;
}

/* Set the pool's own pages to COUNT and read back what the kernel made of it. */
static int set_pool(const char *domain, unsigned long kib, int node, unsigned long count,
		    struct vu_hugepool *after)
{
	char path[PATH_MAX];
	int err;

	if ((err = vu_huge_write(kib, node, count)) < 0) {
		vu_huge_path(path, sizeof(path), kib, node, "nr_hugepages");
		vu_errc(err, "%s: cannot write %lu to %s", domain, count, vu_unrooted(path));
		return err;
	}
	return vu_dry_run ? 0 : read_pool(domain, kib, node, after);
}

static struct vu_rec *pool_rec(struct vu_list *l, unsigned long kib, int node)
{
	struct vu_rec *r = vu_list_obj(l);

	vu_rec_int(r, "size_kib", (long long)kib);
	if (node < 0)
		vu_rec_null(r, "node");
	else
		vu_rec_int(r, "node", node);
	return r;
}

/* What libvirt-hooks does where a domain has no huge pages: room for transparent ones. */
static int make_room(bool drop)
{
	char path[PATH_MAX];
	int err;

	if (drop) {
		vu_act_command("sync");
		if (!vu_dry_run)
			sync();
		if ((err = vu_path(path, sizeof(path), "/proc/sys/vm/drop_caches")) < 0 ||
		    (err = vu_act_write(path, "3")) < 0) {
			vu_errc(err, "/proc/sys/vm/drop_caches: cannot write");
			return err;
		}
	}
	/* A kernel without CONFIG_COMPACTION has no such file: the pages come as they can. */
	if (!vu_existsf("/proc/sys/vm/compact_memory"))
		return 0;
	if ((err = vu_path(path, sizeof(path), "/proc/sys/vm/compact_memory")) < 0 ||
	    (err = vu_act_write(path, "1")) < 0)
		vu_errc(err, "/proc/sys/vm/compact_memory: cannot write");
	return err;
}

struct plan {
	const char *domain; /* as the XML names it */
	char key[VU_STATE_TEXT];
	struct vu_hugeneed need[NEEDS_MAX];
	size_t n;
	unsigned long add[NEEDS_MAX], added[NEEDS_MAX];
	struct vu_rec *rec[NEEDS_MAX]; /* each pool's in the report */
};

/*
 * A write to a pool, announced on disk before it is made: the domain KEY's
 * pool FIELD goes from FROM to TO pages, the domain having ADDED of them
 * before it. A run killed before the write, during it (the kernel may have
 * allocated part), or before its record says what it got leaves this file,
 * and the next run settles it from what the pool holds (settle).
 */
#define WRITING "hugepages-write"

static int announce(const char *key, const char *field, unsigned long added, unsigned long from,
		    unsigned long to)
{
	struct vu_records w = { 0 };
	char a[24], f[24], t[24];
	int err = -EINVAL;

	snprintf(a, sizeof(a), "%lu", added);
	snprintf(f, sizeof(f), "%lu", from);
	snprintf(t, sizeof(t), "%lu", to);
	if (vu_records_set(&w, key, "pool", field, "added", a, "from", f, "to", t, (char *)NULL))
		err = vu_state_save(WRITING, &w);
	vu_records_free(&w);
	return err;
}

/* What the domain has of a pool after a write from FROM towards TO left it at NOW. */
static unsigned long after_write(unsigned long added, unsigned long from, unsigned long to,
				 unsigned long now)
{
	unsigned long moved;

	if (to >= from) {
		moved = now > from ? now - from : 0;
		return added + (moved < to - from ? moved : to - from);
	}
	moved = from > now ? from - now : 0;
	moved = moved < from - to ? moved : from - to;
	return added > moved ? added - moved : 0;
}

/* Set the domain's record of FIELD to NEEDED:ADDED, on disk, then drop the announcement. */
static int settled(struct vu_records *recs, const char *key, const char *field,
		   unsigned long added)
{
	struct vu_record *rec = vu_records_find(recs, key);
	struct vu_records none = { 0 };
	unsigned long needed, old;
	int err;

	for (int k = 0; rec && k < rec->nf; k++)
		if (strcmp(rec->f[k].name, field) == 0 &&
		    field_value(rec->f[k].value, &needed, &old) == 0)
			snprintf(rec->f[k].value, sizeof(rec->f[k].value), "%lu:%lu", needed, added);
	if ((err = vu_state_save(STATE, recs)) < 0)
		return err;
	return vu_state_save(WRITING, &none);
}

/*
 * A write a killed run announced: what the domain has of that pool now,
 * from what the pool holds (no other run has written to it since: every
 * run settles first, under the lock). 0, or -errno.
 */
static int settle(struct vu_records *recs)
{
	struct vu_records w = { 0 };
	long long added, from, to;
	unsigned long kib, have;
	struct vu_hugepool pool;
	const char *field;
	char name[1024], sz[32], at[32];
	int node, err;

	if ((err = vu_state_read(WRITING, &w)) < 0 || !w.n) {
		vu_records_free(&w);
		return err == -ENOENT ? 0 : err;
	}
	field = vu_record_get(&w.v[0], "pool");
	added = vu_record_num(&w.v[0], "added", -1);
	from = vu_record_num(&w.v[0], "from", -1);
	to = vu_record_num(&w.v[0], "to", -1);
	vu_state_unkey(w.v[0].key, name, sizeof(name));
	if (!field || field_parse(field, &kib, &node) < 0 || added < 0 || from < 0 || to < 0) {
		vu_records_free(&w);
		return -EBADMSG;
	}
	if ((err = read_pool(name, kib, node, &pool)) < 0) {
		vu_records_free(&w);
		return err;
	}
	have = after_write((unsigned long)added, (unsigned long)from, (unsigned long)to,
			   persistent(&pool));
	vu_warn("%s: a run stopped during its write to the pool of %s%s: %lu pages of it are the domain's",
		name, size_text(kib, sz, sizeof(sz)), where(node, at, sizeof(at)), have);
	err = settled(recs, w.v[0].key, field, have);
	vu_records_free(&w);
	return err;
}

/*
 * Move pool I of P from FROM to TO pages, announced first and settled from
 * what the kernel made of it (read back into *AFTER): what the domain has of
 * it then, in P->added. 0, or -errno (reported).
 */
static int move_pool(struct plan *p, struct vu_records *recs, size_t i, unsigned long from,
		     unsigned long to, struct vu_hugepool *after)
{
	struct vu_hugeneed *nd = &p->need[i];
	char field[VU_STATE_TEXT];
	int err;

	memset(after, 0, sizeof(*after));
	field_name(nd->kib, nd->node, field, sizeof(field));
	if ((err = announce(p->key, field, p->added[i], from, to)) < 0)
		return err;
	if ((err = set_pool(p->domain, nd->kib, nd->node, to, after)) < 0 && !vu_dry_run &&
	    read_pool(p->domain, nd->kib, nd->node, after) < 0)
		return err; /* left announced: the next run settles it */
	if (vu_dry_run)
		return err;
	p->added[i] = after_write(p->added[i], from, to, persistent(after));
	return settled(recs, p->key, field, p->added[i]) < 0 ? -EIO : err;
}

/* Take back what this run added to pools [0, N) of P, each settled as it goes. */
static void put_back(struct plan *p, struct vu_records *recs, size_t n)
{
	struct vu_hugepool now, after;
	unsigned long cur, added;
	char sz[32];

	for (size_t i = n; i-- > 0;) {
		if (!(added = p->added[i]) ||
		    read_pool(p->domain, p->need[i].kib, p->need[i].node, &now) < 0)
			continue;
		cur = persistent(&now);
		if (move_pool(p, recs, i, cur, cur > added ? cur - added : 0, &after) == 0)
			vu_report("%s: put the pool of %s back to %lu pages", p->domain,
				  size_text(p->need[i].kib, sz, sizeof(sz)), persistent(&after));
	}
}

/* A domain libvirt runs: it keeps the live XML in /run/libvirt/qemu while it does. */
static bool running(const char *key)
{
	char name[1024];

	vu_state_unkey(key, name, sizeof(name));
	return vu_existsf("/run/libvirt/qemu/%s.xml", name);
}

/*
 * Pages of KIB that reserve set aside for other domains not running yet:
 * free now, but theirs once their QEMU starts. NODE -1 counts every node's;
 * a node counts its own and those of whole-pool needs, which may land on it.
 */
static unsigned long claimed(const struct vu_records *recs, const char *self, unsigned long kib,
			     int node)
{
	unsigned long sum = 0;

	for (size_t i = 0; i < recs->n; i++) {
		if (strcmp(recs->v[i].key, self) == 0 || running(recs->v[i].key))
			continue;
		for (int k = 0; k < recs->v[i].nf; k++) {
			unsigned long fkib, needed, added;
			int fnode;

			if (field_parse(recs->v[i].f[k].name, &fkib, &fnode) == 0 && fkib == kib &&
			    (node < 0 || fnode < 0 || fnode == node) &&
			    field_value(recs->v[i].f[k].value, &needed, &added) == 0)
				sum += needed;
		}
	}
	return sum;
}

/*
 * How many pages each pool lacks: what is free, promised to no mapping and
 * set aside for no other domain is this one's.
 */
static int count_lack(struct plan *p, const struct vu_records *recs, struct vu_list *out,
		      bool *any)
{
	for (size_t i = 0; i < p->n; i++) {
		struct vu_hugeneed *nd = &p->need[i];
		struct vu_hugepool pool, all;
		unsigned long avail;
			struct vu_rec *r;

		if (read_pool(p->domain, nd->kib, nd->node, &pool) < 0 ||
		    read_pool(p->domain, nd->kib, -1, &all) < 0)
			return -ENOENT;
		avail = all.free > all.resv ? all.free - all.resv : 0;
		avail = avail > claimed(recs, p->key, nd->kib, -1)
			    ? avail - claimed(recs, p->key, nd->kib, -1)
			    : 0;
		/* A node knows no reservations: no more than the whole pool has unpromised. */
		if (nd->node >= 0) {
			unsigned long mine = pool.free > claimed(recs, p->key, nd->kib, nd->node)
						 ? pool.free - claimed(recs, p->key, nd->kib, nd->node)
						 : 0;

			avail = mine < avail ? mine : avail;
		}
		p->add[i] = nd->pages > avail ? nd->pages - avail : 0;
		if (p->add[i] > ULONG_MAX - persistent(&pool)) {
			vu_err("%s: %lu more pages than the pool's %lu is past what the kernel counts",
			       p->domain, p->add[i], persistent(&pool));
			return -EOVERFLOW;
		}
		*any = *any || p->add[i];
		r = p->rec[i] = pool_rec(out, nd->kib, nd->node);
		vu_rec_int(r, "needed", (long long)nd->pages);
		vu_rec_int(r, "free", (long long)avail);
	}
	return 0;
}

/* The record of what reserve added, per pool: "NEEDED:ADDED", none yet. */
static int remember(struct vu_records *recs, const struct plan *p)
{
	struct vu_record r = { .nf = (int)p->n };

	snprintf(r.key, sizeof(r.key), "%s", p->key);
	for (size_t i = 0; i < p->n; i++) {
		field_name(p->need[i].kib, p->need[i].node, r.f[i].name, sizeof(r.f[i].name));
		snprintf(r.f[i].value, sizeof(r.f[i].value), "%lu:0", p->need[i].pages);
	}
	if (!vu_records_put(recs, &r))
		return -ENOMEM;
	return vu_state_save(STATE, recs);
}

static int reserve(struct plan *p, struct vu_records *recs, bool drop, struct vu_list *out)
{
	char sz[32], at[32];
	bool any = false;
	int status = VU_EXIT_OK;
	size_t i;

	if (vu_records_find(recs, p->key)) {
		vu_report("%s: its huge pages are reserved already", p->domain);
		return VU_EXIT_OK;
	}
	if (count_lack(p, recs, out, &any) < 0)
		return VU_EXIT_FAIL;
	/* Compacted first: the kernel finds more contiguous memory for what it must add. */
	if (any && make_room(drop) < 0)
		return VU_EXIT_FAIL;
	/*
	 * Remembered first, on disk, nothing added yet; each write is announced
	 * and settled from what the kernel made of it, so that a run killed at
	 * any point leaves a record release can trust.
	 */
	if (remember(recs, p) < 0)
		return VU_EXIT_FAIL;
	for (i = 0; i < p->n && status == VU_EXIT_OK; i++) {
		struct vu_hugeneed *nd = &p->need[i];
		struct vu_rec *r = p->rec[i];
		struct vu_hugepool now, after;
		unsigned long got;

		size_text(nd->kib, sz, sizeof(sz));
		where(nd->node, at, sizeof(at));
		if (!p->add[i]) {
			vu_report("%s: %lu pages of %s%s, free already", p->domain, nd->pages, sz, at);
			vu_rec_int(r, "added", 0);
			vu_rec_str(r, "result", "free");
			continue;
		}
		/*
		 * From what the pool holds now: a write to the whole pool has
		 * spread pages over the nodes since the plan was made.
		 */
		if (read_pool(p->domain, nd->kib, nd->node, &now) < 0 ||
		    p->add[i] > ULONG_MAX - persistent(&now) ||
		    move_pool(p, recs, i, persistent(&now), persistent(&now) + p->add[i], &after) <
			0) {
			vu_rec_str(r, "result", "failed");
			status = VU_EXIT_FAIL;
			i++;
			break;
		}
		if (vu_dry_run) {
			vu_rec_int(r, "added", (long long)p->add[i]);
			vu_rec_str(r, "result", "planned");
			continue;
		}
		got = p->added[i];
		vu_rec_int(r, "added", (long long)got);
		if (got < p->add[i]) {
			vu_err("%s: %lu pages of %s%s needed, %lu free: the kernel could add only %lu of the %lu more (memory short or too fragmented)",
			       p->domain, nd->pages, sz, at, nd->pages - p->add[i], got, p->add[i]);
			vu_rec_str(r, "result", "short");
			status = VU_EXIT_FAIL;
			i++;
			break;
		}
		vu_report("%s: %lu pages of %s%s: %lu were free, %lu added", p->domain, nd->pages,
			  sz, at, nd->pages - got, got);
		vu_rec_str(r, "result", "reserved");
	}
	if (status != VU_EXIT_OK) {
		/* Nothing half-done: every pool as it was, nothing remembered. */
		put_back(p, recs, i);
		vu_records_del(recs, p->key);
	}
	return status;
}

static int release(const char *domain, const char *key, struct vu_records *recs,
		   struct vu_list *out)
{
	struct vu_record *rec = vu_records_find(recs, key);
	int status = VU_EXIT_OK;

	if (!rec) {
		vu_report("%s: no huge pages reserved: nothing to give back", domain);
		return VU_EXIT_OK;
	}
	for (int i = rec->nf; i-- > 0;) {
		struct vu_hugepool pool, after = { 0 };
		unsigned long kib, needed = 0, added = 0, target, left;
		char sz[32], at[32], field[VU_STATE_TEXT];
		struct vu_rec *r;
		int node;

		if (field_parse(rec->f[i].name, &kib, &node) < 0 ||
		    field_value(rec->f[i].value, &needed, &added) < 0) {
			vu_err("%s: /run/vfio-utils/%s: '%s=%s' is no pool: left alone", domain,
			       STATE, rec->f[i].name, rec->f[i].value);
			status = VU_EXIT_FAIL;
			continue;
		}
		r = pool_rec(out, kib, node);
		vu_rec_int(r, "needed", (long long)needed);
		size_text(kib, sz, sizeof(sz));
		where(node, at, sizeof(at));
		if (!added) {
			vu_rec_int(r, "released", 0);
			vu_rec_str(r, "result", "none added");
			continue;
		}
		if (read_pool(domain, kib, node, &pool) < 0) {
			vu_rec_str(r, "result", "failed");
			status = VU_EXIT_FAIL;
			continue;
		}
		/*
		 * Exactly what reserve added: the host's own pages and another
		 * domain's stay. Pages still in use become surplus, freed with them.
		 * Announced first and settled after: given back once, killed or not.
		 */
		target = persistent(&pool) > added ? persistent(&pool) - added : 0;
		snprintf(field, sizeof(field), "%s", rec->f[i].name);
		if (announce(key, field, added, persistent(&pool), target) < 0 ||
		    (set_pool(domain, kib, node, target, &after) < 0 &&
		     (vu_dry_run || read_pool(domain, kib, node, &after) < 0))) {
			vu_rec_str(r, "result", "failed");
			status = VU_EXIT_FAIL;
			continue;
		}
		left = vu_dry_run ? 0 : after_write(added, persistent(&pool), target, persistent(&after));
		if (!vu_dry_run && (settled(recs, key, field, left) < 0 || left)) {
			vu_err("%s: %lu of the %lu pages of %s%s not given back", domain, left, added,
			       sz, at);
			vu_rec_str(r, "result", "failed");
			status = VU_EXIT_FAIL;
			rec = vu_records_find(recs, key);
			continue;
		}
		rec = vu_records_find(recs, key);
		vu_rec_int(r, "released", (long long)added);
		vu_rec_str(r, "result", vu_dry_run ? "planned" : "released");
		if (!vu_dry_run)
			vu_report("%s: %lu pages of %s%s given back", domain, added, sz, at);
	}
	if (status == VU_EXIT_OK)
		vu_records_del(recs, key);
	return status;
}

/* The domains remembered for the pool of KIB on NODE. */
static void holders(struct vu_rec *r, const struct vu_records *recs, unsigned long kib, int node)
{
	struct vu_list *l = vu_rec_list(r, "domains");
	char want[VU_STATE_TEXT];

	field_name(kib, node, want, sizeof(want));
	for (size_t i = 0; i < recs->n; i++)
		for (int k = 0; k < recs->v[i].nf; k++) {
			unsigned long needed = 0, added = 0;
			struct vu_rec *d;

			if (strcmp(recs->v[i].f[k].name, want) != 0 ||
			    field_value(recs->v[i].f[k].value, &needed, &added) < 0)
				continue;
			d = vu_list_obj(l);
			vu_rec_str(d, "domain", recs->v[i].key);
			vu_rec_int(d, "pages", (long long)needed);
			vu_rec_int(d, "added", (long long)added);
		}
}

static int status_of(const struct vu_records *recs, struct vu_rec *doc)
{
	struct vu_list *pools = vu_rec_list(doc, "pools");
	unsigned long sizes[SIZES_MAX];
	size_t n = vu_huge_sizes(sizes, SIZES_MAX);
	struct vu_set nodes;

	vu_rec_int(doc, "default_size_kib", (long long)vu_huge_default_kib());
	if (n == 0) {
		vu_err("this kernel has no huge pages (no /sys/kernel/mm/hugepages)");
		return VU_EXIT_FAIL;
	}
	vu_huge_nodes(&nodes);
	for (size_t s = 0; s < n; s++)
		for (int node = -1; node <= vu_set_last(&nodes); node++) {
			struct vu_hugepool p;
			struct vu_rec *r;

			/* A kernel without NUMA has only the whole pool. */
			if ((node >= 0 && !vu_set_has(&nodes, node)) ||
			    vu_huge_read(sizes[s], node, &p) < 0)
				continue;
			r = pool_rec(pools, sizes[s], node);
			vu_rec_int(r, "pages", (long long)p.nr);
			vu_rec_int(r, "free", (long long)p.free);
			if (node < 0)
				vu_rec_int(r, "reserved", (long long)p.resv);
			else
				vu_rec_null(r, "reserved");
			vu_rec_int(r, "surplus", (long long)p.surplus);
			holders(r, recs, sizes[s], node);
		}
	return VU_EXIT_OK;
}

static void status_text(const struct vu_rec *doc)
{
	const struct vu_list *l = vu_rec_l(doc, "pools");

	printf("%-8s %-5s %8s %8s %8s %8s  %s\n", "SIZE", "NODE", "PAGES", "FREE", "RESERVED",
	       "SURPLUS", "DOMAINS");
	for (size_t i = 0; i < vu_list_len(l); i++) {
		const struct vu_rec *r = vu_list_rec(l, i);
		const struct vu_list *d = vu_rec_l(r, "domains");
		char sz[32], node[16], resv[24];

		size_text((unsigned long)vu_rec_i(r, "size_kib"), sz, sizeof(sz));
		if (vu_rec_has(r, "node"))
			snprintf(node, sizeof(node), "%lld", vu_rec_i(r, "node"));
		else
			snprintf(node, sizeof(node), "all");
		if (vu_rec_has(r, "reserved"))
			snprintf(resv, sizeof(resv), "%lld", vu_rec_i(r, "reserved"));
		else
			snprintf(resv, sizeof(resv), "-");
		printf("%-8s %-5s %8lld %8lld %8s %8lld  ", sz, node, vu_rec_i(r, "pages"),
		       vu_rec_i(r, "free"), resv, vu_rec_i(r, "surplus"));
		for (size_t k = 0; k < vu_list_len(d); k++) {
			const struct vu_rec *h = vu_list_rec(d, k);

			printf("%s%s (%lld, %lld added)", k ? ", " : "", vu_rec_s(h, "domain"),
			       vu_rec_i(h, "pages"), vu_rec_i(h, "added"));
		}
		printf("%s\n", vu_list_len(d) ? "" : "-");
	}
}

/* The plan of DOMAIN_XML: its name and needs; without huge pages, n is 0. */
/* What a run of vm-hugepages keeps beside the skeleton's. */
struct ctx {
	bool drop; /* --drop-caches */
	struct plan plan;
	struct vu_list *pools; /* the report's */
};

static void option(struct vu_domrun *r, int opt, const char *arg)
{
	(void)opt, (void)arg;
	((struct ctx *)r->ctx)->drop = true;
}

static int run_status(struct vu_domrun *r)
{
	return status_of(&r->recs, r->doc);
}

/* The pools reserve needs, from the XML; a domain without huge pages gets room for transparent ones. */
static int prepare(struct vu_domrun *r)
{
	struct ctx *c = r->ctx;
	struct plan *p = &c->plan;
	unsigned long def = vu_huge_default_kib();
	int n;

	p->domain = r->domain;
	snprintf(p->key, sizeof(p->key), "%s", r->key);
	c->pools = vu_rec_list(r->doc, "pools");
	if (strcmp(r->sub->name, "reserve") != 0)
		return VU_DOMCMD_ON;
	if ((n = vu_huge_needs(&r->x, def, r->x.name, p->need, NEEDS_MAX)) < 0)
		return VU_EXIT_FAIL;
	if (n > 0 && !def && r->x.npages == 0) {
		vu_err("%s: <hugepages> of the default size, and this kernel has no huge pages",
		       r->x.name);
		return VU_EXIT_FAIL;
	}
	p->n = (size_t)n;
	if (p->n)
		return VU_DOMCMD_ON;
	/* libvirt-hooks' way for a domain without huge pages: room for transparent ones. */
	vu_report("%s: no <hugepages>: dropping caches and compacting memory for transparent huge pages",
		  p->domain);
	return make_room(true) < 0 ? VU_EXIT_FAIL : VU_EXIT_OK;
}

/* A run stopped during a write: what it left settled before anything else. */
static int locked(struct vu_domrun *r)
{
	if (r->lock < 0 || r->recs.damaged || settle(&r->recs) == 0)
		return VU_DOMCMD_ON;
	vu_err("/run/vfio-utils/%s: a write a stopped run announced cannot be settled: nothing changed",
	       WRITING);
	return VU_EXIT_FAIL;
}

static int run_reserve(struct vu_domrun *r)
{
	struct ctx *c = r->ctx;

	return reserve(&c->plan, &r->recs, c->drop, c->pools);
}

/*
 * Damaged, what reserve added is unknown: release keeps it aside and gives
 * back nothing (the pools' counts can be set by hand).
 */
static int run_release(struct vu_domrun *r)
{
	struct ctx *c = r->ctx;

	if (!r->recs.damaged)
		return release(r->domain, r->key, &r->recs, c->pools);
	vu_err("%s: what reserve added is unknown: nothing given back", r->domain);
	if (!vu_dry_run)
		vu_state_keep_aside(STATE, &r->recs);
	return VU_EXIT_FAIL;
}

int main(int argc, char **argv)
{
	static const struct vu_domsub subs[] = {
		{ "status", VU_DOMAIN_NONE, VU_DAMAGED_REFUSE, NULL },
		{ "reserve", VU_DOMAIN_XML, VU_DAMAGED_REFUSE, run_reserve },
		{ "release", VU_DOMAIN_EITHER, VU_DAMAGED_OWN, run_release },
		{ NULL, 0, 0, NULL },
	};
	static const struct vu_domopt opts[] = {
		{ "drop-caches", no_argument, OPT_DROP_CACHES, "reserve" },
		{ NULL, 0, 0, NULL },
	};
	static const struct vu_domcmd cmd = {
		.name = "vm-hugepages",
		.state = STATE,
		.with = "reserve and release",
		.fix = "vm-hugepages release",
		/* a pool write or a thread change can wait in the kernel: never under the shared lock */
		.own_lock = true,
		.subs = subs,
		.opts = opts,
		.usage = usage,
		.option = option,
		.status = run_status,
		.status_state = true,
		.status_text = status_text,
		.prepare = prepare,
		.locked = locked,
	};
	struct ctx *c = calloc(1, sizeof(*c));
	int status;

	if (!c) {
		vu_errc(ENOMEM, "cannot plan");
		return VU_EXIT_FAIL;
	}
	status = vu_domcmd_main(&cmd, c, argc, argv);
	free(c);
	return status;
}
