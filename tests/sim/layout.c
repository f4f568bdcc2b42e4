/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The machine model projected into sysfs, procfs and /dev as the kernel lays them out. */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"

#define RO 0444
#define RW 0644
#define WO 0200

static const char *const drm_drivers[] = { "amdgpu", "i915",	  "xe",	 "nouveau", "radeon",
					   "ast",    "bochs-drm", "qxl", "nvidia" };

void layout_dev_path(const struct machine *m, int dev, char *buf, size_t size)
{
	const struct m_dev *d = &m->devs[dev];
	char name[20];
	size_t len;

	/* Below the bridges it sits behind, as the kernel nests them. */
	if (d->parent >= 0 && d->parent != dev)
		layout_dev_path(m, d->parent, buf, size);
	else
		snprintf(buf, size, "/sys/devices/pci%04x:00", d->domain);
	m_dev_name(d, name);
	len = strlen(buf);
	snprintf(buf + len, size - len, "/%s", name);
}

/*
 * The attribute DIR/NAME holding FMT's text: made anew (IN_PLACE false), or
 * with its contents changed in place where it is there already, so that an
 * open file keeps its inode.
 */
static struct t_node *vattr(struct t_node *root, const char *dir, const char *name, mode_t mode,
			    int kind, void *obj, bool in_place, const char *fmt, va_list ap)
    __attribute__((format(printf, 8, 0)));

static struct t_node *vattr(struct t_node *root, const char *dir, const char *name, mode_t mode,
			    int kind, void *obj, bool in_place, const char *fmt, va_list ap)
{
	char path[PATH_MAX], *data;
	struct t_node *n;
	int len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((len = vasprintf(&data, fmt, ap)) < 0)
		abort();
	if (!in_place || !(n = t_lookup(root, path)) || n->type != T_FILE) {
		n = t_file(root, path, mode, "", 0);
		n->kind = kind;
		n->obj = obj;
	}
	t_set_data(n, data, (size_t)len);
	free(data);
	return n;
}

static struct t_node *attr(struct t_node *root, const char *dir, const char *name, mode_t mode,
			   int kind, void *obj, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static struct t_node *attr(struct t_node *root, const char *dir, const char *name, mode_t mode,
			   int kind, void *obj, const char *fmt, ...)
{
	struct t_node *n;
	va_list ap;

	va_start(ap, fmt);
	n = vattr(root, dir, name, mode, kind, obj, false, fmt, ap);
	va_end(ap);
	return n;
}

static void linkf(struct t_node *root, const char *target, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void linkf(struct t_node *root, const char *target, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	t_link(root, path, target);
}

static void mkdirf(struct t_node *root, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mkdirf(struct t_node *root, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	t_mkdir(root, path);
}

static void removef(struct t_node *root, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void removef(struct t_node *root, const char *fmt, ...)
{
	char path[PATH_MAX];
	struct t_node *n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if ((n = t_lookup(root, path)))
		t_remove(n);
}

/* Memory BARs, one window per device, so /proc/iomem and resource agree. */
static unsigned long long bar0(int dev)
{
	return 0xf0000000ULL + (unsigned long long)dev * 0x100000ULL;
}

static unsigned long long vram(const struct machine *m, int dev)
{
	int k = 0;

	for (int i = 0; i < dev; i++)
		k += (m->devs[i].class >> 16) == 0x03;
	return 0x4000000000ULL + (unsigned long long)k * 0x10000000ULL;
}

static bool is_display(const struct m_dev *d)
{
	return (d->class >> 16) == 0x03;
}

static bool multifunction(const struct machine *m, const struct m_dev *d)
{
	for (size_t i = 0; i < m->ndevs; i++) {
		const struct m_dev *o = &m->devs[i];

		if (o != d && o->domain == d->domain && o->bus == d->bus && o->dev == d->dev)
			return true;
	}
	return false;
}

static void config_space(struct t_node *root, const char *dir, const struct machine *m, int i)
{
	const struct m_dev *d = &m->devs[i];
	unsigned char c[256] = { 0 };
	char path[PATH_MAX];
	struct t_node *n;

	c[0] = d->vendor & 0xff;
	c[1] = d->vendor >> 8;
	c[2] = d->device & 0xff;
	c[3] = d->device >> 8;
	c[4] = 0x07; /* I/O, memory, bus master */
	c[6] = 0x10; /* capability list */
	c[8] = d->rev & 0xff;
	c[9] = d->class & 0xff;
	c[10] = (d->class >> 8) & 0xff;
	c[11] = (d->class >> 16) & 0xff;
	c[14] = ((d->class >> 8) == 0x0604 || (d->class >> 8) == 0x0609) ? 0x01 : 0x00;
	if (multifunction(m, d) && d->func == 0)
		c[14] |= 0x80;
	if (c[14] & 0x7f) {
		c[0x18] = d->bus; /* primary, secondary, subordinate: unknown topology */
		c[0x19] = d->bus + 1;
		c[0x1a] = d->bus + 1;
	} else {
		unsigned long long b = bar0(i);

		c[0x10] = b & 0xff;
		c[0x11] = (b >> 8) & 0xff;
		c[0x12] = (b >> 16) & 0xff;
		c[0x13] = (b >> 24) & 0xff;
		c[0x2c] = d->vendor & 0xff;
		c[0x2d] = d->vendor >> 8;
		c[0x2e] = d->device & 0xff;
		c[0x2f] = d->device >> 8;
	}
	c[0x34] = 0x40;
	c[0x3d] = 1;
	snprintf(path, sizeof(path), "%s/config", dir);
	n = t_file(root, path, RW, (const char *)c, sizeof(c));
	(void)n;
}

static void resources(struct t_node *root, const char *dir, const struct machine *m, int i)
{
	const struct m_dev *d = &m->devs[i];
	char buf[2048];
	size_t len = 0;

	for (int r = 0; r < 13; r++) {
		unsigned long long start = 0, end = 0, flags = 0;

		if (!m_dev_is_bridge(d) && r == 0) {
			start = bar0(i);
			end = start + (is_display(d) ? 0xfffff : 0x3fff);
			flags = 0x40200;
		} else if (is_display(d) && r == 1) {
			start = vram(m, i);
			end = start + 0xfffffff;
			flags = 0x14220c;
		}
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
					"0x%016llx 0x%016llx 0x%016llx\n", start, end, flags);
	}
	attr(root, dir, "resource", RO, K_PLAIN, NULL, "%s", buf);
}

static void dev_tree(struct t_node *root, struct machine *m, int i)
{
	struct m_dev *d = &m->devs[i];
	char dir[PATH_MAX], name[20], alias[128];

	layout_dev_path(m, i, dir, sizeof(dir));
	m_dev_name(d, name);
	t_mkdir(root, dir);
	snprintf(alias, sizeof(alias), "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", d->vendor,
		 d->device, d->vendor, d->device, d->class >> 16, (d->class >> 8) & 0xff,
		 d->class & 0xff);
	attr(root, dir, "vendor", RO, K_PLAIN, NULL, "0x%04x\n", d->vendor);
	attr(root, dir, "device", RO, K_PLAIN, NULL, "0x%04x\n", d->device);
	attr(root, dir, "subsystem_vendor", RO, K_PLAIN, NULL, "0x%04x\n", d->vendor);
	attr(root, dir, "subsystem_device", RO, K_PLAIN, NULL, "0x%04x\n", d->device);
	attr(root, dir, "class", RO, K_PLAIN, NULL, "0x%06x\n", d->class);
	attr(root, dir, "revision", RO, K_PLAIN, NULL, "0x%02x\n", d->rev);
	attr(root, dir, "irq", RO, K_PLAIN, NULL, "%d\n", 24 + i);
	attr(root, dir, "numa_node", RO, K_PLAIN, NULL, "-1\n");
	attr(root, dir, "enable", RW, K_PLAIN, NULL, "1\n");
	attr(root, dir, "local_cpulist", RO, K_PLAIN, NULL, "0-1\n");
	attr(root, dir, "power_state", RO, K_PLAIN, NULL, "D0\n");
	attr(root, dir, "d3cold_allowed", RW, K_PLAIN, NULL, "1\n");
	attr(root, dir, "modalias", RO, K_PLAIN, NULL, "%s\n", alias);
	attr(root, dir, "driver_override", RW, K_DRIVER_OVERRIDE, d, "%s\n",
	     d->override ? d->override : "(null)");
	attr(root, dir, "remove", WO, K_DEV_REMOVE, d, "%s", "");
	attr(root, dir, "rescan", WO, K_DEV_RESCAN, d, "%s", "");
	if ((d->class >> 8) == 0x0300)
		attr(root, dir, "boot_vga", RO, K_PLAIN, NULL, "%d\n", d->boot_vga);
	if (d->reset_method && strcmp(d->reset_method, "none") != 0) {
		attr(root, dir, "reset", WO, K_RESET, d, "%s", "");
		attr(root, dir, "reset_method", RW, K_PLAIN, NULL, "%s\n", d->reset_method);
	}
	config_space(root, dir, m, i);
	resources(root, dir, m, i);
	linkf(root, "/sys/bus/pci", "%s/subsystem", dir);
	linkf(root, dir, "/sys/bus/pci/devices/%s", name);
	if (d->group >= 0 && strcmp(m->iommu, "off") != 0) {
		char g[64];

		snprintf(g, sizeof(g), "/sys/kernel/iommu_groups/%d", d->group);
		linkf(root, g, "%s/iommu_group", dir);
		linkf(root, dir, "%s/devices/%s", g, name);
		attr(root, g, "type", RO, K_PLAIN, NULL, "%s\n",
		     strstr(m->cmdline, "iommu=pt") ? "identity" : "DMA");
		attr(root, g, "reserved_regions", RO, K_PLAIN, NULL,
		     "0x00000000fee00000 0x00000000feefffff msi\n");
	}
}

static bool drm_driver(const struct machine *m, const char *drv)
{
	for (size_t i = 0; i < sizeof(drm_drivers) / sizeof(*drm_drivers); i++)
		if (strcmp(drv, drm_drivers[i]) == 0) {
			const struct m_mod *nv = machine_find_mod(m, "nvidia_drm");

			/* nvidia shows a DRM card only through nvidia_drm. */
			return strcmp(drv, "nvidia") != 0 || (nv && nv->state == M_MOD_LOADED);
		}
	return false;
}

static int nvidia_minor(const struct machine *m, int dev)
{
	int k = 0;

	for (int i = 0; i < dev; i++)
		k += m->devs[i].driver && strcmp(m->devs[i].driver, "nvidia") == 0;
	return k;
}

static void devnode(struct t_node *root, const char *path, int kind, void *obj)
{
	struct t_node *n = t_file(root, path, 0666, "", 0);

	n->kind = kind;
	n->obj = obj;
}

static void uevent(struct t_node *root, const char *dir, const struct m_dev *d)
{
	char name[20];

	m_dev_name(d, name);
	attr(root, dir, "uevent", RW, K_PLAIN, NULL,
	     "%s%s%sPCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\nPCI_SLOT_NAME=%s\n",
	     d->driver ? "DRIVER=" : "", d->driver ? d->driver : "", d->driver ? "\n" : "",
	     d->class, d->vendor, d->device, d->vendor, d->device, name);
}

/* The nodes of a sound card: what PipeWire and PulseAudio hold open. */
static const char *const snd_nodes[] = { "controlC%d", "pcmC%dD0p", "pcmC%dD0c", "hwC%dD0" };

static bool sound_driver(const char *drv)
{
	return strncmp(drv, "snd_", 4) == 0 || strncmp(drv, "snd-", 4) == 0;
}

static void sound_card(struct t_node *root, struct machine *m, struct m_dev *d, const char *dir)
{
	int card = 0;
	char p[PATH_MAX], node[32];

	for (bool used = true; used; card += used) {
		used = false;
		for (size_t j = 0; j < m->ndevs; j++)
			used = used || m->devs[j].snd_card == card;
	}
	d->snd_card = card;
	snprintf(p, sizeof(p), "%s/sound/card%d/number", dir, card);
	t_filef(root, p, RO, "%d\n", card);
	snprintf(p, sizeof(p), "%s/sound/card%d", dir, card);
	linkf(root, p, "/sys/class/sound/card%d", card);
	for (size_t k = 0; k < sizeof(snd_nodes) / sizeof(*snd_nodes); k++) {
		snprintf(node, sizeof(node), snd_nodes[k], card);
		snprintf(p, sizeof(p), "%s/sound/card%d/%s/dev", dir, card, node);
		t_filef(root, p, RO, "116:%zu\n", (size_t)card * 32 + k);
		snprintf(p, sizeof(p), "%s/sound/card%d/%s", dir, card, node);
		linkf(root, p, "/sys/class/sound/%s", node);
		snprintf(p, sizeof(p), "/dev/snd/%s", node);
		devnode(root, p, K_DEVNODE, d);
	}
}

static void sound_card_remove(struct t_node *root, struct m_dev *d, const char *dir)
{
	char node[32];

	removef(root, "%s/sound", dir);
	removef(root, "/sys/class/sound/card%d", d->snd_card);
	for (size_t k = 0; k < sizeof(snd_nodes) / sizeof(*snd_nodes); k++) {
		snprintf(node, sizeof(node), snd_nodes[k], d->snd_card);
		removef(root, "/sys/class/sound/%s", node);
		removef(root, "/dev/snd/%s", node);
	}
	d->snd_card = -1;
}

void layout_dev_unlink(struct t_node *root, struct machine *m, int i)
{
	struct m_dev *d = &m->devs[i];
	char dir[PATH_MAX], name[20];

	layout_dev_path(m, i, dir, sizeof(dir));
	m_dev_name(d, name);
	if (d->driver)
		removef(root, "/sys/bus/pci/drivers/%s/%s", d->driver, name);
	removef(root, "%s/driver", dir);
	/*
	 * A sound driver's remove() disconnects the card first (snd_card_disconnect:
	 * its device files and sysfs entries go), then waits for the files still
	 * open to close: no one can find the holder by its node meanwhile (seen on
	 * Debian's 6.1 and 6.12, tests/vm.bats scenario 4d).
	 */
	if (d->driver && sound_driver(d->driver) && d->snd_card >= 0)
		sound_card_remove(root, d, dir);
}

void layout_dev_binding(struct t_node *root, struct machine *m, int i, const char *old)
{
	struct m_dev *d = &m->devs[i];
	char dir[PATH_MAX], name[20];

	layout_dev_path(m, i, dir, sizeof(dir));
	m_dev_name(d, name);
	if (old) {
		removef(root, "/sys/bus/pci/drivers/%s/%s", old, name);
		removef(root, "%s/driver", dir);
		if (d->snd_card >= 0)
			sound_card_remove(root, d, dir);
		if (d->drm_minor >= 0) {
			removef(root, "%s/drm", dir);
			removef(root, "/sys/class/drm/card%d", d->drm_minor);
			removef(root, "/sys/class/drm/renderD%d", 128 + d->drm_minor);
			removef(root, "/dev/dri/card%d", d->drm_minor);
			removef(root, "/dev/dri/renderD%d", 128 + d->drm_minor);
			d->drm_minor = -1;
		}
		if (strcmp(old, "nvidia") == 0) {
			removef(root, "/proc/driver/nvidia/gpus/%s", name);
			removef(root, "/dev/nvidia%d", nvidia_minor(m, i));
		}
		if (strcmp(old, "vfio-pci") == 0 && d->group >= 0) {
			bool others = false;

			for (size_t j = 0; j < m->ndevs; j++)
				others = others || ((int)j != i && m->devs[j].group == d->group &&
						    m->devs[j].driver &&
						    strcmp(m->devs[j].driver, "vfio-pci") == 0);
			if (!others)
				removef(root, "/dev/vfio/%d", d->group);
		}
	}
	uevent(root, dir, d);
	if (!d->driver)
		return;
	linkf(root, dir, "/sys/bus/pci/drivers/%s/%s", d->driver, name);
	{
		char drv[PATH_MAX];

		snprintf(drv, sizeof(drv), "/sys/bus/pci/drivers/%s", d->driver);
		linkf(root, drv, "%s/driver", dir);
	}
	if (is_display(d) && drm_driver(m, d->driver)) {
		int minor = 0;

		for (bool used = true; used; minor += used) {
			used = false;
			for (size_t j = 0; j < m->ndevs; j++)
				used = used || m->devs[j].drm_minor == minor;
		}
		d->drm_minor = minor;
		{
			char p[PATH_MAX];

			snprintf(p, sizeof(p), "%s/drm/card%d/dev", dir, minor);
			t_filef(root, p, RO, "226:%d\n", minor);
			snprintf(p, sizeof(p), "%s/drm/renderD%d/dev", dir, 128 + minor);
			t_filef(root, p, RO, "226:%d\n", 128 + minor);
			snprintf(p, sizeof(p), "%s/drm/card%d", dir, minor);
			linkf(root, p, "/sys/class/drm/card%d", minor);
			snprintf(p, sizeof(p), "%s/drm/renderD%d", dir, 128 + minor);
			linkf(root, p, "/sys/class/drm/renderD%d", 128 + minor);
			snprintf(p, sizeof(p), "/dev/dri/card%d", minor);
			devnode(root, p, K_DEVNODE, d);
			snprintf(p, sizeof(p), "/dev/dri/renderD%d", 128 + minor);
			devnode(root, p, K_DEVNODE, d);
		}
	}
	if (strcmp(d->driver, "nvidia") == 0) {
		char p[PATH_MAX];
		int minor = nvidia_minor(m, i);

		snprintf(p, sizeof(p), "/proc/driver/nvidia/gpus/%s/information", name);
		t_filef(
		    root, p, RO,
		    "Model: \t\t %s\nIRQ:   \t\t %d\nBus Location: \t %s\nDevice Minor: \t %d\n",
		    d->name_text ? d->name_text : "NVIDIA GPU", 24 + i, name, minor);
		snprintf(p, sizeof(p), "/dev/nvidia%d", minor);
		devnode(root, p, K_DEVNODE, d);
	}
	if (strcmp(d->driver, "vfio-pci") == 0 && d->group >= 0) {
		char p[64];

		snprintf(p, sizeof(p), "/dev/vfio/%d", d->group);
		if (!t_lookup(root, p))
			devnode(root, p, K_GROUPNODE, d);
	}
	/* HD audio (0403) and the older multimedia audio (0401, AC97) alike. */
	if (((d->class >> 8) == 0x0403 || (d->class >> 8) == 0x0401) && sound_driver(d->driver) &&
	    d->snd_card < 0)
		sound_card(root, m, d, dir);
}

void layout_driver(struct t_node *root, struct machine *m, struct m_driver *drv)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "/sys/bus/%s/drivers/%s", drv->platform ? "platform" : "pci",
		 drv->name);
	if (!drv->registered) {
		removef(root, "%s", dir);
		return;
	}
	t_mkdir(root, dir);
	attr(root, dir, "bind", WO, K_BIND, drv, "%s", "");
	attr(root, dir, "unbind", WO, K_UNBIND, drv, "%s", "");
	attr(root, dir, "uevent", WO, K_PLAIN, NULL, "%s", "");
	if (!drv->platform) {
		attr(root, dir, "new_id", WO, K_NEW_ID, drv, "%s", "");
		attr(root, dir, "remove_id", WO, K_REMOVE_ID, drv, "%s", "");
	}
	if (drv->mod >= 0) {
		char mod[PATH_MAX];

		snprintf(mod, sizeof(mod), "/sys/module/%s", m->mods[drv->mod].name);
		linkf(root, mod, "%s/module", dir);
	}
}

/* Loaded modules that use MOD's symbols. */
static size_t users(const struct machine *m, const struct m_mod *mod, char *buf, size_t size)
{
	size_t n = 0, len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < m->nmods; i++) {
		const struct m_mod *u = &m->mods[i];

		if (u->state != M_MOD_LOADED)
			continue;
		for (size_t j = 0; j < u->ndeps; j++)
			if (strcmp(u->deps[j], mod->name) == 0) {
				len += (size_t)snprintf(buf + len, size - len, "%s,", u->name);
				n++;
			}
	}
	return n;
}

void layout_modules(struct t_node *root, struct machine *m)
{
	char procmod[16384], list[1024];
	size_t len = 0;

	removef(root, "/sys/module");
	t_mkdir(root, "/sys/module");
	for (size_t i = 0; i < m->nmods; i++) {
		const struct m_mod *mod = &m->mods[i];
		char dir[PATH_MAX];
		size_t n;

		if (mod->state != M_MOD_LOADED && mod->state != M_MOD_BUILTIN)
			continue;
		snprintf(dir, sizeof(dir), "/sys/module/%s", mod->name);
		t_mkdir(root, dir);
		if (mod->state == M_MOD_BUILTIN) {
			/* Built-in modules show only their parameters. */
			mkdirf(root, "%s/parameters", dir);
			continue;
		}
		n = users(m, mod, list, sizeof(list));
		attr(root, dir, "initstate", RO, K_PLAIN, NULL, "live\n");
		attr(root, dir, "refcnt", RO, K_PLAIN, NULL, "%zu\n", n + (size_t)mod->refcnt);
		attr(root, dir, "coresize", RO, K_PLAIN, NULL, "%zu\n", 16384 + 4096 * i);
		mkdirf(root, "%s/holders", dir);
		mkdirf(root, "%s/parameters", dir);
		for (size_t j = 0; j < m->nmods; j++) {
			const struct m_mod *u = &m->mods[j];

			if (u->state != M_MOD_LOADED)
				continue;
			for (size_t k = 0; k < u->ndeps; k++)
				if (strcmp(u->deps[k], mod->name) == 0) {
					char t[PATH_MAX];

					snprintf(t, sizeof(t), "/sys/module/%s", u->name);
					linkf(root, t, "%s/holders/%s", dir, u->name);
				}
		}
		if (mod->driver) {
			char t[PATH_MAX];

			snprintf(t, sizeof(t), "/sys/bus/%s/drivers/%s",
				 mod->platform ? "platform" : "pci", mod->driver);
			linkf(root, t, "%s/drivers/%s:%s", dir, mod->platform ? "platform" : "pci",
			      mod->driver);
		}
		n = users(m, mod, list, sizeof(list));
		len += (size_t)snprintf(procmod + len, sizeof(procmod) - len,
					"%s %zu %zu %s Live 0x0000000000000000\n", mod->name,
					16384 + 4096 * i, n + (size_t)mod->refcnt, n ? list : "-");
	}
	t_file(root, "/proc/modules", RO, procmod, len);
}

void layout_module_nodes(struct t_node *root, struct machine *m)
{
	static const char *const nodes[][2] = {
		{ "nvidia", "/dev/nvidiactl" },
		{ "nvidia_modeset", "/dev/nvidia-modeset" },
		{ "nvidia_uvm", "/dev/nvidia-uvm" },
		{ "vfio", "/dev/vfio/vfio" },
	};

	for (size_t i = 0; i < sizeof(nodes) / sizeof(*nodes); i++) {
		struct m_mod *mod = machine_find_mod(m, nodes[i][0]);
		struct t_node *n = t_lookup(root, nodes[i][1]);
		/*
		 * vfio declares devname:vfio/vfio: under systemd the node is there from
		 * boot (kmod-static-nodes), and opening it loads the module.
		 */
		bool live = mod && (mod->state == M_MOD_LOADED || mod->state == M_MOD_BUILTIN ||
				    (strcmp(mod->name, "vfio") == 0 && mod->state != M_MOD_ABSENT &&
				     strcmp(m->init, "systemd") == 0));

		if (live && !n)
			devnode(root, nodes[i][1], K_MODNODE, mod);
		else if (!live && n)
			t_remove(n);
	}
}

void layout_console(struct t_node *root, struct machine *m, int i)
{
	struct m_console *c = &m->consoles[i];
	char dir[PATH_MAX], link[64];

	snprintf(dir, sizeof(dir), "/sys/devices/virtual/vtconsole/vtcon%d", i);
	snprintf(link, sizeof(link), "/sys/class/vtconsole/vtcon%d", i);
	if (!c->present) {
		removef(root, "%s", dir);
		removef(root, "%s", link);
		return;
	}
	attr(root, dir, "name", RO, K_PLAIN, NULL, "%s\n", c->name);
	attr(root, dir, "bind", RW, K_VTCON_BIND, c, "%d\n", c->bound);
	attr(root, dir, "uevent", RW, K_PLAIN, NULL, "%s", "");
	t_link(root, link, dir);
}

void layout_framebuffer(struct t_node *root, struct machine *m)
{
	char dir[PATH_MAX], name[64];

	if (!m->fb_kind)
		return;
	snprintf(name, sizeof(name), "%s.0", m->fb_kind);
	/*
	 * sysfb registers it below the GPU it sits on from Linux 6.7 (seen on
	 * 6.12; on 6.1 it is a platform device of its own).
	 */
	if (machine_kver(m) >= 6007 && m->fb_dev >= 0) {
		size_t len;

		layout_dev_path(m, m->fb_dev, dir, sizeof(dir));
		len = strlen(dir);
		snprintf(dir + len, sizeof(dir) - len, "/%s", name);
	} else {
		snprintf(dir, sizeof(dir), "/sys/devices/platform/%s", name);
	}
	if (m->fb_gone) {
		/* Unregistered: the device and every link to it are gone. */
		removef(root, "/sys/bus/platform/drivers/%s/%s", m->fb_kind, name);
		removef(root, "/sys/bus/platform/devices/%s", name);
		removef(root, "%s", dir);
		return;
	}
	t_mkdir(root, dir);
	attr(root, dir, "modalias", RO, K_PLAIN, NULL, "platform:%s\n", m->fb_kind);
	attr(root, dir, "driver_override", RW, K_PLAT_OVERRIDE, NULL, "(null)\n");
	linkf(root, "/sys/bus/platform", "%s/subsystem", dir);
	linkf(root, dir, "/sys/bus/platform/devices/%s", name);
	for (size_t i = 0; i < m->ndrivers; i++)
		if (m->drivers[i].platform)
			removef(root, "/sys/bus/platform/drivers/%s/%s", m->drivers[i].name, name);
	removef(root, "%s/driver", dir);
	if (m->fb_driver && *m->fb_driver) {
		char drv[PATH_MAX];

		snprintf(drv, sizeof(drv), "/sys/bus/platform/drivers/%s", m->fb_driver);
		linkf(root, drv, "%s/driver", dir);
		linkf(root, dir, "%s/%s", drv, name);
	}
}

static void block_devices(struct t_node *root, struct machine *m)
{
	char mountinfo[8192], swaps[2048];
	size_t mlen, slen;
	int id = 30, nvme = 0, sd = 0, part_minor = 0;

	mlen = (size_t)snprintf(
	    mountinfo, sizeof(mountinfo),
	    "21 1 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
	    "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
	    "23 1 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,mode=755\n"
	    "25 1 0:23 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,mode=755\n");
	slen = (size_t)snprintf(swaps, sizeof(swaps),
				"Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
	for (size_t i = 0; i < m->ndevs; i++) {
		char dir[PATH_MAX], disk[PATH_MAX], dname[32], pname[40], p[PATH_MAX];
		int major, minor0, part = 0;
		bool is_nvme = (m->devs[i].class >> 8) == 0x0108, any = false;

		for (size_t k = 0; k < m->nmounts; k++)
			any = any || m->mounts[k].dev == (int)i;
		if (!any)
			continue;
		layout_dev_path(m, (int)i, dir, sizeof(dir));
		if (is_nvme) {
			major = 259;
			minor0 = 0;
			snprintf(dname, sizeof(dname), "nvme%dn1", nvme);
			snprintf(disk, sizeof(disk), "%s/nvme/nvme%d/%s", dir, nvme, dname);
			nvme++;
		} else {
			major = 8;
			minor0 = sd * 16;
			snprintf(dname, sizeof(dname), "sd%c", 'a' + sd);
			snprintf(disk, sizeof(disk),
				 "%s/ata%d/host%d/target%d:0:0/%d:0:0:0/block/%s", dir, sd + 1, sd,
				 sd, sd, dname);
			sd++;
		}
		snprintf(p, sizeof(p), "%s/dev", disk);
		t_filef(root, p, RO, "%d:%d\n", major, is_nvme ? part_minor++ : minor0);
		snprintf(p, sizeof(p), "/sys/class/block/%s", dname);
		t_link(root, p, disk);
		for (size_t k = 0; k < m->nmounts; k++) {
			const struct m_mount *mt = &m->mounts[k];
			char pdir[PATH_MAX];
			int minor;

			if (mt->dev != (int)i)
				continue;
			part++;
			snprintf(pname, sizeof(pname), "%s%s%d", dname, is_nvme ? "p" : "", part);
			minor = is_nvme ? part_minor++ : minor0 + part;
			snprintf(pdir, sizeof(pdir), "%s/%s", disk, pname);
			snprintf(p, sizeof(p), "%s/dev", pdir);
			t_filef(root, p, RO, "%d:%d\n", major, minor);
			snprintf(p, sizeof(p), "%s/partition", pdir);
			t_filef(root, p, RO, "%d\n", part);
			snprintf(p, sizeof(p), "/sys/class/block/%s", pname);
			t_link(root, p, pdir);
			snprintf(p, sizeof(p), "/sys/dev/block/%d:%d", major, minor);
			t_link(root, p, pdir);
			snprintf(p, sizeof(p), "/dev/%s", pname);
			t_file(root, p, 0660, "", 0);
			if (mt->swap)
				slen += (size_t)snprintf(
				    swaps + slen, sizeof(swaps) - slen,
				    "/dev/%-36s partition\t8388604\t\t0\t\t-2\n", pname);
			else {
				mlen += (size_t)snprintf(
				    mountinfo + mlen, sizeof(mountinfo) - mlen,
				    "%d 1 %d:%d / %s rw,relatime shared:%d - %s /dev/%s rw\n", id,
				    major, minor, mt->target, id, mt->fstype, pname);
				id++;
			}
		}
	}
	t_file(root, "/proc/self/mountinfo", RO, mountinfo, mlen);
	t_file(root, "/proc/swaps", RO, swaps, slen);
}

static void net_devices(struct t_node *root, struct machine *m)
{
	for (size_t k = 0; k < m->nnetifs; k++) {
		const struct m_netif *n = &m->netifs[k];
		char dir[PATH_MAX], ndir[PATH_MAX], p[PATH_MAX];

		layout_dev_path(m, n->dev, dir, sizeof(dir));
		snprintf(ndir, sizeof(ndir), "%s/net/%s", dir, n->name);
		attr(root, ndir, "operstate", RO, K_PLAIN, NULL, "%s\n", n->up ? "up" : "down");
		attr(root, ndir, "flags", RO, K_PLAIN, NULL, "%s\n", n->up ? "0x1003" : "0x1002");
		attr(root, ndir, "carrier", RO, K_PLAIN, NULL, "%d\n", n->up);
		attr(root, ndir, "address", RO, K_PLAIN, NULL, "52:54:00:12:34:%02zx\n", k);
		snprintf(p, sizeof(p), "/sys/class/net/%s", n->name);
		t_link(root, p, ndir);
	}
	t_mkdir(root, "/sys/class/net");
}

/*
 * What the firmware framebuffer holds of its GPU's memory: "BOOTFB", the
 * resource of a simple-framebuffer device, for as long as the device is
 * registered (unbinding simplefb or simpledrm leaves it); "efifb" and
 * "vesafb", the ranges those drivers reserve while bound. An
 * efi-framebuffer device carries none of its own.
 */
static const char *fb_resource(const struct machine *m)
{
	bool bound = m->fb_driver && *m->fb_driver;

	if (strcmp(m->fb_kind, "simple-framebuffer") == 0)
		return "BOOTFB";
	if (strcmp(m->fb_kind, "efi-framebuffer") == 0 && bound)
		return "efifb";
	if (strcmp(m->fb_kind, "vesa-framebuffer") == 0 && bound)
		return "vesafb";
	return NULL;
}

void layout_iomem(struct t_node *root, struct machine *m)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	fprintf(f, "00000000-00000fff : Reserved\n00001000-0009ffff : System RAM\n"
		   "00100000-bfffffff : System RAM\n  01000000-01ffffff : Kernel code\n");
	for (size_t i = 0; i < m->ndevs; i++) {
		const struct m_dev *d = &m->devs[i];
		char name[20];

		if (m_dev_is_bridge(d))
			continue;
		m_dev_name(d, name);
		fprintf(f, "%09llx-%09llx : %s\n", bar0((int)i),
			bar0((int)i) + (is_display(d) ? 0xfffff : 0x3fff), name);
	}
	for (size_t i = 0; i < m->ndevs; i++) {
		const struct m_dev *d = &m->devs[i];
		char name[20];

		if (!is_display(d))
			continue;
		m_dev_name(d, name);
		fprintf(f, "%llx-%llx : PCI Bus %04x:%02x\n  %llx-%llx : %s\n", vram(m, (int)i),
			vram(m, (int)i) + 0xfffffff, d->domain, d->bus, vram(m, (int)i),
			vram(m, (int)i) + 0xfffffff, name);
		if (m->fb_kind && !m->fb_gone && m->fb_dev == (int)i && fb_resource(m))
			fprintf(f, "    %llx-%llx : %s\n", vram(m, (int)i),
				vram(m, (int)i) + 0x7e8fff, fb_resource(m));
	}
	fclose(f);
	t_file(root, "/proc/iomem", RO, buf, size);
	free(buf);
}

static void proc_files(struct t_node *root, struct machine *m)
{
	bool on = strcmp(m->iommu, "off") != 0;

	t_filef(root, "/proc/cmdline", RO, "%s\n", m->cmdline);
	t_filef(root, "/proc/sys/kernel/osrelease", RO, "%s\n", m->kernel);
	t_filef(
	    root, "/proc/cpuinfo", RO,
	    "processor\t: 0\nvendor_id\t: %s\ncpu family\t: 25\nmodel name\t: %s\nflags\t\t: fpu vme de pse %s\n\n",
	    m->cpu,
	    strcmp(m->cpu, "AuthenticAMD") == 0 ? "AMD Ryzen 5 5600G with Radeon Graphics"
						: "Intel(R) Core(TM) i7-12700K",
	    strcmp(m->cpu, "AuthenticAMD") == 0 ? "svm" : "vmx");
	t_filef(
	    root, "/proc/interrupts", RO,
	    "           CPU0       CPU1       \n  0:         44          0   IO-APIC    2-edge      timer\n"
	    " 24:          0       1820   %sPCI-MSI 524288-edge      nvme0q0\n",
	    on ? "IR-" : "");
	layout_iomem(root, m);
	if (on) {
		const char *name = strcmp(m->iommu, "amd") == 0 ? "ivhd0" : "dmar0";
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "/sys/devices/virtual/iommu/%s", name);
		if (strcmp(m->iommu, "amd") == 0)
			attr(root, dir, "amd-iommu/features", RO, K_PLAIN, NULL,
			     "25bf732fa2295afe\n");
		else
			attr(root, dir, "intel-iommu/ecap", RO, K_PLAIN, NULL, "f050da\n");
		linkf(root, dir, "/sys/class/iommu/%s", name);
	}
	t_mkdir(root, "/sys/class/iommu");
	t_mkdir(root, "/sys/kernel/iommu_groups");
	for (size_t k = 0; k < m->nholders; k++) {
		char p[PATH_MAX];
		struct t_node *n;

		snprintf(p, sizeof(p), "/proc/%zu/comm", 4242 + k);
		t_filef(root, p, RO, "%s\n", m->holders[k].comm);
		snprintf(p, sizeof(p), "/proc/%zu/fd/3", 4242 + k);
		n = t_file(root, p, 0777, "", 0);
		/* /proc links are absolute, as the kernel prints them. */
		n->type = T_LINK;
		t_set_data(n, m->holders[k].node, strlen(m->holders[k].node));
	}
}

static void init_files(struct t_node *root, struct machine *m)
{
	char p[PATH_MAX];
	struct t_node *n;

	/* What each init system leaves in /run while it runs. */
	if (strcmp(m->init, "systemd") == 0)
		t_mkdir(root, "/run/systemd/system");
	else if (strcmp(m->init, "openrc") == 0)
		t_filef(root, "/run/openrc/softlevel", RO, "default\n");
	else if (strcmp(m->init, "runit") == 0)
		t_mkdir(root, "/run/runit");
	if (!m->dm || !*m->dm)
		return;
	if (strcmp(m->init, "systemd") == 0) {
		snprintf(p, sizeof(p), "/lib/systemd/system/%s.service", m->dm);
		t_filef(root, p, RO,
			"[Unit]\nDescription=%s\n\n[Service]\nExecStart=/usr/sbin/%s\n", m->dm,
			m->dm);
		n = t_file(root, "/etc/systemd/system/display-manager.service", 0777, "", 0);
		n->type = T_LINK;
		t_set_data(n, p, strlen(p));
		t_filef(root, "/etc/X11/default-display-manager", RO, "/usr/sbin/%s\n", m->dm);
	} else if (strcmp(m->init, "openrc") == 0) {
		t_filef(root, "/etc/conf.d/display-manager", RO, "DISPLAYMANAGER=\"%s\"\n", m->dm);
		t_filef(root, "/etc/init.d/display-manager", 0755, "#!/sbin/openrc-run\n");
	} else if (strcmp(m->init, "runit") == 0) {
		snprintf(p, sizeof(p), "/etc/sv/%s/run", m->dm);
		t_filef(root, p, 0755, "#!/bin/sh\nexec %s\n", m->dm);
		snprintf(p, sizeof(p), "/etc/runit/runsvdir/default/%s", m->dm);
		n = t_file(root, p, 0777, "", 0);
		n->type = T_LINK;
		snprintf(p, sizeof(p), "/etc/sv/%s", m->dm);
		t_set_data(n, p, strlen(p));
	}
}

/* CPU C's SMT sibling (itself without SMT), as x86 numbers threads: N and N + half. */
static int sibling(const struct machine *m, int c)
{
	if (m->no_smt || m->ncpus < 2 || m->ncpus % 2)
		return c;
	return (c + m->ncpus / 2) % m->ncpus;
}

/* The cgroup v2 tree: systemd's slices with their cpusets, empty (all CPUs) as it leaves them. */
static void cgroups(struct t_node *root, const struct machine *m)
{
	static const char *const units[] = { "init.scope", "system.slice", "user.slice",
					     "machine.slice" };
	const char *dir = "/sys/fs/cgroup";

	attr(root, dir, "cgroup.controllers", RO, K_PLAIN, NULL, "cpuset cpu io memory pids\n");
	attr(root, dir, "cpuset.cpus.effective", RO, K_PLAIN, NULL, "0-%d\n", m->ncpus - 1);
	attr(root, dir, "cgroup.subtree_control", RW, K_PLAIN, NULL,
	     strcmp(m->init, "systemd") == 0 ? "cpuset cpu io memory pids\n" : "\n");
	for (size_t i = 0; strcmp(m->init, "systemd") == 0 && i < sizeof(units) / sizeof(*units);
	     i++) {
		char cg[PATH_MAX];
		struct t_node *eff;

		snprintf(cg, sizeof(cg), "%s/%s", dir, units[i]);
		eff = attr(root, cg, "cpuset.cpus.effective", RO, K_PLAIN, NULL, "0-%d\n",
			   m->ncpus - 1);
		attr(root, cg, "cpuset.cpus", RW, K_CPUSET, eff, "\n");
	}
}

/*
 * cpufreq: a policy per CPU (cpuN/cpufreq links to it), its driver, the
 * governors it offers and the one it runs, which takes only those.
 */
static void cpufreq(struct t_node *root, const struct machine *m)
{
	char boot[64];

	if (strcmp(m->cpufreq, "none") == 0)
		return;
	snprintf(boot, sizeof(boot), "%s", m->governors);
	boot[strcspn(boot, " \t")] = '\0';
	for (int c = 0; c < m->ncpus; c++) {
		char pol[PATH_MAX];

		snprintf(pol, sizeof(pol), "/sys/devices/system/cpu/cpufreq/policy%d", c);
		attr(root, pol, "scaling_driver", RO, K_PLAIN, NULL, "%s\n", m->cpufreq);
		attr(root, pol, "scaling_available_governors", RO, K_PLAIN, NULL, "%s\n",
		     m->governors);
		attr(root, pol, "scaling_governor", RW, K_GOVERNOR, NULL, "%s\n", boot);
		attr(root, pol, "affected_cpus", RO, K_PLAIN, NULL, "%d\n", c);
		linkf(root, pol, "/sys/devices/system/cpu/cpu%d/cpufreq", c);
	}
}

/* The logical CPUs, as libvirt reads them to place QEMU. */
static void cpus(struct t_node *root, const struct machine *m)
{
	const char *dir = "/sys/devices/system/cpu";
	char mask[VU_MASK_MAX];

	attr(root, dir, "online", RO, K_PLAIN, NULL, "0-%d\n", m->ncpus - 1);
	attr(root, dir, "present", RO, K_PLAIN, NULL, "0-%d\n", m->ncpus - 1);
	attr(root, dir, "possible", RO, K_PLAIN, NULL, "0-%d\n", m->ncpus - 1);
	for (int c = 0; c < m->ncpus; c++) {
		char cpu[PATH_MAX];

		snprintf(cpu, sizeof(cpu), "%s/cpu%d", dir, c);
		if (c > 0)
			attr(root, cpu, "online", RW, K_PLAIN, NULL, "1\n");
		snprintf(cpu, sizeof(cpu), "%s/cpu%d/topology", dir, c);
		if (sibling(m, c) == c)
			attr(root, cpu, "thread_siblings_list", RO, K_PLAIN, NULL, "%d\n", c);
		else
			attr(root, cpu, "thread_siblings_list", RO, K_PLAIN, NULL, "%d,%d\n",
			     c < sibling(m, c) ? c : sibling(m, c), c < sibling(m, c) ? sibling(m, c) : c);
	}
	/* Unbound workqueues run anywhere: every CPU, as the kernel's %*pb prints a mask. */
	layout_mask(m->ncpus, mask, sizeof(mask));
	attr(root, "/sys/devices/virtual/workqueue", "cpumask", RW, K_WQ_CPUMASK, NULL, "%s\n",
	     mask);
	cgroups(root, m);
	cpufreq(root, m);
}

void layout_mask_bits(const bool *bits, int ncpus, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	/* 32-bit words, the highest first, comma-separated, the first as wide as its CPUs need. */
	for (int w = (ncpus - 1) / 32; w >= 0; w--) {
		int n = ncpus - w * 32 > 32 ? 32 : ncpus - w * 32;
		unsigned long v = 0;

		for (int b = 0; b < n; b++)
			v |= (unsigned long)bits[w * 32 + b] << b;
		len += (size_t)snprintf(buf + len, size - len, "%s%0*lx", len ? "," : "",
					len ? 8 : (n + 3) / 4, v);
	}
}

void layout_mask(int ncpus, char *buf, size_t size)
{
	bool all[8192];

	for (int c = 0; c < ncpus; c++)
		all[c] = true;
	layout_mask_bits(all, ncpus, buf, size);
}

/* An attribute as attr makes it, its contents changed in place when it is there. */
static void memattr(struct t_node *root, const char *dir, const char *name, mode_t mode, int kind,
		    void *obj, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void memattr(struct t_node *root, const char *dir, const char *name, mode_t mode, int kind,
		    void *obj, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vattr(root, dir, name, mode, kind, obj, true, fmt, ap);
	va_end(ap);
}

void layout_memory(struct t_node *root, struct machine *m)
{
	const struct m_hsize *def = &m->huge[0];
	unsigned long long free_kib = 0, huge_kib = 0;
	char dir[PATH_MAX];

	for (int i = 0; i < m->nnodes; i++)
		free_kib += m_node_free_kib(m, i);
	for (int s = 0; s < M_HSIZES; s++)
		huge_kib += (unsigned long long)m_huge_nr(&m->huge[s], -1) * m->huge[s].kib;
	memattr(root, "/proc", "meminfo", RO, K_PLAIN, NULL,
		"MemTotal:       %8llu kB\nMemFree:        %8llu kB\nMemAvailable:   %8llu kB\n"
		"HugePages_Total:   %5ld\nHugePages_Free:    %5ld\nHugePages_Rsvd:    %5d\n"
		"HugePages_Surp:    %5ld\nHugepagesize:    %8lu kB\nHugetlb:        %8llu kB\n",
		m->mem_kib, free_kib, free_kib, m_huge_nr(def, -1), m_huge_free(def, -1), 0,
		m_huge_surplus(def, -1), def->kib, huge_kib);
	memattr(root, "/proc/sys/vm", "nr_hugepages", RW, K_HUGE_NR, (void *)def, "%ld\n",
		m_huge_nr(def, -1) - m_huge_surplus(def, -1));
	memattr(root, "/proc/sys/vm", "nr_overcommit_hugepages", RW, K_PLAIN, NULL, "0\n");
	memattr(root, "/proc/sys/vm", "compact_memory", WO, K_COMPACT, NULL, "%s", "");
	memattr(root, "/proc/sys/vm", "drop_caches", RW, K_DROP_CACHES, NULL, "0\n");
	for (int s = 0; s < M_HSIZES; s++) {
		struct m_hsize *h = &m->huge[s];

		snprintf(dir, sizeof(dir), "/sys/kernel/mm/hugepages/hugepages-%lukB", h->kib);
		/*
		 * sysfs counts surplus pages in (nr_huge_pages); /proc/sys/vm's file
		 * does not (max_huge_pages). A write sets the pool's own pages in both.
		 */
		memattr(root, dir, "nr_hugepages", RW, K_HUGE_NR, h, "%ld\n", m_huge_nr(h, -1));
		memattr(root, dir, "nr_hugepages_mempolicy", RW, K_HUGE_NR, h, "%ld\n",
			m_huge_nr(h, -1));
		memattr(root, dir, "free_hugepages", RO, K_PLAIN, NULL, "%ld\n", m_huge_free(h, -1));
		memattr(root, dir, "resv_hugepages", RO, K_PLAIN, NULL, "0\n");
		memattr(root, dir, "surplus_hugepages", RO, K_PLAIN, NULL, "%ld\n",
			m_huge_surplus(h, -1));
		memattr(root, dir, "nr_overcommit_hugepages", RW, K_PLAIN, NULL, "0\n");
		for (int i = 0; i < m->nnodes; i++) {
			snprintf(dir, sizeof(dir),
				 "/sys/devices/system/node/node%d/hugepages/hugepages-%lukB", i,
				 h->kib);
			/* A node's file counts its surplus pages too (nr_huge_pages_node). */
			memattr(root, dir, "nr_hugepages", RW, K_HUGE_NR_NODE, &h->node[i], "%ld\n",
				m_huge_nr(h, i));
			memattr(root, dir, "free_hugepages", RO, K_PLAIN, NULL, "%ld\n",
				m_huge_free(h, i));
			memattr(root, dir, "surplus_hugepages", RO, K_PLAIN, NULL, "%ld\n",
				m_huge_surplus(h, i));
		}
	}
	for (int i = 0; i < m->nnodes; i++) {
		snprintf(dir, sizeof(dir), "/sys/devices/system/node/node%d", i);
		memattr(root, dir, "meminfo", RO, K_PLAIN, NULL,
			"Node %d MemTotal:       %8llu kB\nNode %d MemFree:        %8llu kB\n", i,
			m_node_kib(m), i, m_node_free_kib(m, i));
	}
}

static void nodes(struct t_node *root, const struct machine *m)
{
	const char *dir = "/sys/devices/system/node";
	int per = m->ncpus / m->nnodes > 0 ? m->ncpus / m->nnodes : 1;

	char all[16];

	if (m->nnodes == 1)
		snprintf(all, sizeof(all), "0");
	else
		snprintf(all, sizeof(all), "0-%d", m->nnodes - 1);
	attr(root, dir, "online", RO, K_PLAIN, NULL, "%s\n", all);
	attr(root, dir, "possible", RO, K_PLAIN, NULL, "%s\n", all);
	attr(root, dir, "has_memory", RO, K_PLAIN, NULL, "%s\n", all);
	for (int i = 0; i < m->nnodes; i++) {
		char node[PATH_MAX];
		int first = i * per, last = i == m->nnodes - 1 ? m->ncpus - 1 : first + per - 1;

		snprintf(node, sizeof(node), "%s/node%d", dir, i);
		if (first >= m->ncpus)
			attr(root, node, "cpulist", RO, K_PLAIN, NULL, "\n");
		else if (first == last)
			attr(root, node, "cpulist", RO, K_PLAIN, NULL, "%d\n", first);
		else
			attr(root, node, "cpulist", RO, K_PLAIN, NULL, "%d-%d\n", first, last);
	}
}

void layout_dev_remove(struct t_node *root, struct machine *m, int i)
{
	struct m_dev *d = &m->devs[i];
	char dir[PATH_MAX], name[20];

	layout_dev_path(m, i, dir, sizeof(dir));
	m_dev_name(d, name);
	removef(root, "%s", dir);
	removef(root, "/sys/bus/pci/devices/%s", name);
	if (d->group >= 0)
		removef(root, "/sys/kernel/iommu_groups/%d/devices/%s", d->group, name);
}

void layout_dev_add(struct t_node *root, struct machine *m, int i)
{
	dev_tree(root, m, i);
	layout_dev_binding(root, m, i, NULL);
}

void layout_build(struct t_node *root, struct machine *m)
{
	t_mkdir(root, "/sys/bus/pci/devices");
	t_mkdir(root, "/sys/bus/pci/drivers");
	t_mkdir(root, "/sys/bus/platform/devices");
	t_mkdir(root, "/sys/bus/platform/drivers");
	t_mkdir(root, "/sys/class/drm");
	t_mkdir(root, "/dev/dri");
	t_mkdir(root, "/run");
	attr(root, "/sys/bus/pci", "drivers_probe", WO, K_DRIVERS_PROBE, NULL, "%s", "");
	attr(root, "/sys/bus/pci", "rescan", WO, K_BUS_RESCAN, NULL, "%s", "");
	attr(root, "/sys/bus/pci", "drivers_autoprobe", RW, K_PLAIN, NULL, "1\n");
	for (size_t i = 0; i < m->ndrivers; i++)
		layout_driver(root, m, &m->drivers[i]);
	for (size_t i = 0; i < m->ndevs; i++)
		if (!m->devs[i].removed)
			layout_dev_add(root, m, (int)i);
	layout_modules(root, m);
	if (!m->no_vtconsole) {
		t_mkdir(root, "/sys/class/vtconsole");
		for (size_t i = 0; i < m->nconsoles; i++)
			layout_console(root, m, (int)i);
	}
	layout_framebuffer(root, m);
	block_devices(root, m);
	net_devices(root, m);
	proc_files(root, m);
	init_files(root, m);
	t_mkdir(root, "/dev/vfio");
	layout_module_nodes(root, m);
	cpus(root, m);
	nodes(root, m);
	layout_memory(root, m);
}

/* The vendor's name is what the listing's name starts with, as lspci joins them. */
static const char *vendor_of(const struct machine *m, unsigned vendor,
			     const char *(*lookup)(unsigned), size_t *len)
{
	const char *first = NULL, *known = lookup ? lookup(vendor) : NULL;
	size_t common = 0;

	for (size_t i = 0; i < m->ndevs; i++) {
		const char *t = m->devs[i].name_text;

		if (m->devs[i].vendor != vendor)
			continue;
		if (known && strncmp(t, known, strlen(known)) == 0 && t[strlen(known)] == ' ') {
			*len = strlen(known);
			return t;
		}
		if (!first) {
			first = t;
			common = strlen(t);
			continue;
		}
		for (size_t k = 0; k < common; k++)
			if (first[k] != t[k]) {
				common = k;
				break;
			}
	}
	/* Without a database: the longest common prefix of whole words. */
	while (common > 0 && first && first[common] != ' ' && first[common] != '\0')
		common--;
	*len = common;
	return first;
}

static const struct machine *sort_m;

static int by_id(const void *a, const void *b)
{
	const struct m_dev *x = &sort_m->devs[*(const size_t *)a];
	const struct m_dev *y = &sort_m->devs[*(const size_t *)b];

	if (x->vendor != y->vendor)
		return x->vendor < y->vendor ? -1 : 1;
	if (x->device != y->device)
		return x->device < y->device ? -1 : 1;
	return (x->class > y->class) - (x->class < y->class);
}

static int by_class(const void *a, const void *b)
{
	const struct m_dev *x = &sort_m->devs[*(const size_t *)a];
	const struct m_dev *y = &sort_m->devs[*(const size_t *)b];

	return (x->class >> 8 > y->class >> 8) - (x->class >> 8 < y->class >> 8);
}

void layout_pci_ids(struct t_node *root, const struct machine *m, const char *(*lookup)(unsigned))
{
	size_t *idx = calloc(m->ndevs, sizeof(*idx));
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!idx || !f)
		abort();
	for (size_t i = 0; i < m->ndevs; i++)
		idx[i] = i;
	sort_m = m;
	qsort(idx, m->ndevs, sizeof(*idx), by_id);
	fprintf(f, "# Names as the machine's own listing showed them.\n");
	for (size_t i = 0, vlen = 0; i < m->ndevs; i++) {
		const struct m_dev *d = &m->devs[idx[i]], *prev = i ? &m->devs[idx[i - 1]] : NULL;
		const char *vt = vendor_of(m, d->vendor, lookup, &vlen);
		const char *rest = d->name_text + vlen;

		if (!vt || vlen == 0)
			continue;
		if (!prev || prev->vendor != d->vendor)
			fprintf(f, "%04x  %.*s\n", d->vendor, (int)vlen, vt);
		if (prev && prev->vendor == d->vendor && prev->device == d->device)
			continue;
		/* lspci prints "VENDOR Device [vvvv:dddd]" for IDs its database lacks. */
		if (strncmp(d->name_text, vt, vlen) != 0 || *rest != ' ' ||
		    strcmp(rest + 1, "Device") == 0)
			continue;
		fprintf(f, "\t%04x  %s\n", d->device, rest + 1);
	}
	qsort(idx, m->ndevs, sizeof(*idx), by_class);
	for (size_t i = 0; i < m->ndevs; i++) {
		const struct m_dev *d = &m->devs[idx[i]], *prev = i ? &m->devs[idx[i - 1]] : NULL;

		if (prev && (prev->class >> 8) == (d->class >> 8))
			continue;
		if (!prev || (prev->class >> 16) != (d->class >> 16))
			fprintf(f, "C %02x  %s\n", d->class >> 16, d->class_text);
		fprintf(f, "\t%02x  %s\n", (d->class >> 8) & 0xff, d->class_text);
	}
	fclose(f);
	free(idx);
	t_file(root, "/usr/share/misc/pci.ids", RO, buf, size);
	free(buf);
}
