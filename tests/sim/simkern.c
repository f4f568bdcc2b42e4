/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The simulated kernel: what writes to sysfs and module system calls do to the machine. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "simkern.h"

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort();
	return d;
}

static int dev_index(struct sim *s, const struct m_dev *d)
{
	return (int)(d - s->m->devs);
}

/* A device by its exact kernel name, as bind and unbind want it. */
static int find_dev(struct sim *s, const char *name)
{
	for (size_t i = 0; i < s->m->ndevs; i++) {
		char n[20];

		m_dev_name(&s->m->devs[i], n);
		if (!s->m->devs[i].removed && strcmp(n, name) == 0)
			return (int)i;
	}
	return -1;
}

/* The control file takes the short spelling too. */
static int find_dev_loose(struct sim *s, const char *name)
{
	char full[32];

	if (strlen(name) == 7) {
		snprintf(full, sizeof(full), "0000:%s", name);
		name = full;
	}
	return find_dev(s, name);
}

/*
 * A system console (dummy, VGA+) is bound to the VTs no modular one has
 * taken: bind reads 1 while no framebuffer console is bound, 0 once fbcon
 * has taken them over (seen on 6.1 and 6.12).
 */
static void system_consoles(struct sim *s)
{
	struct machine *m = s->m;
	bool taken = false;

	for (size_t i = 0; i < m->nconsoles; i++)
		taken = taken || (strncmp(m->consoles[i].name, "(M)", 3) == 0 &&
				  m->consoles[i].present && m->consoles[i].bound);
	for (size_t i = 0; i < m->nconsoles; i++) {
		struct m_console *c = &m->consoles[i];

		if (strncmp(c->name, "(S)", 3) != 0 || c->bound == !taken)
			continue;
		c->bound = !taken;
		layout_console(s->root, m, (int)i);
	}
}

/* fbcon has a console while any framebuffer exists: firmware's or a DRM driver's. */
static void update_consoles(struct sim *s)
{
	struct machine *m = s->m;
	bool fb = m->fb_kind && !m->fb_gone && m->fb_driver && *m->fb_driver;

	for (size_t i = 0; i < m->ndevs && !fb; i++)
		fb = m->devs[i].driver && m->devs[i].drm_minor >= 0;
	for (size_t i = 0; i < m->nconsoles; i++) {
		struct m_console *c = &m->consoles[i];

		if (strncmp(c->name, "(M)", 3) != 0 || c->present == fb)
			continue;
		c->present = fb;
		/* A new framebuffer gets the console at once. */
		if (fb)
			c->bound = true;
		layout_console(s->root, m, (int)i);
	}
	system_consoles(s);
}

static bool driver_matches(struct sim *s, const struct m_dev *d, const struct m_driver *drv)
{
	(void)s;
	if (drv->platform || !drv->registered)
		return false;
	/* driver_override: that driver and no other. */
	if (d->override)
		return strcmp(d->override, drv->name) == 0;
	if (d->native && strcmp(d->native, drv->name) == 0)
		return true;
	for (size_t i = 0; i < drv->nids; i++) {
		unsigned v, dv;

		if (sscanf(drv->ids[i], "%x %x", &v, &dv) == 2 && v == d->vendor && dv == d->device)
			return true;
	}
	return false;
}

static void set_override_node(struct sim *s, int i)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	struct t_node *n;
	const char *o = s->m->devs[i].override;

	layout_dev_path(s->m, i, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/driver_override", dir);
	if ((n = t_lookup(s->root, path))) {
		char buf[256];

		snprintf(buf, sizeof(buf), "%s\n", o ? o : "(null)");
		t_set_data(n, buf, strlen(buf));
	}
}

/*
 * vfio-pci taking a VGA-class GPU unregisters the firmware framebuffer:
 * Linux 6.0 whichever device it sits on, 6.1 and later only the one it is
 * on. The device, its BOOTFB and its driver's range all go, until reboot.
 */
static void evict_framebuffer(struct sim *s, int i)
{
	struct machine *m = s->m;

	if (s->kver < 6000 || !m->fb_kind || m->fb_gone || (s->kver > 6000 && m->fb_dev != i))
		return;
	m->fb_gone = true;
	layout_framebuffer(s->root, m);
	free(m->fb_driver);
	m->fb_driver = xstrdup("");
	layout_iomem(s->root, m);
}

/*
 * Whether DRV's probe takes D, as the real one decides: driver_override only
 * lets a driver try. vfio-pci needs an IOMMU group and a type 0 header (no
 * PCI bridge); pci-stub takes anything; pcieport only PCIe ports; every
 * other driver only what its ID table, or an ID added through new_id, names.
 */
static int probe_accepts(struct sim *s, const struct m_dev *d, const struct m_driver *drv)
{
	if (strcmp(drv->name, "vfio-pci") == 0)
		return d->group < 0 || strcmp(s->m->iommu, "off") == 0 || m_dev_is_pci_bridge(d)
			   ? -EINVAL
			   : 0;
	if (strcmp(drv->name, "pci-stub") == 0)
		return 0;
	if (strcmp(drv->name, "pcieport") == 0)
		return (d->class >> 8) == 0x0604 ? 0 : -ENODEV;
	if (d->native && strcmp(d->native, drv->name) == 0)
		return 0;
	for (size_t k = 0; k < drv->nids; k++) {
		unsigned v, dv;

		if (sscanf(drv->ids[k], "%x %x", &v, &dv) == 2 && v == d->vendor && dv == d->device)
			return 0;
	}
	return -ENODEV;
}

/* The driver's probe: 0 when it bound the device, else its errno. */
static int probe(struct sim *s, int i, struct m_driver *drv)
{
	struct m_dev *d = &s->m->devs[i];
	int err;

	if (d->probe_nothing &&
	    (!d->probe_nothing_driver || strcmp(d->probe_nothing_driver, drv->name) == 0))
		return -ENODEV;
	if (d->bind_errno &&
	    (!d->bind_errno_driver || strcmp(d->bind_errno_driver, drv->name) == 0))
		return -d->bind_errno;
	if ((err = probe_accepts(s, d, drv)) < 0)
		return err;
	d->driver = xstrdup(drv->name);
	layout_dev_binding(s->root, s->m, i, NULL);
	if (strcmp(drv->name, "vfio-pci") == 0 && (d->class >> 8) == 0x0300)
		evict_framebuffer(s, i);
	update_consoles(s);
	return 0;
}

static void unbind(struct sim *s, int i)
{
	struct m_dev *d = &s->m->devs[i];
	char *old = d->driver;

	d->driver = NULL;
	layout_dev_binding(s->root, s->m, i, old);
	free(old);
	update_consoles(s);
}

/* What the kernel does for a device without a driver: try each matching driver. */
static void attach(struct sim *s, int i)
{
	struct m_dev *d = &s->m->devs[i];

	if (d->driver || d->removed)
		return;
	for (size_t k = 0; k < s->m->ndrivers; k++)
		if (driver_matches(s, d, &s->m->drivers[k]) && probe(s, i, &s->m->drivers[k]) == 0)
			return;
}

static void attach_all(struct sim *s, struct m_driver *drv)
{
	for (size_t i = 0; i < s->m->ndevs; i++) {
		struct m_dev *d = &s->m->devs[i];

		if (!d->driver && !d->removed && driver_matches(s, d, drv))
			probe(s, (int)i, drv);
	}
}

/*
 * Whether the driver's remove() waits: nvidia's until nothing has the
 * device open (it ignores signals); a sound driver's (snd_card_free) until
 * every node of its card is closed; vfio-pci's until the VM lets go of the
 * group (interruptible until the first signal, then not). amdgpu's and the
 * other DRM drivers' do not wait (drm_dev_unplug).
 */
static bool unbind_waits(struct sim *s, int i)
{
	const struct m_dev *d = &s->m->devs[i];

	if (d->unbind_blocks || d->busy_until > sk_now_ms())
		return true;
	if (!d->driver)
		return false;
	if (strcmp(d->driver, "vfio-pci") == 0)
		return d->group >= 0 && d->group < s->ngroups && s->group_opens[d->group] > 0;
	return d->opens > 0 &&
	       (strcmp(d->driver, "nvidia") == 0 || strncmp(d->driver, "snd", 3) == 0);
}

long long sk_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

long long sk_next_deadline(const struct sim *s)
{
	long long next = 0;

	for (size_t i = 0; i < s->m->ndevs; i++) {
		const struct m_dev *d = &s->m->devs[i];

		if (d->unbinding && d->busy_until && (!next || d->busy_until < next))
			next = d->busy_until;
	}
	return next;
}

bool sk_unblock(struct sim *s, int dev)
{
	struct m_dev *d = &s->m->devs[dev];

	if (d->probing) {
		/* A timed probe: the device lock held until it ends, the driver bound then. */
		if (d->busy_until > sk_now_ms())
			return false;
		d->probing = d->unbinding = false;
		d->busy_until = 0;
		if (d->probing_driver)
			probe(s, dev, d->probing_driver);
		else
			attach(s, dev);
		return true;
	}
	if (unbind_waits(s, dev))
		return false;
	d->unbinding = false;
	d->busy_until = 0;
	if (d->driver)
		unbind(s, dev);
	return true;
}

/* A probe that takes time ("probe-takes"): the write returns once it is done. */
static int probe_timed(struct sim *s, int i, struct m_driver *drv, int *dev)
{
	struct m_dev *d = &s->m->devs[i];

	d->probing = d->unbinding = true;
	d->probing_driver = drv;
	d->busy_until = sk_now_ms() + d->probe_ms;
	*dev = i;
	return SK_BLOCKED;
}

bool sk_unlocked(struct sim *s, int dev)
{
	return !s->m->devs[dev].unbinding;
}

/*
 * An unbind whose remove() must wait: the kernel has taken the driver links
 * down already (driver_sysfs_remove comes first) and holds the device lock;
 * the device still counts as bound, so drivers_probe passes it by.
 */
static int unbind_blocked(struct sim *s, int i, int *dev)
{
	s->m->devs[i].unbinding = true;
	layout_dev_unlink(s->root, s->m, i);
	*dev = i;
	return SK_BLOCKED;
}

/* A write that takes the device lock while a remove() holds it: it waits. */
static int locked(struct sim *s, int i, int *dev)
{
	if (i < 0 || !s->m->devs[i].unbinding)
		return 0;
	*dev = i;
	return SK_LOCKED;
}

static int pci_bind(struct sim *s, struct m_driver *drv, const char *name, int *dev)
{
	int i = find_dev(s, name), err;

	if (i < 0 || !driver_matches(s, &s->m->devs[i], drv))
		return -ENODEV;
	if ((err = locked(s, i, dev)))
		return err;
	/* Linux 5.14 made "already bound" EBUSY; before, every failure was ENODEV. */
	if (s->m->devs[i].driver)
		return s->kver >= 5014 ? -EBUSY : -ENODEV;
	if (s->m->devs[i].probe_ms)
		return probe_timed(s, i, drv, dev);
	i = probe(s, i, drv);
	if (s->kver < 5014 && i)
		return -ENODEV;
	/* EPROBE_DEFER is the kernel's own; userspace sees EAGAIN. */
	return i == -517 ? -EAGAIN : i;
}

static int platform_name_matches(struct sim *s, const char *name)
{
	char fb[64];

	if (!s->m->fb_kind || s->m->fb_gone)
		return 0;
	snprintf(fb, sizeof(fb), "%s.0", s->m->fb_kind);
	return strcmp(fb, name) == 0;
}

static int platform_bind(struct sim *s, struct m_driver *drv, const char *name, bool bind)
{
	struct machine *m = s->m;

	if (!platform_name_matches(s, name) || strcmp(drv->name, m->fb_kind) != 0)
		return -ENODEV;
	if (bind && m->fb_driver && *m->fb_driver)
		return -EBUSY;
	if (!bind && (!m->fb_driver || strcmp(m->fb_driver, drv->name) != 0))
		return -ENODEV;
	free(m->fb_driver);
	m->fb_driver = xstrdup(bind ? drv->name : "");
	layout_framebuffer(s->root, m);
	layout_iomem(s->root, m);
	update_consoles(s);
	return 0;
}

static int new_id(struct sim *s, struct m_driver *drv, const char *val, bool add)
{
	unsigned v, d;
	char id[16];

	if (sscanf(val, "%x %x", &v, &d) != 2 || v > 0xffff || d > 0xffff)
		return -EINVAL;
	snprintf(id, sizeof(id), "%04x %04x", v, d);
	for (size_t i = 0; i < drv->nids; i++) {
		if (strcmp(drv->ids[i], id) != 0)
			continue;
		if (add)
			return -EEXIST;
		free(drv->ids[i]);
		drv->ids[i] = drv->ids[--drv->nids];
		return 0;
	}
	if (!add)
		return -ENODEV;
	drv->ids = realloc(drv->ids, (drv->nids + 1) * sizeof(*drv->ids));
	if (!drv->ids)
		abort();
	drv->ids[drv->nids++] = xstrdup(id);
	/* new_id probes every device the ID now matches. */
	attach_all(s, drv);
	return 0;
}

static void rescan(struct sim *s)
{
	for (size_t i = 0; i < s->m->ndevs; i++) {
		if (!s->m->devs[i].removed)
			continue;
		s->m->devs[i].removed = false;
		layout_dev_add(s->root, s->m, (int)i);
		attach(s, (int)i);
	}
}

static int write_fault(struct sim *s, struct t_node *n)
{
	char path[PATH_MAX];

	if (s->nwfaults == 0)
		return 0;
	t_path(n, path, sizeof(path));
	for (size_t i = 0; i < s->nwfaults; i++) {
		struct sk_wfault *f = &s->wfaults[i];
		int err = f->block ? SK_BLOCKED : -f->err;

		if (strcmp(f->path, path) != 0)
			continue;
		if (f->skip > 0) {
			f->skip--;
			return 0;
		}
		if (f->ignore)
			return 1;
		if (f->once || f->block)
			*f = s->wfaults[--s->nwfaults];
		return err;
	}
	return 0;
}

/*
 * The unbound workqueues' cpumask: hex words as the kernel prints them; CPUs
 * it does not have dropped, and none left at all is EINVAL.
 */
static int wq_cpumask(struct sim *s, struct t_node *n, const char *val)
{
	bool bits[8192] = { false }, any = false;
	char out[VU_MASK_MAX + 2];
	int bit = 0;

	for (const char *c = val + strlen(val); c-- > val;) {
		int v;

		if (*c == ',') {
			bit = (bit + 31) / 32 * 32;
			continue;
		}
		if (!isxdigit((unsigned char)*c))
			return -EINVAL;
		v = isdigit((unsigned char)*c) ? *c - '0' : tolower((unsigned char)*c) - 'a' + 10;
		for (int b = 0; b < 4; b++, bit++)
			if (v >> b & 1 && bit < s->m->ncpus)
				any = bits[bit] = true;
	}
	if (!any)
		return -EINVAL;
	layout_mask_bits(bits, s->m->ncpus, out, sizeof(out) - 1);
	snprintf(out + strlen(out), 2, "\n");
	t_set_data(n, out, strlen(out));
	return 0;
}

/* scaling_governor: one of the governors the driver offers (cpufreq_parse_governor), else EINVAL. */
static int governor_write(struct sim *s, struct t_node *n, const char *val)
{
	char want[64], list[512], out[66];

	snprintf(want, sizeof(want), "%s", val);
	want[strcspn(want, " \t\n")] = '\0';
	snprintf(list, sizeof(list), "%s", s->m->governors);
	for (char *save = NULL, *g = strtok_r(list, " \t", &save); *want && g;
	     g = strtok_r(NULL, " \t", &save))
		if (strcmp(g, want) == 0) {
			snprintf(out, sizeof(out), "%s\n", want);
			t_set_data(n, out, strlen(out));
			return 0;
		}
	return -EINVAL;
}

/* cpuset.cpus: a list of CPUs the machine has; effective follows. */
static int cpuset_write(struct sim *s, struct t_node *n, const char *val)
{
	struct t_node *eff = n->obj;
	const char *c = val;
	char buf[4096];

	while (*c) {
		char *end;
		long lo = strtol(c, &end, 10), hi;

		if (end == c || lo < 0 || lo >= s->m->ncpus)
			return -EINVAL;
		if (*end == '-') {
			c = end + 1;
			hi = strtol(c, &end, 10);
			if (end == c || hi < lo || hi >= s->m->ncpus)
				return -EINVAL;
		}
		c = end;
		if (*c == ',')
			c++;
		else if (*c)
			return -EINVAL;
	}
	/* Each slice has tasks: the kernel refuses them none (6.1 and 6.12 say ENOSPC). */
	if (!*val)
		return -ENOSPC;
	snprintf(buf, sizeof(buf), "%s\n", val);
	t_set_data(n, buf, strlen(buf));
	t_set_data(eff, buf, strlen(buf));
	return 0;
}

/* nr_hugepages: a count, as kstrtoul takes it; fewer granted is no error. */
static int huge_write(struct sim *s, struct t_node *n, const char *val)
{
	struct machine *m = s->m;
	unsigned long count;
	char *end;

	errno = 0;
	count = strtoul(val, &end, 10);
	if (errno || end == val || *end || val[0] == '-' || count > (unsigned long)LONG_MAX)
		return -EINVAL;
	for (int h = 0; h < M_HSIZES; h++) {
		if (n->kind == K_HUGE_NR && n->obj == &m->huge[h])
			machine_huge_set(m, &m->huge[h], -1, (long)count);
		for (int i = 0; n->kind == K_HUGE_NR_NODE && i < m->nnodes; i++)
			if (n->obj == &m->huge[h].node[i])
				machine_huge_set(m, &m->huge[h], i, (long)count); /* its own, not surplus */
	}
	layout_memory(s->root, m);
	return 0;
}

int sk_write(struct sim *s, struct t_node *n, const char *buf, size_t len, int *dev)
{
	char val[4096];
	int err, i;

	if (len >= sizeof(val))
		return -EINVAL;
	memcpy(val, buf, len);
	val[len] = '\0';
	/* sysfs attributes take one value; the trailing newline of echo is not part of it. */
	if (len && val[len - 1] == '\n')
		val[len - 1] = '\0';
	if ((err = write_fault(s, n)) == 1)
		return (int)len; /* ignored, as the kernel ignores some writes */
	if (err) {
		*dev = -1;
		return err;
	}

	switch (n->kind) {
	case K_PLAIN:
		t_set_data(n, buf, len);
		return (int)len;
	case K_DRIVER_OVERRIDE: {
		struct m_dev *d = n->obj;

		/* The kernel's limit is a page; the value ends at the first newline. */
		if (len >= 4095)
			return -EINVAL;
		if ((err = locked(s, dev_index(s, d), dev)))
			return err;
		val[strcspn(val, "\n")] = '\0';
		free(d->override);
		d->override = val[0] ? xstrdup(val) : NULL;
		set_override_node(s, dev_index(s, d));
		return (int)len;
	}
	case K_BIND:
		err = ((struct m_driver *)n->obj)->platform ? platform_bind(s, n->obj, val, true)
							    : pci_bind(s, n->obj, val, dev);
		return err ? err : (int)len;
	case K_UNBIND: {
		struct m_driver *drv = n->obj;

		if (drv->platform) {
			err = platform_bind(s, drv, val, false);
			return err ? err : (int)len;
		}
		i = find_dev(s, val);
		if (i < 0 || !s->m->devs[i].driver || strcmp(s->m->devs[i].driver, drv->name) != 0)
			return -ENODEV;
		if ((err = locked(s, i, dev)))
			return err;
		if (s->m->devs[i].unbind_ms)
			s->m->devs[i].busy_until = sk_now_ms() + s->m->devs[i].unbind_ms;
		if (unbind_waits(s, i))
			return unbind_blocked(s, i, dev);
		unbind(s, i);
		return (int)len;
	}
	case K_NEW_ID:
	case K_REMOVE_ID:
		err = new_id(s, n->obj, val, n->kind == K_NEW_ID);
		return err ? err : (int)len;
	case K_DRIVERS_PROBE:
		/* Succeeds whether or not a driver bound: only the driver link tells. */
		if ((i = find_dev(s, val)) < 0)
			return -ENODEV;
		if (s->m->devs[i].probe_ms && !s->m->devs[i].driver && !s->m->devs[i].unbinding &&
		    !s->m->devs[i].removed)
			return probe_timed(s, i, NULL, dev);
		attach(s, i);
		return (int)len;
	case K_BUS_RESCAN:
	case K_DEV_RESCAN:
		if (strtol(val, NULL, 0))
			rescan(s);
		return (int)len;
	case K_DEV_REMOVE: {
		struct m_dev *d = n->obj;

		i = dev_index(s, d);
		if (!strtol(val, NULL, 0))
			return (int)len;
		if ((err = locked(s, i, dev)))
			return err;
		if (d->driver && unbind_waits(s, i))
			return unbind_blocked(s, i, dev);
		if (d->driver)
			unbind(s, i);
		d->removed = true;
		layout_dev_remove(s->root, s->m, i);
		return (int)len;
	}
	case K_RESET:
		if (strcmp(val, "1") != 0)
			return -EINVAL;
		if ((err = locked(s, dev_index(s, n->obj), dev)))
			return err;
		s->resets++;
		return (int)len;
	case K_VTCON_BIND: {
		struct m_console *c = n->obj;
		char data[4];

		/* The kernel accepts every write; a system console just stays as it is. */
		if (strncmp(c->name, "(S)", 3) != 0)
			c->bound = strtol(val, NULL, 0) != 0;
		snprintf(data, sizeof(data), "%d\n", c->bound);
		t_set_data(n, data, strlen(data));
		system_consoles(s);
		return (int)len;
	}
	case K_PLAT_OVERRIDE:
		t_set_data(n, buf, len);
		return (int)len;
	case K_WQ_CPUMASK:
		return wq_cpumask(s, n, val) < 0 ? -EINVAL : (int)len;
	case K_CPUSET:
		return (err = cpuset_write(s, n, val)) < 0 ? err : (int)len;
	case K_GOVERNOR:
		return governor_write(s, n, val) < 0 ? -EINVAL : (int)len;
	case K_HUGE_NR:
	case K_HUGE_NR_NODE:
		return huge_write(s, n, val) < 0 ? -EINVAL : (int)len;
	case K_COMPACT:
		s->m->compactions++;
		return (int)len;
	case K_DROP_CACHES:
		/* 1 page cache, 2 slab, 3 both, 4 quiet; anything else the range check refuses. */
		if (strlen(val) != 1 || val[0] < '1' || val[0] > '4')
			return -EINVAL;
		s->m->cache_drops++;
		t_set_data(n, buf, len);
		return (int)len;
	case K_CONTROL: {
		/* A module system call held by a "block" fault: it waits, then goes on. */
		struct m_mod *mod = NULL;
		bool load = strncmp(val, "load ", 5) == 0;

		if (load || strncmp(val, "unload ", 7) == 0)
			mod = machine_find_mod(s->m, val + (load ? 5 : 7));
		if (mod && (load ? mod->load_block : mod->unload_block)) {
			mod->load_block = load ? false : mod->load_block;
			mod->unload_block = load ? mod->unload_block : false;
			*dev = -1;
			return SK_BLOCKED;
		}
		/* The driver's attach takes the lock of each device it matches. */
		for (size_t k = 0; load && mod && mod->driver && k < s->m->ndevs; k++) {
			const struct m_dev *d = &s->m->devs[k];

			if (d->unbinding &&
			    ((d->native && strcmp(d->native, mod->driver) == 0) ||
			     (d->override && strcmp(d->override, mod->driver) == 0)))
				return locked(s, (int)k, dev);
		}
		err = sk_control(s, val);
		return err ? err : (int)len;
	}
	default:
		return (int)len;
	}
}

static struct m_mod *dev_module(struct sim *s, const struct m_dev *d)
{
	return d->driver ? machine_driver_mod(s->m, d->driver) : NULL;
}

static bool live(const struct m_mod *mod)
{
	return mod->state == M_MOD_LOADED || mod->state == M_MOD_BUILTIN;
}

/* What modprobe does for the kernel's request_module: dependencies first. */
static int autoload(struct sim *s, const char *name, int depth)
{
	struct m_mod *mod = machine_find_mod(s->m, name);

	if (!mod || depth > 16)
		return -ENOENT;
	if (live(mod))
		return 0;
	for (size_t i = 0; i < mod->ndeps; i++)
		if (autoload(s, mod->deps[i], depth + 1) < 0)
			return -ENOENT;
	return sk_load(s, name);
}

long sk_open(struct sim *s, struct t_node *n)
{
	struct m_mod *mod = NULL;

	switch (n->kind) {
	case K_DEVNODE:
		((struct m_dev *)n->obj)->opens++;
		mod = dev_module(s, n->obj);
		/* An open DRM card is nvidia_drm's file, which pins that module, not nvidia. */
		if (mod && strcmp(mod->name, "nvidia") == 0 && n->parent &&
		    strcmp(n->parent->name, "dri") == 0)
			mod = machine_find_mod(s->m, "nvidia_drm");
		break;
	case K_MODNODE:
		mod = n->obj;
		/* A static node of a module not loaded: the open loads it (request_module). */
		if (!live(mod) && autoload(s, mod->name, 0) < 0)
			return -ENXIO;
		break;
	case K_GROUPNODE: {
		const struct m_dev *d = n->obj;

		if (d->group >= 0 && d->group < s->ngroups)
			s->group_opens[d->group]++;
		mod = machine_find_mod(s->m, "vfio");
		break;
	}
	default:
		return -1;
	}
	if (!mod)
		return 0;
	mod->refcnt++;
	layout_modules(s->root, s->m);
	return (long)(mod - s->m->mods) + 1;
}

void sk_release(struct sim *s, struct t_node *n, long token)
{
	if (token < 0)
		return;
	if (n->kind == K_DEVNODE)
		((struct m_dev *)n->obj)->opens--;
	if (n->kind == K_GROUPNODE) {
		const struct m_dev *d = n->obj;

		if (d->group >= 0 && d->group < s->ngroups)
			s->group_opens[d->group]--;
	}
	if (token > 0) {
		s->m->mods[token - 1].refcnt--;
		layout_modules(s->root, s->m);
	}
}

/* Modules that nvidia_drm's presence changes: nvidia's DRM cards. */
static void refresh_cards(struct sim *s)
{
	for (size_t i = 0; i < s->m->ndevs; i++) {
		struct m_dev *d = &s->m->devs[i];

		if (d->driver && strcmp(d->driver, "nvidia") == 0)
			layout_dev_binding(s->root, s->m, (int)i, d->driver);
	}
	update_consoles(s);
}

int sk_load(struct sim *s, const char *name)
{
	struct m_mod *mod = machine_find_mod(s->m, name);
	struct m_driver *drv;

	if (!mod || mod->state == M_MOD_ABSENT)
		return -ENOENT;
	if (mod->load_errno) {
		int err = mod->load_errno;

		if (mod->load_once)
			mod->load_errno = 0;
		return -err;
	}
	if (live(mod))
		return -EEXIST;
	/* A symbol of a module that is not loaded: "Unknown symbol in module". */
	for (size_t i = 0; i < mod->ndeps; i++) {
		struct m_mod *dep = machine_find_mod(s->m, mod->deps[i]);

		if (!dep || !live(dep))
			return -ENOENT;
	}
	mod->state = M_MOD_LOADED;
	layout_modules(s->root, s->m);
	layout_module_nodes(s->root, s->m);
	if (mod->driver && (drv = machine_find_driver(s->m, mod->driver))) {
		drv->registered = true;
		layout_driver(s->root, s->m, drv);
		attach_all(s, drv);
	}
	if (strcmp(mod->name, "nvidia_drm") == 0)
		refresh_cards(s);
	return 0;
}

int sk_unload(struct sim *s, const char *name)
{
	struct m_mod *mod = machine_find_mod(s->m, name);
	struct m_driver *drv;

	if (!mod || mod->state != M_MOD_LOADED)
		return -ENOENT;
	if (mod->unload_errno) {
		int err = mod->unload_errno;

		if (mod->unload_once)
			mod->unload_errno = 0;
		return -err;
	}
	for (size_t i = 0; i < s->m->nmods; i++) {
		const struct m_mod *u = &s->m->mods[i];

		for (size_t k = 0; u->state == M_MOD_LOADED && k < u->ndeps; k++)
			if (strcmp(u->deps[k], mod->name) == 0)
				return -EWOULDBLOCK; /* other modules depend on it */
	}
	if (mod->refcnt > 0)
		return -EWOULDBLOCK;
	/* A remove() of its driver still running: the module is busy. */
	for (size_t i = 0; mod->driver && i < s->m->ndevs; i++)
		if (s->m->devs[i].unbinding && s->m->devs[i].driver &&
		    strcmp(s->m->devs[i].driver, mod->driver) == 0)
			return -EWOULDBLOCK;
	/* The driver goes, and with it every binding it had. */
	if (mod->driver && (drv = machine_find_driver(s->m, mod->driver))) {
		for (size_t i = 0; i < s->m->ndevs; i++)
			if (s->m->devs[i].driver && strcmp(s->m->devs[i].driver, drv->name) == 0)
				unbind(s, (int)i);
		drv->registered = false;
		layout_driver(s->root, s->m, drv);
	}
	mod->state = M_MOD_AVAILABLE;
	layout_modules(s->root, s->m);
	layout_module_nodes(s->root, s->m);
	if (strcmp(mod->name, "nvidia_drm") == 0)
		refresh_cards(s);
	return 0;
}

/* fault DEV WHAT [ARG [DRV]]: machine_dev_fault's faults, set at run time. */
static int dev_fault(struct sim *s, char *args)
{
	char *dev = strtok(args, " "), *what = strtok(NULL, " "), *arg = strtok(NULL, " ");
	int i;

	if (!dev || !what || (i = find_dev_loose(s, dev)) < 0)
		return -ENODEV;
	return machine_dev_fault(&s->m->devs[i], what, arg, strtok(NULL, " "));
}

int sk_control(struct sim *s, const char *cmd)
{
	char buf[4096], *verb, *rest;
	int i;

	snprintf(buf, sizeof(buf), "%s", cmd);
	verb = strtok_r(buf, " ", &rest);
	if (!verb)
		return -EINVAL;
	if (strcmp(verb, "load") == 0 || strcmp(verb, "unload") == 0) {
		char *name = strtok_r(NULL, " ", &rest);

		if (!name)
			return -EINVAL;
		return verb[0] == 'l' ? sk_load(s, name) : sk_unload(s, name);
	}
	if (strcmp(verb, "release") == 0) {
		char *dev = strtok_r(NULL, " ", &rest);

		if (dev && strcmp(dev, "writes") == 0) {
			s->release_writes = true;
			return 0;
		}

		if (!dev || (i = find_dev_loose(s, dev)) < 0)
			return -ENODEV;
		s->m->devs[i].unbind_blocks = false;
		return 0;
	}
	if (strcmp(verb, "hugepages") == 0) {
		int err = machine_huge_ctl(s->m, rest);

		layout_memory(s->root, s->m);
		return err;
	}
	if (strcmp(verb, "fault") != 0)
		return -EINVAL;
	while (isspace((unsigned char)*rest))
		rest++;
	if (strncmp(rest, "write ", 6) == 0) {
		/*
		 * fault write PATH ERRNO|block|ignore [once] [skip=N]: PATH as it
		 * resolves now, or, for an attribute yet to appear, its canonical path.
		 */
		char *path = strtok_r(rest + 6, " ", &rest), *err = strtok_r(NULL, " ", &rest), *w;
		struct t_node *n = path ? t_resolve(s->root, path) : NULL;
		struct sk_wfault f = { "", 0, false, false, false, 0 };

		if (!path || path[0] != '/' || strlen(path) >= sizeof(f.path))
			return -EINVAL;
		if (n)
			t_path(n, f.path, sizeof(f.path));
		else
			snprintf(f.path, sizeof(f.path), "%s", path);
		f.block = err && strcmp(err, "block") == 0;
		f.ignore = err && strcmp(err, "ignore") == 0;
		if (!err || (!f.block && !f.ignore && parse_errno(err) <= 0))
			return -EINVAL;
		f.err = f.block || f.ignore ? 0 : parse_errno(err);
		while ((w = strtok_r(NULL, " ", &rest))) {
			if (strcmp(w, "once") == 0)
				f.once = true;
			else if (strncmp(w, "skip=", 5) == 0)
				f.skip = (int)strtol(w + 5, NULL, 10);
			else
				return -EINVAL;
		}
		s->wfaults = realloc(s->wfaults, (s->nwfaults + 1) * sizeof(*s->wfaults));
		if (!s->wfaults)
			abort();
		s->wfaults[s->nwfaults++] = f;
		return 0;
	}
	if (strncmp(rest, "module ", 7) == 0) {
		char *name = strtok_r(rest + 7, " ", &rest), *op = strtok_r(NULL, " ", &rest);
		char *err = strtok_r(NULL, " ", &rest), *once = strtok_r(NULL, " ", &rest);
		struct m_mod *mod = name ? machine_find_mod(s->m, name) : NULL;
		bool block = err && strcmp(err, "block") == 0;
		int e = err && !block ? parse_errno(err) : 0;

		if (!mod || !op || e < 0)
			return -EINVAL;
		if (once && strcmp(once, "once") != 0)
			return -EINVAL;
		if (strcmp(op, "load") == 0) {
			mod->load_errno = e;
			mod->load_block = block;
			mod->load_once = once;
		} else if (strcmp(op, "unload") == 0) {
			mod->unload_errno = e;
			mod->unload_block = block;
			mod->unload_once = once;
		} else {
			return -EINVAL;
		}
		return 0;
	}
	return dev_fault(s, rest);
}

void sk_boot(struct sim *s, struct machine *m, struct t_node *root)
{
	memset(s, 0, sizeof(*s));
	s->m = m;
	s->root = root;
	s->kver = machine_kver(m);
	for (size_t i = 0; i < m->ndevs; i++)
		if (m->devs[i].group + 1 > s->ngroups)
			s->ngroups = m->devs[i].group + 1;
	s->group_opens = calloc((size_t)s->ngroups + 1, sizeof(*s->group_opens));
	if (!s->group_opens)
		abort();
	layout_build(root, m);
	update_consoles(s);
}
