/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device arguments as users type them (0000:01:00.0, 01:00.0, pci_0000_01_00_0,
 * 10de:1f03) and device names as sysfs lists them: whatever parses is in range
 * and reads back the same through every spelling the commands print.
 */
#include <strings.h>

#include "fuzz.h"
#include "pciaddr.h"

static void same_addr(const char *spelling, const struct vu_addr *a)
{
	struct vu_devarg b;

	CHECK(vu_devarg_parse(spelling, &b) == 0);
	CHECK(b.kind == VU_DEVARG_ADDR);
	CHECK(vu_addr_cmp(a, &b.addr) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), buf[VU_NAME_MAX + 8];
	struct vu_devarg arg;
	struct vu_addr addr;

	if (!s)
		return 0;
	if (vu_devarg_parse(s, &arg) == 0) {
		if (arg.kind == VU_DEVARG_ADDR) {
			CHECK(arg.addr.bus <= 0xff && arg.addr.dev <= 0x1f && arg.addr.func <= 7);
			vu_addr_name(&arg.addr, buf);
			same_addr(buf, &arg.addr);
			vu_addr_virsh(&arg.addr, buf);
			same_addr(buf, &arg.addr);
			vu_addr_slot(&arg.addr, arg.addr.domain != 0, buf);
			same_addr(buf, &arg.addr);
		} else {
			struct vu_devarg b;

			CHECK(arg.kind == VU_DEVARG_ID);
			CHECK(arg.vendor <= 0xffff && arg.device <= 0xffff);
			snprintf(buf, sizeof(buf), "%04x:%04x", arg.vendor, arg.device);
			CHECK(vu_devarg_parse(buf, &b) == 0 && b.kind == VU_DEVARG_ID &&
			      b.vendor == arg.vendor && b.device == arg.device);
		}
	}
	/* The strict kernel name: what parses is exactly what the kernel would write. */
	if (vu_addr_from_name(s, &addr) == 0) {
		CHECK(addr.bus <= 0xff && addr.dev <= 0x1f && addr.func <= 7);
		vu_addr_name(&addr, buf);
		CHECK(strcasecmp(buf, s) == 0);
	}
	free(s);
	return 0;
}
