/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mkroot: write a static machine tree (sys, proc, dev, etc) from a machine description. */
#include <pci/pci.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"

static struct pci_access *pacc;

static const char *vendor_name(unsigned vendor)
{
	static char buf[256];

	return pci_lookup_name(pacc, buf, sizeof(buf), PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS,
			       vendor);
}

int main(int argc, char **argv)
{
	struct machine m;
	struct t_node *root;
	int err;

	if (argc != 3 || argv[1][0] == '-') {
		fprintf(stderr, "usage: mkroot MACHINE DIR\n"
				"Write the machine's sysfs, procfs, /dev and /etc under DIR.\n");
		return 2;
	}
	if (machine_load(&m, argv[1]) < 0 || machine_complete(&m) < 0) {
		machine_free(&m);
		return 1;
	}
	root = t_new_root();
	layout_build(root, &m);
	pacc = pci_alloc();
	pci_init(pacc);
	layout_pci_ids(root, &m, vendor_name);
	pci_cleanup(pacc);
	err = t_dump(root, argv[2]);
	if (err)
		fprintf(stderr, "mkroot: %s: %s\n", argv[2], strerror(-err));
	t_free(root);
	machine_free(&m);
	return err ? 1 : 0;
}
