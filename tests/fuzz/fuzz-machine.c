/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The simulator's machine descriptions: any listing people post, with or
 * without directives, parses or is refused with a message; what parses
 * completes into a consistent machine, and is freed without a leak.
 */
#include "../sim/machine.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct machine m;
	FILE *f;

	if (size == 0 || !(f = fmemopen((void *)data, size, "r")))
		return 0;
	if (machine_parse(&m, f, "fuzz") == 0 && machine_complete(&m) == 0) {
		CHECK(m.ndevs > 0);
		for (size_t i = 0; i < m.ndevs; i++) {
			const struct m_dev *d = &m.devs[i];

			CHECK(d->bus <= 0xff && d->dev <= 0x1f && d->func <= 7);
			CHECK(d->group >= -1);
			CHECK(!d->driver || machine_find_driver(&m, d->driver));
		}
		CHECK(m.fb_dev >= -1 && m.fb_dev < (int)m.ndevs);
	}
	fclose(f);
	machine_free(&m);
	return 0;
}
