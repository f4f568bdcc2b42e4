/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Machine descriptions: posted IOMMU listings plus directives, parsed into a model. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "machine.h"

struct parser {
	struct machine *m;
	const char *file;
	int line;
	int group; /* current group of the two-line form, -1 outside one */
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		perror("sim");
		exit(1);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d) {
		perror("sim");
		exit(1);
	}
	return d;
}

static int perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: ", p->file, p->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

void m_dev_name(const struct m_dev *d, char buf[20])
{
	snprintf(buf, 20, "%04x:%02x:%02x.%x", d->domain, d->bus, d->dev, d->func);
}

bool m_dev_is_bridge(const struct m_dev *d)
{
	unsigned c = d->class >> 8;

	return c == 0x0600 || c == 0x0604 || c == 0x0609;
}

static int addr_cmp(const struct m_dev *a, const struct m_dev *b)
{
	unsigned x[] = { a->domain, a->bus, a->dev, a->func },
		 y[] = { b->domain, b->bus, b->dev, b->func };

	for (int i = 0; i < 4; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

bool m_dev_is_pci_bridge(const struct m_dev *d)
{
	unsigned c = d->class >> 8;

	return c == 0x0604 || c == 0x0607 || c == 0x0609;
}

bool machine_native_fb_driver(const char *driver)
{
	/* nvidia's own driver leaves it (nvidia-drm's fbdev is not on by default). */
	static const char *const native[] = { "amdgpu", "i915",	      "nouveau",   "radeon",
					      "ast",	"virtio-pci", "bochs-drm", "xe" };

	for (size_t i = 0; driver && i < sizeof(native) / sizeof(*native); i++)
		if (strcmp(driver, native[i]) == 0)
			return true;
	return false;
}

/* Shaped as [DOMAIN:]BUS:DEV.FN: a device line, not a directive. */
static int addr_shape(const char *s, unsigned *dom, unsigned *bus, unsigned *dev, unsigned *fn)
{
	char tail;

	*dom = 0;
	if (sscanf(s, "%x:%x:%x.%x%c", dom, bus, dev, fn, &tail) == 4)
		return 0;
	*dom = 0;
	return sscanf(s, "%x:%x.%x%c", bus, dev, fn, &tail) == 3 ? 0 : -1;
}

/*
 * [DOMAIN:]BUS:DEV.FN, bus, device and function within what PCI can address
 * (a domain may pass 16 bits: VMD's are 10000 and up).
 */
static int parse_addr(const char *s, unsigned *dom, unsigned *bus, unsigned *dev, unsigned *fn)
{
	if (addr_shape(s, dom, bus, dev, fn) < 0)
		return -1;
	return *bus <= 0xff && *dev <= 0x1f && *fn <= 7 ? 0 : -1;
}

int machine_find_dev(const struct machine *m, unsigned domain, unsigned bus, unsigned dev,
		     unsigned func)
{
	for (size_t i = 0; i < m->ndevs; i++) {
		const struct m_dev *d = &m->devs[i];

		if (d->domain == domain && d->bus == bus && d->dev == dev && d->func == func)
			return (int)i;
	}
	return -1;
}

static int dev_arg(struct parser *p, const char *s)
{
	unsigned dom, bus, dev, fn;
	int i;

	if (!s || parse_addr(s, &dom, &bus, &dev, &fn) < 0)
		return perr(p, "expected a device address, got '%s'", s ? s : "");
	i = machine_find_dev(p->m, dom, bus, dev, fn);
	if (i < 0)
		return perr(p, "%s: no such device in this machine", s);
	return i;
}

/* "01:00.0 VGA compatible controller [0300]: NVIDIA ... [10de:1f03] (rev a1)" */
static int parse_device(struct parser *p, char *s, int group)
{
	struct m_dev d = { .group = group, .drm_minor = -1, .snd_card = -1, .parent = -1 };
	char *cls, *name, *ids = NULL, *q, *tail;
	unsigned cc;

	while (isspace((unsigned char)*s))
		s++;
	q = strchr(s, ' ');
	if (!q)
		return perr(p, "expected 'ADDRESS CLASS [cccc]: NAME [vvvv:dddd]'");
	*q = '\0';
	if (parse_addr(s, &d.domain, &d.bus, &d.dev, &d.func) < 0)
		return perr(p, "'%s' is not a PCI address", s);
	cls = q + 1;
	/* The class ends at the first "[cccc]: ". */
	for (q = cls; (q = strchr(q, '[')); q++)
		if (strlen(q) >= 8 && sscanf(q, "[%4x]", &cc) == 1 && q[5] == ']' && q[6] == ':')
			break;
	if (!q || q == cls)
		return perr(p, "no class code like [0300] after the address");
	q[-1] = '\0';
	name = q + 8;
	/* The IDs are the last "[vvvv:dddd]". */
	for (q = name; (q = strstr(q, " [")); q++) {
		unsigned v, dv;

		if (strlen(q) >= 12 && sscanf(q, " [%4x:%4x]", &v, &dv) == 2 && q[6] == ':' &&
		    q[11] == ']') {
			ids = q;
			d.vendor = v;
			d.device = dv;
		}
	}
	if (!ids)
		return perr(p, "no vendor:device ID like [10de:1f03] (post 'lspci -nn' output)");
	*ids = '\0';
	tail = ids + 12;
	d.class = cc << 8;
	if ((q = strstr(tail, "(rev ")) && sscanf(q, "(rev %2x)", &d.rev) != 1)
		return perr(p, "unreadable revision '%s'", q);
	if ((q = strstr(tail, "(prog-if ")) && sscanf(q, "(prog-if %2x", &cc) == 1)
		d.class |= cc;
	else if ((d.class >> 8) == 0x0c03)
		d.class |= 0x30; /* USB without prog-if: assume xHCI, the common case */
	else if ((d.class >> 8) == 0x0106)
		d.class |= 0x01; /* AHCI */
	else if ((d.class >> 8) == 0x0108)
		d.class |= 0x02; /* NVM Express */
	if (machine_find_dev(p->m, d.domain, d.bus, d.dev, d.func) >= 0)
		return perr(p, "%s: listed twice", s);
	d.class_text = xstrdup(cls);
	d.name_text = xstrdup(name);
	p->m->devs = xrealloc(p->m->devs, (p->m->ndevs + 1) * sizeof(*p->m->devs));
	p->m->devs[p->m->ndevs++] = d;
	return 0;
}

static int parse_listing(struct parser *p, char *s)
{
	char *end;
	long g;

	if (strncmp(s, "IOMMU Group ", 12) != 0)
		return parse_device(p, s, isspace((unsigned char)*s) ? p->group : -1);
	g = strtol(s + 12, &end, 10);
	if (end == s + 12 || g < 0)
		return perr(p, "expected a group number after 'IOMMU Group'");
	if (*end == ':') {
		/* Two-line form: the devices follow, indented. */
		p->group = (int)g;
		while (isspace((unsigned char)*++end))
			;
		return *end ? parse_device(p, end, p->group) : 0;
	}
	p->group = -1;
	return parse_device(p, end, (int)g);
}

static char *next_word(char **s)
{
	char *w;

	while (isspace((unsigned char)**s))
		(*s)++;
	if (!**s)
		return NULL;
	w = *s;
	while (**s && !isspace((unsigned char)**s))
		(*s)++;
	if (**s)
		*(*s)++ = '\0';
	return w;
}

static char *rest(char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static const char *const errnos[][2] = {
	{ "EPERM", "1" },   { "ENOENT", "2" },	{ "EINTR", "4" },	 { "EIO", "5" },
	{ "ENXIO", "6" },   { "EAGAIN", "11" }, { "EWOULDBLOCK", "11" }, { "ENOMEM", "12" },
	{ "EACCES", "13" }, { "EBUSY", "16" },	{ "EEXIST", "17" },	 { "ENODEV", "19" },
	{ "EINVAL", "22" }, { "ENOSPC", "28" }, { "ETIMEDOUT", "110" },	 { "EPROBE_DEFER", "517" },
};

int parse_errno(const char *s)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(*errnos); i++)
		if (strcmp(s, errnos[i][0]) == 0)
			return (int)strtol(errnos[i][1], NULL, 10);
	return (int)strtol(s, NULL, 10);
}

/* Memory where the description is silent: 32 GiB on one node, 2 MiB and 1 GiB pages. */
static void memory_defaults(struct machine *m)
{
	if (m->huge[0].kib)
		return;
	m->huge[0].kib = 2048;
	m->huge[1].kib = 1048576;
	for (int s = 0; s < M_HSIZES; s++)
		for (int i = 0; i < M_NODES_MAX; i++)
			m->huge[s].node[i].limit = -1;
	if (!m->nnodes)
		m->nnodes = 1;
	if (!m->mem_kib)
		m->mem_kib = 32ULL << 20;
}

static bool any_huge(const struct machine *m)
{
	for (int s = 0; s < M_HSIZES; s++)
		if (m->huge[s].kib && m_huge_nr(&m->huge[s], -1))
			return true;
	return false;
}

int machine_dev_fault(struct m_dev *d, const char *what, const char *arg, const char *drv)
{
	if (strcmp(what, "unbind-blocks") == 0) {
		d->unbind_blocks = true;
	} else if (strcmp(what, "probe-nothing") == 0) {
		d->probe_nothing = true;
		free(d->probe_nothing_driver);
		d->probe_nothing_driver = arg ? xstrdup(arg) : NULL;
	} else if (strcmp(what, "bind-fails") == 0) {
		if (!arg || parse_errno(arg) <= 0)
			return -EINVAL;
		d->bind_errno = parse_errno(arg);
		free(d->bind_errno_driver);
		d->bind_errno_driver = drv ? xstrdup(drv) : NULL;
	} else if (strcmp(what, "unbind-takes") == 0 || strcmp(what, "probe-takes") == 0) {
		char *end;
		long ms = arg ? strtol(arg, &end, 10) : -1;

		if (!arg || *end || ms < 0 || ms > 600000)
			return -EINVAL;
		*(what[0] == 'u' ? &d->unbind_ms : &d->probe_ms) = (int)ms;
	} else if (strcmp(what, "clear") == 0) {
		d->unbind_blocks = d->probe_nothing = false;
		d->bind_errno = d->unbind_ms = d->probe_ms = 0;
	} else {
		return -EINVAL;
	}
	return 0;
}

static struct m_mod *add_mod(struct machine *m, const char *name)
{
	struct m_mod *mod = machine_find_mod(m, name);

	if (mod)
		return mod;
	m->mods = xrealloc(m->mods, (m->nmods + 1) * sizeof(*m->mods));
	mod = &m->mods[m->nmods++];
	memset(mod, 0, sizeof(*mod));
	mod->name = xstrdup(name);
	for (char *c = mod->name; *c; c++)
		if (*c == '-')
			*c = '_';
	return mod;
}

static void mod_add_dep(struct m_mod *mod, const char *dep)
{
	for (size_t i = 0; i < mod->ndeps; i++)
		if (strcmp(mod->deps[i], dep) == 0)
			return;
	mod->deps = xrealloc(mod->deps, (mod->ndeps + 1) * sizeof(*mod->deps));
	mod->deps[mod->ndeps++] = xstrdup(dep);
}

/* module NAME [loaded|builtin|absent|available] [deps=a,b] [softdep=TEXT] [driver=NAME] */
static int parse_module(struct parser *p, char *s)
{
	char *name = next_word(&s), *w;
	struct m_mod *mod;

	if (!name)
		return perr(p, "module: expected a name");
	mod = add_mod(p->m, name);
	while ((w = next_word(&s))) {
		if (strcmp(w, "loaded") == 0)
			mod->state = M_MOD_LOADED;
		else if (strcmp(w, "builtin") == 0)
			mod->state = M_MOD_BUILTIN;
		else if (strcmp(w, "absent") == 0)
			mod->state = M_MOD_ABSENT;
		else if (strcmp(w, "available") == 0)
			mod->state = M_MOD_AVAILABLE;
		else if (strncmp(w, "deps=", 5) == 0) {
			for (char *d = strtok(w + 5, ","); d; d = strtok(NULL, ","))
				mod_add_dep(mod, d);
		} else if (strncmp(w, "softdep=", 8) == 0) {
			free(mod->softdep);
			mod->softdep = xstrdup(w + 8);
			for (char *c = mod->softdep; *c; c++)
				if (*c == ',')
					*c = ' ';
		} else if (strncmp(w, "driver=", 7) == 0) {
			free(mod->driver);
			mod->driver = xstrdup(w + 7);
		} else
			return perr(p, "module %s: unknown word '%s'", name, w);
	}
	return 0;
}

/* A directive given twice: the last one counts. */
static void set_str(char **field, const char *val)
{
	free(*field);
	*field = xstrdup(val);
}

static int parse_directive(struct parser *p, char *kw, char *s)
{
	struct machine *m = p->m;
	char *w;
	int i;

	if (strcmp(kw, "driver") == 0) {
		if ((i = dev_arg(p, next_word(&s))) < 0)
			return -1;
		if (!(w = next_word(&s)))
			return perr(p, "driver: expected a driver name or 'none'");
		free(m->devs[i].driver);
		m->devs[i].driver = xstrdup(w);
	} else if (strcmp(kw, "boot-vga") == 0) {
		if ((i = dev_arg(p, next_word(&s))) < 0)
			return -1;
		for (size_t j = 0; j < m->ndevs; j++)
			m->devs[j].boot_vga = (int)j == i;
	} else if (strcmp(kw, "reset") == 0) {
		if ((i = dev_arg(p, next_word(&s))) < 0)
			return -1;
		free(m->devs[i].reset_method);
		m->devs[i].reset_method = xstrdup(rest(s));
	} else if (strcmp(kw, "iommu") == 0) {
		w = next_word(&s);
		if (!w ||
		    (strcmp(w, "amd") != 0 && strcmp(w, "intel") != 0 && strcmp(w, "off") != 0))
			return perr(p, "iommu: expected amd, intel or off");
		set_str(&m->iommu, w);
	} else if (strcmp(kw, "cpu") == 0) {
		w = next_word(&s);
		if (!w || (strcmp(w, "amd") != 0 && strcmp(w, "intel") != 0))
			return perr(p, "cpu: expected amd or intel");
		set_str(&m->cpu, strcmp(w, "amd") == 0 ? "AuthenticAMD" : "GenuineIntel");
	} else if (strcmp(kw, "cmdline") == 0) {
		free(m->cmdline);
		m->cmdline = xstrdup(rest(s));
	} else if (strcmp(kw, "kernel") == 0) {
		if (!(w = next_word(&s)))
			return perr(p, "kernel: expected a version");
		set_str(&m->kernel, w);
	} else if (strcmp(kw, "console") == 0) {
		/* console bound|unbound NAME... ; "console none": no vtconsole class */
		w = next_word(&s);
		if (w && strcmp(w, "none") == 0) {
			m->no_vtconsole = true;
			return 0;
		}
		if (!w || (strcmp(w, "bound") != 0 && strcmp(w, "unbound") != 0) || !*rest(s))
			return perr(p, "console: expected 'bound|unbound NAME' or 'none'");
		m->consoles = xrealloc(m->consoles, (m->nconsoles + 1) * sizeof(*m->consoles));
		m->consoles[m->nconsoles].bound = strcmp(w, "bound") == 0;
		m->consoles[m->nconsoles++].name = xstrdup(rest(s));
	} else if (strcmp(kw, "framebuffer") == 0) {
		/* framebuffer KIND [DRIVER|unbound] [on DEV]; "framebuffer none" */
		static const char *const kinds[] = { "efi-framebuffer",	     "simple-framebuffer",
						     "vesa-framebuffer",     "vga-framebuffer",
						     "platform-framebuffer", "none" };
		bool ok = false;

		if (!(w = next_word(&s)))
			return perr(p, "framebuffer: expected a kind");
		for (size_t k = 0; k < sizeof(kinds) / sizeof(*kinds); k++)
			ok = ok || strcmp(w, kinds[k]) == 0;
		if (!ok)
			return perr(p, "framebuffer: unknown kind '%s'", w);
		free(m->fb_kind);
		m->fb_kind = xstrdup(w);
		m->fb_given = true;
		free(m->fb_driver);
		m->fb_driver = NULL;
		while ((w = next_word(&s))) {
			if (strcmp(w, "on") == 0) {
				if ((i = dev_arg(p, next_word(&s))) < 0)
					return -1;
				m->fb_dev = i;
			} else if (strcmp(w, "unbound") == 0) {
				free(m->fb_driver);
				m->fb_driver = xstrdup("");
			} else {
				free(m->fb_driver);
				m->fb_driver = xstrdup(w);
			}
		}
	} else if (strcmp(kw, "module") == 0) {
		return parse_module(p, s);
	} else if (strcmp(kw, "mount") == 0 || strcmp(kw, "swap") == 0) {
		struct m_mount mt = { 0 };

		if ((i = dev_arg(p, next_word(&s))) < 0)
			return -1;
		mt.dev = i;
		mt.swap = kw[0] == 's';
		if (!mt.swap) {
			if (!(w = next_word(&s)) || w[0] != '/')
				return perr(p, "mount: expected 'DEVICE /MOUNTPOINT [FSTYPE]'");
			mt.target = xstrdup(w);
			mt.fstype = xstrdup((w = next_word(&s)) ? w : "ext4");
		}
		m->mounts = xrealloc(m->mounts, (m->nmounts + 1) * sizeof(*m->mounts));
		m->mounts[m->nmounts++] = mt;
	} else if (strcmp(kw, "netif") == 0) {
		struct m_netif n = { 0 };

		if ((i = dev_arg(p, next_word(&s))) < 0)
			return -1;
		n.dev = i;
		if (!(w = next_word(&s)))
			return perr(p, "netif: expected 'DEVICE NAME up|down'");
		n.name = xstrdup(w);
		w = next_word(&s);
		if (!w || (strcmp(w, "up") != 0 && strcmp(w, "down") != 0)) {
			free(n.name);
			return perr(p, "netif: expected up or down");
		}
		n.up = strcmp(w, "up") == 0;
		m->netifs = xrealloc(m->netifs, (m->nnetifs + 1) * sizeof(*m->netifs));
		m->netifs[m->nnetifs++] = n;
	} else if (strcmp(kw, "holder") == 0) {
		/* holder /dev/NODE PROCESS [user=UID unit=UNIT]: a user's service, as PipeWire is
		 */
		struct m_holder h = { .uid = -1 };
		char *node = next_word(&s), *comm = next_word(&s);

		if (!node || node[0] != '/' || !comm)
			return perr(
			    p, "holder: expected '/dev/NODE PROCESS-NAME [user=UID unit=UNIT]'");
		while ((w = next_word(&s))) {
			if (strncmp(w, "user=", 5) == 0 && w[5])
				h.uid = (int)strtol(w + 5, NULL, 10);
			else if (strncmp(w, "unit=", 5) == 0 && w[5])
				set_str(&h.unit, w + 5);
			else
				break;
		}
		if (w || (h.uid < 0) != !h.unit) {
			free(h.unit);
			return w ? perr(p, "holder: unknown '%s' (user=UID, unit=UNIT)", w)
				 : perr(p, "holder: user= and unit= go together");
		}
		h.node = xstrdup(node);
		h.comm = xstrdup(comm);
		m->holders = xrealloc(m->holders, (m->nholders + 1) * sizeof(*m->holders));
		m->holders[m->nholders++] = h;
	} else if (strcmp(kw, "behind") == 0) {
		/* behind DEV BRIDGE: DEV's bus is BRIDGE's secondary bus */
		int b;

		if ((i = dev_arg(p, next_word(&s))) < 0 || (b = dev_arg(p, next_word(&s))) < 0)
			return -1;
		if (!m_dev_is_pci_bridge(&m->devs[b]) || m->devs[b].bus >= m->devs[i].bus)
			return perr(
			    p, "behind: the second device must be a PCI bridge on a lower bus");
		for (size_t k = 0; k < m->ndevs; k++)
			if (m->devs[k].domain == m->devs[i].domain &&
			    m->devs[k].bus == m->devs[i].bus)
				m->devs[k].parent = b;
	} else if (strcmp(kw, "cpus") == 0) {
		long n = (w = next_word(&s)) ? strtol(w, NULL, 10) : 0;

		if (n < 1 || n > 1024)
			return perr(p, "cpus: expected a number of CPUs, 1 to 1024");
		m->ncpus = (int)n;
	} else if (strcmp(kw, "cpufreq") == 0) {
		if (!(w = next_word(&s)))
			return perr(p, "cpufreq: expected none, or a driver and its governors");
		free(m->cpufreq);
		m->cpufreq = xstrdup(w);
		free(m->governors);
		m->governors = NULL;
		while (*s == ' ' || *s == '\t')
			s++;
		if (strcmp(w, "none") != 0 && !*s)
			return perr(p, "cpufreq %s: expected its governors, the boot one first", w);
		if (*s)
			m->governors = xstrdup(s);
	} else if (strcmp(kw, "smt") == 0) {
		if (!(w = next_word(&s)) || (strcmp(w, "on") != 0 && strcmp(w, "off") != 0))
			return perr(p, "smt: expected on or off");
		m->no_smt = strcmp(w, "off") == 0;
	} else if (strcmp(kw, "memory") == 0 || strcmp(kw, "nodes") == 0) {
		char *end = NULL;
		unsigned long long v = (w = next_word(&s)) ? strtoull(w, &end, 10) : 0;

		if (any_huge(m))
			return perr(p, "%s: memory and nodes go before hugepages", kw);
		if (kw[0] == 'n') {
			if (v < 1 || v > M_NODES_MAX || *end)
				return perr(p, "nodes: expected a number of NUMA nodes, 1 to %d",
					    M_NODES_MAX);
			m->nnodes = (int)v;
		} else {
			if (v < 1 || (strcmp(end, "G") != 0 && strcmp(end, "M") != 0))
				return perr(p, "memory: expected a size like 32G or 4096M");
			m->mem_kib = v << (end[0] == 'G' ? 20 : 10);
		}
	} else if (strcmp(kw, "hugepages") == 0) {
		memory_defaults(m);
		if (machine_huge_ctl(m, s) < 0)
			return perr(p, "hugepages: expected 'SIZE [node N] pages|max|use COUNT'");
	} else if (strcmp(kw, "init") == 0) {
		if (!(w = next_word(&s)))
			return perr(p, "init: expected systemd, openrc, runit or none");
		free(m->init);
		m->init = xstrdup(w);
	} else if (strcmp(kw, "dm") == 0) {
		if (!(w = next_word(&s)))
			return perr(p, "dm: expected a display manager name or 'none'");
		free(m->dm);
		m->dm = strcmp(w, "none") == 0 ? xstrdup("") : xstrdup(w);
	} else if (strcmp(kw, "fault") == 0) {
		char *what = next_word(&s);

		if (!what || (i = dev_arg(p, next_word(&s))) < 0)
			return what ? -1 : perr(p, "fault: expected a fault and a device");
		w = next_word(&s);
		if (machine_dev_fault(&m->devs[i], what, w, next_word(&s)) < 0)
			return strcmp(what, "bind-fails") == 0
				   ? perr(p, "fault bind-fails: expected an errno like EIO")
			       : strstr(what, "-takes")
				   ? perr(p, "fault %s: expected milliseconds", what)
				   : perr(p, "fault: unknown fault '%s'", what);
	} else {
		return perr(p, "unknown directive '%s'", kw);
	}
	return 0;
}

static bool starts_with_addr(const char *s)
{
	char word[32];
	unsigned dom, bus, dev, fn;
	size_t n = strcspn(s, " \t");

	if (n >= sizeof(word))
		return false;
	memcpy(word, s, n);
	word[n] = '\0';
	return addr_shape(word, &dom, &bus, &dev, &fn) == 0;
}

int machine_parse(struct machine *m, FILE *f, const char *file)
{
	struct parser p = { .m = m, .file = file, .group = -1 };
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int err = 0;

	memset(m, 0, sizeof(*m));
	m->fb_dev = -1;
	m->path = xstrdup(file);
	while (!err && (len = getline(&line, &cap, f)) >= 0) {
		char *s = line, *kw;

		p.line++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		/* Guides paste with 4-space indents as often as with tabs. */
		if (!*rest(s) || *rest(s) == '#')
			continue;
		if (strncmp(s, "IOMMU Group", 11) == 0 || isspace((unsigned char)*s) ||
		    starts_with_addr(s)) {
			err = parse_listing(&p, s);
			continue;
		}
		p.group = -1;
		s = line;
		kw = next_word(&s);
		err = parse_directive(&p, kw, s);
	}
	free(line);
	if (!err && m->ndevs == 0) {
		fprintf(stderr, "%s: no devices: expected lines of the guides' IOMMU listing\n",
			file);
		err = -1;
	}
	return err;
}

int machine_load(struct machine *m, const char *file)
{
	FILE *f = fopen(file, "re");
	int err;

	if (!f) {
		memset(m, 0, sizeof(*m));
		m->fb_dev = -1;
		fprintf(stderr, "%s: %s\n", file, strerror(errno));
		return -1;
	}
	err = machine_parse(m, f, file);
	fclose(f);
	return err;
}

struct m_mod *machine_find_mod(const struct machine *m, const char *name)
{
	char norm[64];
	size_t i, len = strnlen(name, sizeof(norm) - 1);

	for (i = 0; i < len; i++)
		norm[i] = (char)(name[i] == '-' ? '_' : name[i]);
	norm[len] = '\0';
	for (i = 0; i < m->nmods; i++)
		if (strcmp(m->mods[i].name, norm) == 0)
			return &m->mods[i];
	return NULL;
}

struct m_driver *machine_find_driver(const struct machine *m, const char *name)
{
	for (size_t i = 0; i < m->ndrivers; i++)
		if (strcmp(m->drivers[i].name, name) == 0)
			return &m->drivers[i];
	return NULL;
}

static void add_driver(struct machine *m, const char *name, bool platform, int mod)
{
	struct m_driver *d = machine_find_driver(m, name);

	if (!d) {
		m->drivers = xrealloc(m->drivers, (m->ndrivers + 1) * sizeof(*m->drivers));
		d = &m->drivers[m->ndrivers++];
		memset(d, 0, sizeof(*d));
		d->name = xstrdup(name);
	}
	d->platform = platform;
	d->mod = mod;
	d->registered =
	    mod < 0 || m->mods[mod].state == M_MOD_LOADED || m->mods[mod].state == M_MOD_BUILTIN;
}

struct m_mod *machine_driver_mod(const struct machine *m, const char *driver)
{
	for (size_t i = 0; i < m->nmods; i++)
		if (m->mods[i].driver && strcmp(m->mods[i].driver, driver) == 0)
			return &m->mods[i];
	return NULL;
}

static void set_default(char **field, const char *val)
{
	if (!*field)
		*field = xstrdup(val);
}

/* The driver a stock distribution kernel binds to a device of this kind. */
static const char *default_driver(const struct m_dev *d)
{
	unsigned cls = d->class >> 8, v = d->vendor;

	if ((cls >> 8) == 0x03) {
		switch (v) {
		case 0x10de:
			return "nvidia";
		case 0x1002:
			return "amdgpu";
		case 0x8086:
			return "i915";
		case 0x1a03:
			return "ast";
		case 0x1af4:
			return "virtio-pci";
		}
		return NULL;
	}
	switch (cls) {
	case 0x0403:
		return "snd_hda_intel";
	case 0x0c03:
		switch (d->class & 0xff) {
		case 0x30:
			return "xhci_hcd";
		case 0x20:
			return "ehci-pci";
		case 0x10:
			return "ohci-pci";
		default:
			return "uhci_hcd";
		}
	case 0x0c80:
		return v == 0x10de ? "nvidia-gpu" : v == 0x8086 ? "thunderbolt" : NULL;
	case 0x0c05:
		return v == 0x1022 ? "piix4_smbus" : v == 0x8086 ? "i801_smbus" : NULL;
	case 0x0604:
		return "pcieport";
	case 0x0106:
		return "ahci";
	case 0x0108:
		return "nvme";
	case 0x0200:
		return v == 0x10ec ? "r8169" : v == 0x14e4 ? "tg3" : v == 0x1969 ? "alx" : "e1000e";
	case 0x0280:
		return v == 0x10ec   ? "rtw88_8821ce"
		       : v == 0x14c3 ? "mt7921e"
		       : v == 0x168c ? "ath10k_pci"
				     : "iwlwifi";
	case 0x1080:
		return v == 0x1022 ? "ccp" : NULL;
	case 0x0780:
		return v == 0x8086 ? "mei_me" : NULL;
	case 0x0805:
		return "sdhci-pci";
	}
	return NULL;
}

/* Driver -> module that registers it, and that module's dependencies. */
static const struct {
	const char *driver, *module, *deps;
} known_drivers[] = {
	{ "nvidia", "nvidia", "" },
	{ "amdgpu", "amdgpu", "gpu_sched,ttm,drm_kms_helper,drm,i2c_algo_bit" },
	{ "i915", "i915", "ttm,drm_kms_helper,drm,i2c_algo_bit" },
	{ "nouveau", "nouveau", "ttm,drm_kms_helper,drm,i2c_algo_bit" },
	{ "radeon", "radeon", "ttm,drm_kms_helper,drm,i2c_algo_bit" },
	{ "ast", "ast", "drm_kms_helper,drm" },
	/* QEMU's VGA and bochs-display: the driver is bochs-drm, its module bochs (6.1, 6.12). */
	{ "bochs-drm", "bochs", "drm_vram_helper,drm_ttm_helper,ttm,drm_kms_helper,drm" },
	{ "snd_intel8x0", "snd_intel8x0", "snd_ac97_codec,ac97_bus,snd_pcm,snd" },
	{ "snd_hda_intel", "snd_hda_intel", "snd_hda_codec,snd_hda_core,snd" },
	{ "xhci_hcd", "xhci_pci", "xhci_hcd" },
	{ "ehci-pci", "ehci_pci", "ehci_hcd" },
	{ "nvidia-gpu", "i2c_nvidia_gpu", "" },
	{ "piix4_smbus", "i2c_piix4", "" },
	{ "i801_smbus", "i2c_i801", "" },
	{ "ahci", "ahci", "libahci,libata" },
	{ "nvme", "nvme", "nvme_core" },
	{ "r8169", "r8169", "" },
	{ "e1000e", "e1000e", "" },
	{ "tg3", "tg3", "" },
	{ "rtw88_8821ce", "rtw88_8821ce", "rtw88_pci,rtw88_core,mac80211,cfg80211" },
	{ "iwlwifi", "iwlwifi", "cfg80211" },
	{ "ccp", "ccp", "" },
	{ "mei_me", "mei_me", "mei" },
};

/* Modules that come with others, as a distribution loads them. */
static const struct {
	const char *module, *deps;
} companions[] = {
	{ "nvidia_modeset", "nvidia" },
	{ "nvidia_uvm", "nvidia" },
	{ "nvidia_drm", "nvidia_modeset,drm_kms_helper,drm" },
	{ "snd_hda_codec", "snd_hda_core,snd" },
	{ "snd_hda_core", "snd" },
	{ "drm_kms_helper", "drm" },
	{ "ttm", "drm" },
	{ "rtw88_pci", "rtw88_core" },
	{ "rtw88_core", "mac80211,cfg80211" },
	{ "mac80211", "cfg80211" },
	{ "libahci", "libata" },
};

static void mod_set_deps(struct m_mod *mod, const char *deps)
{
	char *copy = xstrdup(deps);

	if (mod->ndeps == 0)
		for (char *d = strtok(copy, ","); d; d = strtok(NULL, ","))
			mod_add_dep(mod, d);
	free(copy);
}

/* NAME with its dependencies, unless the description said otherwise. */
static struct m_mod *known_mod(struct machine *m, const char *name, const char *deps,
			       const char *driver)
{
	struct m_mod *mod = add_mod(m, name);

	mod_set_deps(mod, deps);
	if (driver)
		set_default(&mod->driver, driver);
	return mod;
}

/* Make NAME loaded, and everything it depends on. */
static int load_with_deps(struct machine *m, const char *name, int depth)
{
	struct m_mod *mod = add_mod(m, name);

	if (depth > 16)
		return -1;
	if (mod->state == M_MOD_ABSENT) {
		fprintf(stderr, "%s: module %s is needed but declared absent\n", m->path, name);
		return -1;
	}
	if (mod->state != M_MOD_BUILTIN)
		mod->state = M_MOD_LOADED;
	for (size_t i = 0; i < mod->ndeps; i++) {
		/* mod may move when the table grows: copy the name first. */
		char *dep = xstrdup(mod->deps[i]);
		int err = load_with_deps(m, dep, depth + 1);

		free(dep);
		if (err)
			return err;
		mod = machine_find_mod(m, name);
	}
	return 0;
}

int machine_kver(const struct machine *m)
{
	int major = 0, minor = 0;

	sscanf(m->kernel, "%d.%d", &major, &minor);
	return major * 1000 + minor;
}

/*
 * The vfio modules as the kernel version ships them: vfio_pci_core split
 * out in 5.15, vfio_virqfd folded into vfio in 6.2.
 */
static void vfio_modules(struct machine *m)
{
	int kver = machine_kver(m);
	struct m_mod *vfio = known_mod(m, "vfio", kver < 6002 ? "" : "irqbypass", NULL);

	set_default(&vfio->softdep, "post: vfio_iommu_type1");
	known_mod(m, "vfio_iommu_type1", "vfio", NULL);
	known_mod(m, "irqbypass", "", NULL);
	if (kver < 6002)
		known_mod(m, "vfio_virqfd", "vfio", NULL);
	if (kver >= 5015) {
		known_mod(m, "vfio_pci_core",
			  kver < 6002 ? "vfio,irqbypass,vfio_virqfd" : "vfio,irqbypass", NULL);
		known_mod(m, "vfio_pci", "vfio_pci_core", "vfio-pci");
	} else {
		known_mod(m, "vfio_pci", "vfio,irqbypass,vfio_virqfd", "vfio-pci");
	}
}

/* A built-in module cannot depend on a loadable one. */
static void builtin_deps(struct machine *m, struct m_mod *mod, int depth)
{
	for (size_t i = 0; depth < 16 && i < mod->ndeps; i++) {
		struct m_mod *dep = machine_find_mod(m, mod->deps[i]);

		if (dep && dep->state != M_MOD_BUILTIN) {
			dep->state = M_MOD_BUILTIN;
			builtin_deps(m, dep, depth + 1);
		}
	}
}

static int complete_modules(struct machine *m)
{
	struct m_mod *mod;

	for (size_t i = 0; i < sizeof(known_drivers) / sizeof(*known_drivers); i++) {
		bool used = machine_find_mod(m, known_drivers[i].module) != NULL;

		for (size_t j = 0; j < m->ndevs && !used; j++)
			used = m->devs[j].native &&
			       strcmp(m->devs[j].native, known_drivers[i].driver) == 0;
		if (used)
			known_mod(m, known_drivers[i].module, known_drivers[i].deps,
				  known_drivers[i].driver);
	}
	vfio_modules(m);
	for (size_t i = 0; i < m->ndevs; i++) {
		const char *drv = m->devs[i].native;

		/* A driver nobody described: a module of that name provides it. */
		if (drv && strcmp(drv, "pcieport") != 0 && !machine_driver_mod(m, drv))
			known_mod(m, drv, "", drv);
	}
	for (size_t i = 0; i < sizeof(companions) / sizeof(*companions); i++) {
		bool wanted = machine_find_mod(m, companions[i].module) != NULL;

		/* nvidia's companions come with it. */
		if (strncmp(companions[i].module, "nvidia_", 7) == 0)
			wanted = wanted || machine_driver_mod(m, "nvidia");
		for (size_t j = 0; j < m->nmods && !wanted; j++)
			for (size_t k = 0; k < m->mods[j].ndeps && !wanted; k++)
				wanted = strcmp(m->mods[j].deps[k], companions[i].module) == 0;
		if (wanted)
			known_mod(m, companions[i].module, companions[i].deps, NULL);
	}
	/* Whatever a module depends on exists too. */
	for (size_t i = 0; i < m->nmods; i++)
		for (size_t k = 0; k < m->mods[i].ndeps; k++)
			if (!machine_find_mod(m, m->mods[i].deps[k]))
				add_mod(m, m->mods[i].deps[k]);
	for (size_t i = 0; i < m->nmods; i++)
		if (m->mods[i].state == M_MOD_BUILTIN)
			builtin_deps(m, &m->mods[i], 0);

	/* A virtualization host runs kvm, which holds irqbypass. */
	known_mod(m, "kvm", "irqbypass", NULL);
	mod = known_mod(m, strcmp(m->cpu, "AuthenticAMD") == 0 ? "kvm_amd" : "kvm_intel", "kvm",
			NULL);
	if (mod->state == M_MOD_AVAILABLE && load_with_deps(m, mod->name, 0) < 0)
		return -1;

	/* What is bound at boot is loaded, with what it needs. */
	for (size_t i = 0; i < m->ndevs; i++) {
		const char *drv = m->devs[i].driver;

		if (drv && (mod = machine_driver_mod(m, drv)) &&
		    load_with_deps(m, mod->name, 0) < 0)
			return -1;
	}
	mod = machine_find_mod(m, "nvidia");
	if (mod && mod->state == M_MOD_LOADED)
		for (size_t i = 0; i < sizeof(companions) / sizeof(*companions); i++) {
			const struct m_mod *c = machine_find_mod(m, companions[i].module);

			/* A description may drop a companion: nothing to load then. */
			if (strncmp(companions[i].module, "nvidia_", 7) == 0 && c &&
			    c->state != M_MOD_ABSENT && load_with_deps(m, c->name, 0) < 0)
				return -1;
		}
	return 0;
}

/* Whether bridge B shares an IOMMU group with endpoints: a switch without ACS, its own devices'. */
static bool group_has_endpoints(const struct machine *m, const struct m_dev *b)
{
	for (size_t i = 0; b->group >= 0 && i < m->ndevs; i++)
		if (m->devs[i].group == b->group && !m_dev_is_bridge(&m->devs[i]))
			return true;
	return false;
}

/*
 * How well bridge B fits as the one device D's bus sits behind: one of D's
 * own IOMMU group first (no ACS below it), then one whose group holds no
 * endpoints of others, then the nearest bus. -1: it cannot be.
 */
static long bridge_fit(const struct machine *m, const struct m_dev *b, const struct m_dev *d)
{
	int kind;

	if (!m_dev_is_pci_bridge(b) || b->domain != d->domain || b->bus >= d->bus)
		return -1;
	kind = b->group >= 0 && b->group == d->group ? 2 : group_has_endpoints(m, b) ? 0 : 1;
	return (long)kind * 0x100 + b->bus;
}

/*
 * Which bridge each bus sits behind. Listings do not show it: a "behind"
 * directive says it, else a guess from what they do show (bridge_fit), the
 * lowest address first among equals.
 */
static void topology(struct machine *m)
{
	bool *used = calloc(m->ndevs + 1, sizeof(*used));

	if (!used)
		abort();
	for (size_t i = 0; i < m->ndevs; i++)
		if (m->devs[i].parent >= 0)
			used[m->devs[i].parent] = true;
	for (unsigned bus = 1; bus < 0x100; bus++)
		for (size_t i = 0; i < m->ndevs; i++) {
			struct m_dev *d = &m->devs[i];
			long best = -1;
			int pick = -1;

			if (d->bus != bus || d->parent >= 0)
				continue;
			for (size_t b = 0; b < m->ndevs; b++) {
				long fit = used[b] ? -1 : bridge_fit(m, &m->devs[b], d);

				if (fit > best || (fit == best && fit >= 0 &&
						   addr_cmp(&m->devs[b], &m->devs[pick]) < 0)) {
					best = fit;
					pick = (int)b;
				}
			}
			if (pick < 0)
				continue;
			used[pick] = true;
			for (size_t k = 0; k < m->ndevs; k++)
				if (m->devs[k].domain == d->domain && m->devs[k].bus == bus)
					m->devs[k].parent = pick;
		}
	free(used);
}

int machine_complete(struct machine *m)
{
	bool any_group = false, amd = false, have_boot_vga = false;
	struct utsname u;
	char buf[512];

	for (size_t i = 0; i < m->ndevs; i++) {
		struct m_dev *d = &m->devs[i];

		any_group = any_group || d->group >= 0;
		if ((d->class >> 8) == 0x0600 && d->vendor == 0x1022)
			amd = true;
		have_boot_vga = have_boot_vga || d->boot_vga;
		/* "driver DEV none": unbound at boot, though a driver matches. */
		if (d->driver && strcmp(d->driver, "none") != 0)
			d->native = xstrdup(d->driver);
		else if (default_driver(d))
			d->native = xstrdup(default_driver(d));
		if (!d->driver && d->native)
			d->driver = xstrdup(d->native);
		if (d->driver && strcmp(d->driver, "none") == 0) {
			free(d->driver);
			d->driver = NULL;
		}
		if (!d->reset_method && !m_dev_is_bridge(d) && d->bus != 0)
			d->reset_method = xstrdup((d->class >> 16) == 0x03 ? "flr bus" : "bus");
	}
	/* The firmware shows its screen on the first display controller listed. */
	for (size_t i = 0; i < m->ndevs && !have_boot_vga; i++)
		if ((m->devs[i].class >> 16) == 0x03)
			m->devs[i].boot_vga = have_boot_vga = true;

	set_default(&m->cpu, amd ? "AuthenticAMD" : "GenuineIntel");
	set_default(&m->iommu, !any_group			     ? "off"
			       : strcmp(m->cpu, "AuthenticAMD") == 0 ? "amd"
								     : "intel");
	if (uname(&u) == 0)
		set_default(&m->kernel, u.release);
	snprintf(
	    buf, sizeof(buf),
	    "BOOT_IMAGE=/boot/vmlinuz-%s root=UUID=2f0b5c1e-9d1a-4c55-8f0e-3b7d1e6a9c01 ro quiet%s",
	    m->kernel,
	    strcmp(m->iommu, "amd") == 0     ? " amd_iommu=on iommu=pt"
	    : strcmp(m->iommu, "intel") == 0 ? " intel_iommu=on iommu=pt"
					     : "");
	set_default(&m->cmdline, buf);
	set_default(&m->init, "systemd");
	if (m->ncpus == 0)
		m->ncpus = 8;
	memory_defaults(m);
	topology(m);
	set_default(&m->dm, "gdm");
	/* Debian's kernel on a desktop: acpi-cpufreq, booted with schedutil. */
	set_default(&m->cpufreq, "acpi-cpufreq");
	if (strcmp(m->cpufreq, "none") != 0)
		set_default(&m->governors,
			    "schedutil conservative ondemand userspace powersave performance");
	if (!m->no_vtconsole && m->nconsoles == 0) {
		m->consoles = xrealloc(NULL, 2 * sizeof(*m->consoles));
		m->consoles[0] = (struct m_console){ xstrdup("(S) dummy device"), true, true };
		m->consoles[1] =
		    (struct m_console){ xstrdup("(M) frame buffer device"), true, true };
		m->nconsoles = 2;
	}
	for (size_t i = 0; i < m->nconsoles; i++)
		m->consoles[i].present = true;
	/*
	 * The firmware's framebuffer survives boot only where no native DRM
	 * driver took the boot GPU: amdgpu, i915, nouveau evict it as they
	 * probe; nvidia's own driver does not.
	 */
	for (size_t i = 0; !m->fb_given && i < m->ndevs; i++)
		if (m->devs[i].boot_vga && machine_native_fb_driver(m->devs[i].driver))
			set_default(&m->fb_kind, "none");
	set_default(&m->fb_kind, "efi-framebuffer");
	if (strcmp(m->fb_kind, "none") == 0) {
		free(m->fb_kind);
		m->fb_kind = NULL;
	} else {
		set_default(&m->fb_driver, m->fb_kind);
	}
	for (size_t i = 0; m->fb_kind && m->fb_dev < 0 && i < m->ndevs; i++)
		if (m->devs[i].boot_vga)
			m->fb_dev = (int)i;

	if (complete_modules(m) < 0)
		return -1;

	/* The drivers: from modules, the PCI port driver and the framebuffer's. */
	add_driver(m, "pcieport", false, -1);
	if (m->fb_kind)
		add_driver(m, m->fb_kind, true, -1);
	for (size_t i = 0; i < m->nmods; i++)
		if (m->mods[i].driver)
			add_driver(m, m->mods[i].driver, m->mods[i].platform, (int)i);
	for (size_t i = 0; i < m->ndevs; i++) {
		struct m_driver *drv =
		    m->devs[i].driver ? machine_find_driver(m, m->devs[i].driver) : NULL;

		if (m->devs[i].driver && (!drv || !drv->registered)) {
			fprintf(stderr, "%s: %s bound to %s, which is not registered\n", m->path,
				m->devs[i].name_text, m->devs[i].driver);
			return -1;
		}
	}
	return 0;
}

void machine_free(struct machine *m)
{
	for (size_t i = 0; i < m->ndevs; i++) {
		free(m->devs[i].class_text);
		free(m->devs[i].name_text);
		free(m->devs[i].driver);
		free(m->devs[i].reset_method);
		free(m->devs[i].override);
		free(m->devs[i].native);
		free(m->devs[i].probe_nothing_driver);
		free(m->devs[i].bind_errno_driver);
	}
	for (size_t i = 0; i < m->nmods; i++) {
		for (size_t j = 0; j < m->mods[i].ndeps; j++)
			free(m->mods[i].deps[j]);
		free(m->mods[i].deps);
		free(m->mods[i].name);
		free(m->mods[i].softdep);
		free(m->mods[i].driver);
	}
	for (size_t i = 0; i < m->ndrivers; i++) {
		for (size_t j = 0; j < m->drivers[i].nids; j++)
			free(m->drivers[i].ids[j]);
		free(m->drivers[i].ids);
		free(m->drivers[i].name);
	}
	free(m->drivers);
	for (size_t i = 0; i < m->nconsoles; i++)
		free(m->consoles[i].name);
	for (size_t i = 0; i < m->nmounts; i++) {
		free(m->mounts[i].target);
		free(m->mounts[i].fstype);
	}
	for (size_t i = 0; i < m->nnetifs; i++)
		free(m->netifs[i].name);
	for (size_t i = 0; i < m->nholders; i++) {
		free(m->holders[i].node);
		free(m->holders[i].comm);
		free(m->holders[i].unit);
	}
	free(m->devs);
	free(m->mods);
	free(m->consoles);
	free(m->mounts);
	free(m->netifs);
	free(m->holders);
	free(m->fb_kind);
	free(m->fb_driver);
	free(m->iommu);
	free(m->cpu);
	free(m->cmdline);
	free(m->kernel);
	free(m->init);
	free(m->dm);
	free(m->cpufreq);
	free(m->governors);
	free(m->path);
	memset(m, 0, sizeof(*m));
}
