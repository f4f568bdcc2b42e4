/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PCI device addresses and the spellings users meet in the guides. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pciaddr.h"

/* Up to MAXLEN hex digits at *S, at least one; advances *S. */
static int hex(const char **s, int maxlen, unsigned *val)
{
	int len = 0;

	*val = 0;
	while (len < maxlen && isxdigit((unsigned char)**s)) {
		int c = tolower((unsigned char)**s);

		*val = *val * 16 + (unsigned)(isdigit(c) ? c - '0' : c - 'a' + 10);
		(*s)++;
		len++;
	}
	return len > 0 && !isxdigit((unsigned char)**s) ? 0 : -EINVAL;
}

static int valid(const struct vu_addr *a)
{
	return a->bus <= 0xff && a->dev <= 0x1f && a->func <= 7 ? 0 : -EINVAL;
}

/* [DOMAIN:]BUS:DEV.FUNC */
static int parse_addr(const char *s, struct vu_addr *a)
{
	unsigned f[4];
	int n = 0;

	for (;;) {
		if (hex(&s, 8, &f[n]) < 0)
			return -EINVAL;
		n++;
		if (*s == ':' && n < 3) {
			s++;
			continue;
		}
		break;
	}
	if (n < 2 || *s++ != '.' || hex(&s, 1, &a->func) < 0 || *s)
		return -EINVAL;
	a->domain = n == 3 ? f[0] : 0;
	a->bus = f[n - 2];
	a->dev = f[n - 1];
	return valid(a);
}

int vu_devarg_parse(const char *s, struct vu_devarg *out)
{
	const char *p = s;

	memset(out, 0, sizeof(*out));
	if (strncmp(s, "pci_", 4) == 0) {
		/* virsh spells every field with '_' and always names the domain. */
		out->kind = VU_DEVARG_ADDR;
		p = s + 4;
		if (hex(&p, 8, &out->addr.domain) < 0 || *p++ != '_' ||
		    hex(&p, 2, &out->addr.bus) < 0 || *p++ != '_' ||
		    hex(&p, 2, &out->addr.dev) < 0 || *p++ != '_' ||
		    hex(&p, 1, &out->addr.func) < 0 || *p)
			return -EINVAL;
		return valid(&out->addr);
	}
	if (!strchr(s, '.')) {
		/* No function number: only vendor:device remains, both 4 digits. */
		out->kind = VU_DEVARG_ID;
		if (strlen(s) != 9 || s[4] != ':' || hex(&p, 4, &out->vendor) < 0 || *p++ != ':' ||
		    hex(&p, 4, &out->device) < 0 || *p)
			return -EINVAL;
		return 0;
	}
	out->kind = VU_DEVARG_ADDR;
	return parse_addr(s, &out->addr);
}

int vu_addr_from_name(const char *name, struct vu_addr *a)
{
	char again[VU_NAME_MAX];

	/* Exactly as the kernel writes it, "%04x:%02x:%02x.%x": nothing else is a name. */
	if (strlen(name) >= VU_NAME_MAX || parse_addr(name, a) < 0)
		return -EINVAL;
	vu_addr_name(a, again);
	return strcasecmp(again, name) == 0 ? 0 : -EINVAL;
}

void vu_addr_name(const struct vu_addr *a, char buf[VU_NAME_MAX])
{
	snprintf(buf, VU_NAME_MAX, "%04x:%02x:%02x.%x", a->domain, a->bus, a->dev, a->func);
}

void vu_addr_slot(const struct vu_addr *a, bool domain, char buf[VU_NAME_MAX])
{
	if (domain)
		vu_addr_name(a, buf);
	else
		snprintf(buf, VU_NAME_MAX, "%02x:%02x.%x", a->bus, a->dev, a->func);
}

void vu_addr_virsh(const struct vu_addr *a, char buf[VU_NAME_MAX + 8])
{
	snprintf(buf, VU_NAME_MAX + 8, "pci_%04x_%02x_%02x_%x", a->domain, a->bus, a->dev, a->func);
}

int vu_addr_cmp(const struct vu_addr *a, const struct vu_addr *b)
{
	if (a->domain != b->domain)
		return a->domain < b->domain ? -1 : 1;
	if (a->bus != b->bus)
		return a->bus < b->bus ? -1 : 1;
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->func != b->func)
		return a->func < b->func ? -1 : 1;
	return 0;
}

bool vu_addr_same_slot(const struct vu_addr *a, const struct vu_addr *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->dev == b->dev;
}
