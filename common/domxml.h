/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PCI host devices of a libvirt domain, from its XML (what a hook gets on stdin). */
#ifndef VU_DOMXML_H
#define VU_DOMXML_H

#include <stdbool.h>

#include "cpuset.h"
#include <stddef.h>

#include "pciaddr.h"

/* <memoryBacking><hugepages><page size unit nodeset>: a size, for some guest NUMA cells. */
struct vu_dompage {
	unsigned long long kib;
	char nodeset[64]; /* guest cells, "" for every cell no other page names */
};

/* <cpu><numa><cell id memory>, and the host nodes <numatune><memnode> binds it to. */
struct vu_domcell {
	int id;
	unsigned long long kib; /* 0 where the amount is none libvirt takes */
	char memnode[64];	/* host nodes, "" where no memnode names the cell */
	char amount[48];	/* as written: value and unit, to name a bad one */
};

struct vu_domxml {
	char name[256]; /* the domain's <name>, "" when absent */
	struct vu_addr *pci;
	bool *managed; /* each one's managed='yes' (libvirt's default): libvirt detaches it */
	char **rom;    /* each one's <rom file>, NULL without */
	size_t npci;
	/* What vfio-audit judges; "" where the XML says nothing. */
	char machine[64];  /* <os><type machine>: pc-q35-7.2 */
	char firmware[16]; /* <os firmware>: efi, bios */
	char loader[256];  /* <os><loader>: the firmware's file */
	char cpu_mode[32]; /* <cpu mode>: host-passthrough */
	char balloon[32];  /* <memballoon model>: virtio, none */
	bool agent;	   /* a <channel> for QEMU's guest agent (org.qemu.guest_agent.0) */
	bool kvm_hidden;   /* <features><kvm><hidden state='on'> */
	bool vendor_id;	   /* <features><hyperv><vendor_id state='on'> */
	/*
	 * Every CPU a <cputune> pin names (vcpupin, emulatorpin, iothreadpin),
	 * each cpuset read on its own as libvirt reads it ("^" excludes from
	 * its own pin only); BAD_PINS the first one that is no list of CPUs.
	 */
	bool pinned;
	struct vu_set pin_cpus;
	char *bad_pins;
	bool vcpu_pinned;	       /* a <vcpupin> among them */
	bool vcpusched;		       /* <cputune><vcpusched>: libvirt sets the vCPUs' priority */
	unsigned long long memory_kib; /* <memory>, 0 when absent or none libvirt takes */
	char memory_amount[48];	       /* as written: value and unit */
	bool hugepages;		       /* <memoryBacking><hugepages> */
	unsigned long long page_kib;   /* its first <page size>, 0 for the kernel's default */
	struct vu_dompage *pages;      /* every <page>, in order */
	size_t npages;
	struct vu_domcell *cells; /* guest NUMA cells, in order */
	size_t ncells;
	char numa_nodeset[64]; /* <numatune><memory nodeset>: the host nodes of all memory */
};

/*
 * Parse FILE ("-" for standard input). Only <hostdev mode='subsystem'
 * type='pci'> entries count; other host devices are ignored. Errors are
 * reported naming the file: -EINVAL for a document that is not a domain's
 * XML, -errno when it cannot be read.
 */
int vu_domxml_read(const char *file, struct vu_domxml *out);
/*
 * Whether libvirt would take NAME for a domain: not empty, no '/' (it names
 * files below /run/libvirt/qemu, where a '../' would lead elsewhere).
 */
bool vu_domain_name_ok(const char *name);
/*
 * The same, for a command that remembers the domain by name: one without a
 * <name> is reported too, -EINVAL (OUT freed).
 */
int vu_domxml_read_named(const char *file, struct vu_domxml *out);
/* The same for a document in memory; SHOWN names it in messages. */
int vu_domxml_parse(const char *buf, size_t len, const char *shown, struct vu_domxml *out);
void vu_domxml_free(struct vu_domxml *x);

struct vu_devs;
struct vu_dev;
/*
 * The devices of FILE's PCI hostdevs, appended to *OUT (without repeats).
 * Each problem is reported: 0, -EINVAL for a document that is no domain
 * (vu_domxml_read), -ENODEV for an address the machine does not have.
 */
int vu_domxml_devices(const char *file, const struct vu_devs *devs, struct vu_dev ***out,
		      size_t *n);

#endif
