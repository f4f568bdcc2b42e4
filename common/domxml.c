/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PCI host devices of a libvirt domain, from its XML (what a hook gets on stdin). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlversion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device.h"
#include "dl.h"
#include "domxml.h"
#include "msg.h"
#include "util.h"

static char parse_error[256];

/*
 * libxml2 (with ICU and libstdc++ behind it) costs more to link than the rest
 * of the command: it is loaded only when a domain XML is read.
 */
static typeof(xmlReadMemory) *x_read;
static typeof(xmlDocGetRootElement) *x_root;
static typeof(xmlFreeDoc) *x_free_doc;
static typeof(xmlGetProp) *x_get_prop;
static typeof(xmlStrcmp) *x_strcmp;
static typeof(xmlNodeGetContent) *x_content;
static typeof(xmlSetStructuredErrorFunc) *x_set_error;
static typeof(xmlGetLineNo) *x_line;
static xmlFreeFunc *x_free;

static int load_libxml2(void)
{
	static const struct vu_dlsym syms[] = {
		{ "xmlReadMemory", (void **)&x_read },
		{ "xmlDocGetRootElement", (void **)&x_root },
		{ "xmlFreeDoc", (void **)&x_free_doc },
		{ "xmlGetProp", (void **)&x_get_prop },
		{ "xmlStrcmp", (void **)&x_strcmp },
		{ "xmlNodeGetContent", (void **)&x_content },
		{ "xmlSetStructuredErrorFunc", (void **)&x_set_error },
		{ "xmlGetLineNo", (void **)&x_line },
		{ "xmlFree", (void **)&x_free },
	};

	char why[256];

	if (x_read)
		return 0;
	if (vu_dl_open("libxml2.so.2", syms, VU_ARRAY_SIZE(syms), why, sizeof(why)))
		return 0;
	vu_err("%s: --domain-xml needs it", why);
	return -ENOSYS;
}

/* libxml2 2.12 made the error const. */
#if LIBXML_VERSION >= 21200
static void xml_error(void *ctx, const xmlError *e)
#else
static void xml_error(void *ctx, xmlError *e)
#endif
{
	(void)ctx;
	/* Keep the first: later ones follow from it. */
	if (!parse_error[0] && e && e->message)
		snprintf(parse_error, sizeof(parse_error), "line %d: %.*s", e->line,
			 (int)strcspn(e->message, "\n"), e->message);
}

/* A domain's XML is kilobytes; this is far beyond any, and within libxml2's int. */
#define DOMXML_MAX (8 << 20)

/* All of FILE, but no more than DOMXML_MAX + 1 bytes: /dev/zero is not a domain. */
static int read_all(const char *file, char **buf, size_t *len)
{
	int fd = strcmp(file, "-") == 0 ? 0 : open(file, O_RDONLY | O_CLOEXEC);
	size_t cap = 65536;
	int err = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	*len = 0;
	if (!(*buf = malloc(cap)))
		err = -ENOMEM;
	while (!err && *len <= DOMXML_MAX && (n = read(fd, *buf + *len, cap - *len)) != 0) {
		char *bigger;

		if (n < 0) {
			if (errno != EINTR)
				err = -errno;
			continue;
		}
		*len += (size_t)n;
		if (*len == cap) {
			if ((bigger = realloc(*buf, cap *= 2)))
				*buf = bigger;
			else
				err = -ENOMEM;
		}
	}
	if (fd)
		close(fd);
	if (err) {
		free(*buf);
		*buf = NULL;
	}
	return err;
}

static bool named(xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && x_strcmp(n->name, (const xmlChar *)name) == 0;
}

static bool attr_is(xmlNode *n, const char *attr, const char *val)
{
	xmlChar *v = x_get_prop(n, (const xmlChar *)attr);
	bool r = v && x_strcmp(v, (const xmlChar *)val) == 0;

	(*x_free)(v);
	return r;
}

/*
 * domain='0x0000' bus='0x01' slot='0x00' function='0x0', as libvirt writes
 * them (decimal too). Each in its range, checked before it is narrowed: a
 * sign or a value past 32 bits must not wrap into a device that exists.
 */
static int address(xmlNode *a, struct vu_addr *out)
{
	static const char *const attrs[] = { "domain", "bus", "slot", "function" };
	static const unsigned long long max[] = { 0xffffffff, 0xff, 0x1f, 7 };
	unsigned *fields[] = { &out->domain, &out->bus, &out->dev, &out->func };

	for (int i = 0; i < 4; i++) {
		xmlChar *v = x_get_prop(a, (const xmlChar *)attrs[i]);
		const char *s = (const char *)v;
		unsigned long long n;
		char *end;
		bool ok;

		if (!v)
			return -EINVAL;
		errno = 0;
		n = strtoull(s, &end, 0);
		ok = *s >= '0' && *s <= '9' && !*end && end != s && !errno && n <= max[i];
		(*x_free)(v);
		if (!ok)
			return -EINVAL;
		*fields[i] = (unsigned)n;
	}
	return 0;
}

/* Attribute ATTR of N, copied into BUF ("" without it). */
static void prop_copy(xmlNode *n, const char *attr, char *buf, size_t size)
{
	xmlChar *v = x_get_prop(n, (const xmlChar *)attr);

	snprintf(buf, size, "%s", v ? (const char *)v : "");
	(*x_free)(v);
}

/* The same, allocated; NULL without it (or without memory). */
static char *prop_dup(xmlNode *n, const char *attr)
{
	xmlChar *v = x_get_prop(n, (const xmlChar *)attr);
	char *s = v ? strdup((const char *)v) : NULL;

	(*x_free)(v);
	return s;
}

static void content_copy(xmlNode *n, char *buf, size_t size)
{
	xmlChar *s = x_content(n);

	snprintf(buf, size, "%s", s ? (const char *)s : "");
	(*x_free)(s);
}

/*
 * VALUE in UNIT (libvirt's: b, KB, k, KiB, MB, M, MiB, GB, G, GiB, ...) in KiB;
 * 0 for nonsense. AMOUNT (48 bytes, or NULL) gets both as written.
 */
static unsigned long long kib(xmlNode *n, const char *value, const char *unit_attr, char *amount)
{
	static const struct {
		const char *name;
		unsigned long long bytes;
	} units[] = {
		{ "b", 1 },	     { "bytes", 1 },	    { "KB", 1000 },
		{ "k", 1ULL << 10 }, { "KiB", 1ULL << 10 }, { "MB", 1000000 },
		{ "M", 1ULL << 20 }, { "MiB", 1ULL << 20 }, { "GB", 1000000000 },
		{ "G", 1ULL << 30 }, { "GiB", 1ULL << 30 }, { "TB", 1000000000000ULL },
		{ "T", 1ULL << 40 }, { "TiB", 1ULL << 40 },
	};
	char unit[16], *end;
	unsigned long long v, bytes = 0;

	prop_copy(n, unit_attr, unit, sizeof(unit));
	if (amount)
		snprintf(amount, 48, "%.30s%s%.15s", value, unit[0] ? " " : "", unit);
	errno = 0;
	v = strtoull(value, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (errno || end == value || *end || *value == '-')
		return 0;
	if (!unit[0])
		return v; /* KiB is the default */
	for (size_t i = 0; i < VU_ARRAY_SIZE(units); i++)
		if (strcmp(unit, units[i].name) == 0)
			bytes = units[i].bytes;
	return bytes && v <= ~0ULL / bytes ? v * bytes / 1024 : 0;
}

/* <memoryBacking><hugepages><page size unit nodeset>: each size, in KiB. */
static int hugepages(xmlNode *n, struct vu_domxml *out)
{
	for (xmlNode *h = n->children; h; h = h->next) {
		if (!named(h, "hugepages"))
			continue;
		out->hugepages = true;
		for (xmlNode *p = h->children; p; p = p->next) {
			struct vu_dompage *v;
			char size[32];

			if (!named(p, "page"))
				continue;
			if (!(v = realloc(out->pages, (out->npages + 1) * sizeof(*v))))
				return -ENOMEM;
			out->pages = v;
			v += out->npages++;
			prop_copy(p, "size", size, sizeof(size));
			/* libvirt's page size unit defaults to KiB, as <memory>'s does. */
			v->kib = kib(p, size, "unit", NULL);
			prop_copy(p, "nodeset", v->nodeset, sizeof(v->nodeset));
			if (!out->page_kib)
				out->page_kib = v->kib;
		}
	}
	return 0;
}

/* <cpu><numa><cell>: the guest's NUMA cells and their memory. */
static int cells(xmlNode *numa, struct vu_domxml *out)
{
	for (xmlNode *c = numa->children; c; c = c->next) {
		struct vu_domcell *v;
		char s[32];

		if (!named(c, "cell"))
			continue;
		if (!(v = realloc(out->cells, (out->ncells + 1) * sizeof(*v))))
			return -ENOMEM;
		out->cells = v;
		v += out->ncells;
		memset(v, 0, sizeof(*v));
		prop_copy(c, "id", s, sizeof(s));
		/* Without ids, libvirt numbers cells in order. */
		v->id = s[0] ? (int)strtol(s, NULL, 10) : (int)out->ncells;
		prop_copy(c, "memory", s, sizeof(s));
		v->kib = kib(c, s, "unit", v->amount);
		out->ncells++;
	}
	return 0;
}

/* <numatune>: the host nodes of all the memory, and of each cell. */
static void numatune(xmlNode *n, struct vu_domxml *out)
{
	for (xmlNode *c = n->children; c; c = c->next) {
		char id[16];

		if (named(c, "memory"))
			prop_copy(c, "nodeset", out->numa_nodeset, sizeof(out->numa_nodeset));
		if (!named(c, "memnode"))
			continue;
		prop_copy(c, "cellid", id, sizeof(id));
		for (size_t i = 0; id[0] && i < out->ncells; i++)
			if (out->cells[i].id == (int)strtol(id, NULL, 10))
				prop_copy(c, "nodeset", out->cells[i].memnode,
					  sizeof(out->cells[i].memnode));
	}
}

/* One <cputune> pin's cpuset, whole (no buffer to cut it), added to the domain's. */
static int pin(xmlNode *c, struct vu_domxml *out)
{
	char *set = prop_dup(c, "cpuset");
	struct vu_set one;

	if (!set && !(set = strdup("")))
		return -ENOMEM;
	out->pinned = true;
	if (vu_set_parse(set, &one) <= 0) {
		if (!out->bad_pins)
			out->bad_pins = set;
		else
			free(set);
		return 0;
	}
	free(set);
	for (size_t i = 0; i < VU_ARRAY_SIZE(one.bits); i++)
		out->pin_cpus.bits[i] |= one.bits[i];
	return 0;
}

/* <os>, <cpu>, <features>, <cputune>, <memory>: what vfio-audit judges. */
static int settings(xmlNode *n, struct vu_domxml *out)
{
	if (named(n, "memory")) {
		char v[32];

		content_copy(n, v, sizeof(v));
		out->memory_kib = kib(n, v, "unit", out->memory_amount);
	}
	if (named(n, "memoryBacking") && hugepages(n, out) < 0)
		return -ENOMEM;
	if (named(n, "cpu"))
		prop_copy(n, "mode", out->cpu_mode, sizeof(out->cpu_mode));
	for (xmlNode *c = n->children; named(n, "cpu") && c; c = c->next)
		if (named(c, "numa") && cells(c, out) < 0)
			return -ENOMEM;
	if (named(n, "os"))
		prop_copy(n, "firmware", out->firmware, sizeof(out->firmware));
	for (xmlNode *c = n->children; c; c = c->next) {
		if (named(n, "os") && named(c, "type"))
			prop_copy(c, "machine", out->machine, sizeof(out->machine));
		else if (named(n, "os") && named(c, "loader"))
			content_copy(c, out->loader, sizeof(out->loader));
		else if (named(n, "cputune") && (named(c, "vcpupin") || named(c, "emulatorpin") ||
						 named(c, "iothreadpin"))) {
			out->vcpu_pinned = out->vcpu_pinned || named(c, "vcpupin");
			if (pin(c, out) < 0)
				return -ENOMEM;
		} else if (named(n, "cputune") && named(c, "vcpusched")) {
			out->vcpusched = true;
		} else if (named(n, "features")) {
			for (xmlNode *f = c->children; f; f = f->next) {
				if (named(c, "kvm") && named(f, "hidden"))
					out->kvm_hidden = attr_is(f, "state", "on");
				else if (named(c, "hyperv") && named(f, "vendor_id"))
					out->vendor_id = attr_is(f, "state", "on");
			}
		}
	}
	return 0;
}

static int hostdevs(xmlNode *devices, struct vu_domxml *out, const char *file)
{
	for (xmlNode *h = devices->children; h; h = h->next) {
		xmlNode *src, *a;
		struct vu_addr *v;
		char **r;
		bool *m;

		if (named(h, "memballoon"))
			prop_copy(h, "model", out->balloon, sizeof(out->balloon));
		if (named(h, "channel"))
			for (xmlNode *t = h->children; t; t = t->next)
				if (named(t, "target") &&
				    attr_is(t, "name", "org.qemu.guest_agent.0"))
					out->agent = true;
		if (!named(h, "hostdev") || !attr_is(h, "mode", "subsystem") ||
		    !attr_is(h, "type", "pci"))
			continue;
		for (src = h->children; src && !named(src, "source"); src = src->next)
			;
		for (a = src ? src->children : NULL; a && !named(a, "address"); a = a->next)
			;
		v = realloc(out->pci, (out->npci + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		out->pci = v;
		if (!(m = realloc(out->managed, (out->npci + 1) * sizeof(*m))))
			return -ENOMEM;
		out->managed = m;
		/* managed is libvirt's default: only an explicit "no" leaves it to the hooks. */
		m[out->npci] = !attr_is(h, "managed", "no");
		if (!a || address(a, &out->pci[out->npci]) < 0) {
			vu_err("%s: line %ld: a PCI hostdev without a valid <source><address>",
			       file, x_line(h));
			return -EINVAL;
		}
		if (!(r = realloc(out->rom, (out->npci + 1) * sizeof(*r))))
			return -ENOMEM;
		out->rom = r;
		r[out->npci] = NULL;
		for (xmlNode *c = h->children; c; c = c->next)
			if (named(c, "rom") && !r[out->npci])
				r[out->npci] = prop_dup(c, "file");
		out->npci++;
	}
	return 0;
}

/* XML is case-sensitive: this is the only spelling a parser takes. */
static bool has_dtd(const char *buf, size_t len)
{
	return buf && memmem(buf, len, "<!DOCTYPE", 9) != NULL;
}

int vu_domxml_parse(const char *buf, size_t len, const char *shown, struct vu_domxml *out)
{
	xmlNode *root, *tune = NULL;
	xmlDoc *doc;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if ((err = load_libxml2()) < 0)
		return err;
	if (len > DOMXML_MAX) {
		vu_err("%s: not a libvirt domain XML: larger than %d MiB", shown, DOMXML_MAX >> 20);
		return -EINVAL;
	}
	/*
	 * libvirt writes no document type, and an entity declared in one and
	 * referenced many times expands a kilobyte into gigabytes: none at all.
	 */
	if (has_dtd(buf, len)) {
		vu_err(
		    "%s: not a libvirt domain XML: it declares a document type (<!DOCTYPE), which no domain has",
		    shown);
		return -EINVAL;
	}
	/*
	 * libvirt writes UTF-8 alone, and read as UTF-8 whatever it declares,
	 * a document has no markup the check above did not see: UTF-16's
	 * "<\0!\0D..." or UTF-7's "+ADwAIQ-DOCTYPE" are text, or no XML at all.
	 */
	if (buf && memchr(buf, '\0', len)) {
		vu_err(
		    "%s: not a libvirt domain XML: it holds NUL bytes (UTF-16 or UTF-32?), and libvirt writes UTF-8",
		    shown);
		return -EINVAL;
	}
	parse_error[0] = '\0';
	x_set_error(NULL, xml_error);
	/* No network, no entities substituted, libxml2's own depth limit: data, never instructions.
	 */
	doc = x_read(buf, (int)len, NULL, "UTF-8",
		     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc && (doc->intSubset || doc->extSubset)) {
		vu_err(
		    "%s: not a libvirt domain XML: it declares a document type, which no domain has",
		    shown);
		x_free_doc(doc);
		return -EINVAL;
	}
	root = doc ? x_root(doc) : NULL;
	if (!root || !named(root, "domain")) {
		vu_err("%s: not a libvirt domain XML: %s", shown,
		       parse_error[0] ? parse_error : "the root element is not <domain>");
		x_free_doc(doc);
		return -EINVAL;
	}
	for (xmlNode *n = root->children; n && !err; n = n->next) {
		if (named(n, "name")) {
			xmlChar *s = x_content(n);

			snprintf(out->name, sizeof(out->name), "%s", s ? (const char *)s : "");
			(*x_free)(s);
		} else if (named(n, "devices")) {
			err = hostdevs(n, out, shown);
		} else if (named(n, "numatune")) {
			tune = n; /* it comes before <cpu>, whose cells it names */
		} else {
			err = settings(n, out);
		}
	}
	if (tune && !err)
		numatune(tune, out);
	x_free_doc(doc);
	if (err)
		vu_domxml_free(out);
	return err;
}

int vu_domxml_read(const char *file, struct vu_domxml *out)
{
	const char *shown = strcmp(file, "-") == 0 ? "standard input" : file;
	char *buf = NULL;
	size_t len = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = load_libxml2()) < 0)
		return err;
	if ((err = read_all(file, &buf, &len)) < 0) {
		vu_errc(err, "%s: cannot read the domain XML", shown);
		return err;
	}
	err = vu_domxml_parse(buf, len, shown, out);
	free(buf);
	return err;
}

bool vu_domain_name_ok(const char *name)
{
	return *name && !strchr(name, '/');
}

int vu_domxml_read_named(const char *file, struct vu_domxml *out)
{
	int err = vu_domxml_read(file, out);

	if (err < 0)
		return err;
	if (!out->name[0]) {
		vu_err("%s: the domain has no <name>", strcmp(file, "-") ? file : "standard input");
		vu_domxml_free(out);
		return -EINVAL;
	}
	if (!vu_domain_name_ok(out->name)) {
		vu_err("%s: <name>: not a domain name (libvirt refuses one with '/')",
		       strcmp(file, "-") ? file : "standard input");
		vu_domxml_free(out);
		return -EINVAL;
	}
	return 0;
}

void vu_domxml_free(struct vu_domxml *x)
{
	for (size_t i = 0; x->rom && i < x->npci; i++)
		free(x->rom[i]);
	free(x->rom);
	x->rom = NULL;
	free(x->pci);
	free(x->managed);
	x->pci = NULL;
	x->managed = NULL;
	x->npci = 0;
	free(x->bad_pins);
	x->bad_pins = NULL;
	free(x->pages);
	free(x->cells);
	x->pages = NULL;
	x->cells = NULL;
	x->npages = x->ncells = 0;
}

int vu_domxml_devices(const char *file, const struct vu_devs *devs, struct vu_dev ***out, size_t *n)
{
	struct vu_domxml x;
	int failed = 0;
	int err = vu_domxml_read(file, &x);

	if (err < 0)
		return err;
	if (x.npci == 0)
		vu_report("%s: no PCI host devices", x.name[0] ? x.name : "the domain");
	for (size_t i = 0; i < x.npci; i++) {
		char name[VU_NAME_MAX];
		struct vu_dev *d, **v;
		bool dup = false;

		vu_addr_name(&x.pci[i], name);
		if (!(d = vu_devs_find(devs, name))) {
			vu_err("%s: in the domain XML, but no such PCI device", name);
			failed = -ENODEV;
			continue;
		}
		for (size_t k = 0; k < *n; k++)
			dup = dup || (*out)[k] == d;
		if (dup || !(v = realloc(*out, (*n + 1) * sizeof(struct vu_dev *))))
			continue;
		*out = v;
		v[(*n)++] = d;
	}
	vu_domxml_free(&x);
	return failed;
}
