/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sets of CPUs and NUMA nodes in the list syntax the kernel prints and libvirt takes. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpuset.h"

bool vu_set_has(const struct vu_set *set, int i)
{
	return i >= 0 && i < VU_SET_MAX && (set->bits[i / 64] >> (i % 64) & 1);
}

void vu_set_add(struct vu_set *set, int i)
{
	if (i >= 0 && i < VU_SET_MAX)
		set->bits[i / 64] |= 1ULL << (i % 64);
}

static void del(struct vu_set *set, int i)
{
	set->bits[i / 64] &= ~(1ULL << (i % 64));
}

/* One number below VU_SET_MAX at *S, moved past it; -1 when there is none. */
static int number(const char **s)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)**s))
		return -1;
	v = strtol(*s, &end, 10);
	*s = end;
	return v < VU_SET_MAX ? (int)v : -1;
}

int vu_set_parse(const char *s, struct vu_set *set)
{
	struct vu_set minus = { { 0 } };

	memset(set, 0, sizeof(*set));
	while (isspace((unsigned char)*s))
		s++;
	while (*s && *s != '\n') {
		bool exclude = *s == '^';
		int lo, hi;

		s += exclude;
		if ((lo = hi = number(&s)) < 0)
			return -EINVAL;
		if (*s == '-' && (s++, (hi = number(&s)) < lo))
			return -EINVAL;
		for (int i = lo; i <= hi; i++)
			vu_set_add(exclude ? &minus : set, i);
		if (*s == ',' && s[1] && s[1] != '\n')
			s++;
		else if (*s && *s != '\n')
			return -EINVAL;
	}
	for (int i = 0; i < VU_SET_MAX; i++)
		if (vu_set_has(&minus, i))
			del(set, i);
	return vu_set_count(set);
}

int vu_set_format(const struct vu_set *set, char *buf, size_t size)
{
	size_t len = 0;

	if (!size)
		return -ENOSPC;
	buf[0] = '\0';
	for (int i = 0; i < VU_SET_MAX; i++) {
		int j = i;
		int n;

		if (!vu_set_has(set, i))
			continue;
		while (vu_set_has(set, j + 1))
			j++;
		n = j == i ? snprintf(buf + len, size - len, "%s%d", len ? "," : "", i)
			   : snprintf(buf + len, size - len, "%s%d-%d", len ? "," : "", i, j);
		if (n < 0 || (size_t)n >= size - len) {
			buf[0] = '\0';
			return -ENOSPC;
		}
		len += (size_t)n;
		i = j;
	}
	return 0;
}

int vu_set_count(const struct vu_set *set)
{
	int n = 0;

	for (size_t w = 0; w < VU_SET_MAX / 64; w++)
		n += __builtin_popcountll(set->bits[w]);
	return n;
}

int vu_set_last(const struct vu_set *set)
{
	for (int w = VU_SET_MAX / 64 - 1; w >= 0; w--)
		if (set->bits[w])
			return w * 64 + 63 - __builtin_clzll(set->bits[w]);
	return -1;
}

int vu_set_parse_mask(const char *s, struct vu_set *set)
{
	size_t len = strcspn(s, "\n");
	int bit = 0;

	memset(set, 0, sizeof(*set));
	if (!len)
		return -EINVAL;
	for (const char *c = s + len; c-- > s;) {
		int v;

		if (*c == ',') {
			bit = (bit + 31) / 32 * 32;
			continue;
		}
		if (!isxdigit((unsigned char)*c) || bit >= VU_SET_MAX)
			return -EINVAL;
		v = isdigit((unsigned char)*c) ? *c - '0' : tolower((unsigned char)*c) - 'a' + 10;
		for (int b = 0; b < 4; b++, bit++)
			if (v >> b & 1)
				vu_set_add(set, bit);
	}
	return 0;
}

int vu_set_format_mask(const struct vu_set *set, int nbits, char *buf, size_t size)
{
	size_t len = 0;

	if (!size || nbits < 1 || nbits > VU_SET_MAX)
		return -ENOSPC;
	buf[0] = '\0';
	for (int w = (nbits - 1) / 32; w >= 0; w--) {
		int n = nbits - w * 32 > 32 ? 32 : nbits - w * 32, k;
		unsigned long v = 0;

		for (int b = 0; b < n; b++)
			v |= (unsigned long)vu_set_has(set, w * 32 + b) << b;
		k = snprintf(buf + len, size - len, "%s%0*lx", len ? "," : "", len ? 8 : (n + 3) / 4,
			     v);
		if (k < 0 || (size_t)k >= size - len) {
			buf[0] = '\0';
			return -ENOSPC;
		}
		len += (size_t)k;
	}
	return 0;
}
