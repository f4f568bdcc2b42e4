/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The domain XML hostdev reader, on what libvirt (or a user's --domain-xml
 * file) could hand it: no crash, no leak, and every address it returns is one
 * a PCI device can have.
 */
#include "domxml.h"
#include "fuzz.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vu_domxml x;

	vu_verbosity = VU_QUIET;
	if (vu_domxml_parse((const char *)data, size, "fuzz", &x) == 0) {
		CHECK(memchr(x.name, '\0', sizeof(x.name)));
		for (size_t i = 0; i < x.npci; i++)
			CHECK(x.pci[i].bus <= 0xff && x.pci[i].dev <= 0x1f && x.pci[i].func <= 7);
		vu_domxml_free(&x);
	} else {
		CHECK(x.npci == 0 && x.pci == NULL);
	}
	return 0;
}
