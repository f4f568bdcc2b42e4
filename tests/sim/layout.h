/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The machine model projected into sysfs, procfs and /dev as the kernel lays them out. */
#ifndef SIM_LAYOUT_H
#define SIM_LAYOUT_H

#include "machine.h"
#include "tree.h"

/* What the simulated kernel does when an attribute is written. */
enum sim_kind {
	K_PLAIN = 0,
	K_DRIVER_OVERRIDE, /* obj: struct m_dev */
	K_BIND,		   /* obj: struct m_driver */
	K_UNBIND,
	K_NEW_ID,
	K_REMOVE_ID,
	K_DRIVERS_PROBE,
	K_BUS_RESCAN,
	K_DEV_REMOVE, /* obj: struct m_dev */
	K_DEV_RESCAN,
	K_RESET,
	K_VTCON_BIND, /* obj: struct m_console */
	K_PLAT_OVERRIDE,
	K_CONTROL,   /* the simulator's own control file */
	K_DEVNODE,   /* obj: struct m_dev whose node this is (DRM card, /dev/nvidiaN) */
	K_MODNODE,   /* obj: struct m_mod a node pins (/dev/nvidiactl) */
	K_GROUPNODE, /* /dev/vfio/N; obj: the first device of the group */
	K_HUGE_NR,	/* nr_hugepages of the whole pool; obj: struct m_hsize */
	K_HUGE_NR_NODE, /* a node's nr_hugepages; obj: its struct m_hnode */
	K_COMPACT,	/* /proc/sys/vm/compact_memory */
	K_DROP_CACHES,	/* /proc/sys/vm/drop_caches */
	K_WQ_CPUMASK,	/* /sys/devices/virtual/workqueue/cpumask */
	K_CPUSET,	/* a cgroup's cpuset.cpus; obj: its cpuset.cpus.effective node */
	K_GOVERNOR,	/* a cpufreq policy's scaling_governor */
};

/* A mask of NCPUS CPUs, all set, as the kernel prints cpumasks ("ff", "ffffffff,ffffffff"). */
#define VU_MASK_MAX 2400
void layout_mask(int ncpus, char *buf, size_t size);
/* The same for the CPUs BITS[0..NCPUS) holds. */
void layout_mask_bits(const bool *bits, int ncpus, char *buf, size_t size);

/* The whole tree as the machine boots. */
void layout_build(struct t_node *root, struct machine *m);

void layout_dev_path(const struct machine *m, int dev, char *buf, size_t size);
/* Reflect the model's current state of one object in the tree. */
void layout_dev_binding(struct t_node *root, struct machine *m, int dev, const char *old_driver);
void layout_driver(struct t_node *root, struct machine *m, struct m_driver *drv);
void layout_modules(struct t_node *root, struct machine *m);
void layout_console(struct t_node *root, struct machine *m, int i);
void layout_framebuffer(struct t_node *root, struct machine *m);
void layout_iomem(struct t_node *root, struct machine *m);
/* /dev nodes of loaded modules (nvidiactl, vfio/vfio). */
void layout_module_nodes(struct t_node *root, struct machine *m);
/* /proc/meminfo, /proc/sys/vm and the huge page counts, as the pools stand now. */
void layout_memory(struct t_node *root, struct machine *m);
void layout_dev_remove(struct t_node *root, struct machine *m, int dev);
/* A remove() under way: the driver links go first, the binding stays until it returns. */
void layout_dev_unlink(struct t_node *root, struct machine *m, int dev);
void layout_dev_add(struct t_node *root, struct machine *m, int dev);

/*
 * A PCI ID database holding the names as the listing showed them. LOOKUP
 * gives a vendor's name from the host's database (NULL when unknown) to
 * split "VENDOR DEVICE" where the listing joins them.
 */
void layout_pci_ids(struct t_node *root, const struct machine *m, const char *(*lookup)(unsigned));

#endif
