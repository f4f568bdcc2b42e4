/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Machine descriptions: posted IOMMU listings plus directives, parsed into a model. */
#ifndef SIM_MACHINE_H
#define SIM_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct m_dev {
	unsigned domain, bus, dev, func;
	unsigned vendor, device, class, rev; /* class: 24 bits with prog-if */
	int group;			     /* -1: none */
	char *class_text;		     /* "VGA compatible controller" as posted */
	char *name_text;		     /* "NVIDIA Corporation TU106 [...]" as posted */
	char *driver;			     /* bound at start; NULL: none */
	char *native;			     /* the driver whose ID table matches it */
	char *reset_method;		     /* NULL: no reset file */
	bool boot_vga;
	bool removed; /* through its "remove" attribute, until a rescan */
	/* faults; a fault's driver NULL means any driver */
	bool unbind_blocks;
	bool probe_nothing;
	char *probe_nothing_driver;
	int bind_errno;
	char *bind_errno_driver;
	/* latency: the driver's remove() and a probe take this long (ms), as nvidia's do */
	int unbind_ms, probe_ms;
	/* where the simulated kernel keeps its own state */
	char *override; /* driver_override, NULL when unset */
	int drm_minor;	/* -1 unless a DRM driver registered a card for it */
	int snd_card;	/* -1 unless a sound driver registered a card for it */
	int opens;	/* open device nodes: an unbind waits for them */
	/*
	 * The driver's remove() is running: the driver link is gone already, the
	 * device lock is held, and driver still names the driver until it returns.
	 */
	bool unbinding;
	/* A timed remove() or probe under way (unbinding holds the lock): when it ends. */
	long long busy_until; /* CLOCK_MONOTONIC ms, 0: none */
	bool probing;
	struct m_driver *probing_driver; /* a bind's driver; NULL: whichever matches */
	int parent; /* the bridge it sits behind (its bus is that bridge's secondary), -1: root */
	void *priv;
};

enum m_modstate { M_MOD_AVAILABLE, M_MOD_LOADED, M_MOD_BUILTIN, M_MOD_ABSENT };

struct m_mod {
	char *name;
	enum m_modstate state;
	char **deps; /* modules whose symbols this one uses */
	size_t ndeps;
	char *softdep; /* "pre: a b post: c" */
	char *driver;  /* PCI or platform driver it registers, NULL: none */
	bool platform;
	int refcnt;		       /* held by users other than modules (open device nodes) */
	int load_errno, unload_errno;  /* faults */
	bool load_block, unload_block; /* the next one waits until "release writes" */
	bool load_once, unload_once;   /* the errno fault applies to the next one only */
};

/* A driver the kernel knows: registered while its module is loaded or built in. */
struct m_driver {
	char *name;
	bool platform;
	int mod;    /* index into mods, -1: built into the kernel */
	char **ids; /* dynamic IDs added through new_id, "vvvv dddd" */
	size_t nids;
	bool registered;
};

struct m_console {
	char *name; /* "(M) frame buffer device" */
	bool bound;
	bool present; /* fbcon consoles exist only while some framebuffer does */
};

struct m_mount {
	int dev; /* index into devs */
	char *target;
	char *fstype;
	bool swap;
};

struct m_netif {
	int dev;
	char *name;
	bool up;
};

struct m_holder {
	char *node; /* "/dev/dri/card0" */
	char *comm;
	int uid;    /* a user's systemd service runs it: that user, -1: none */
	char *unit; /* that service, "pipewire.service"; NULL: none */
};

/* Huge pages of one size on one NUMA node, as the kernel's hstate counts them. */
struct m_hnode {
	long persist; /* the pool's own pages: nr_hugepages less surplus */
	long used;    /* in use by a process (QEMU's guest memory); beyond persist: surplus */
	long limit;   /* a fault: the most this node ever holds (fragmented memory), -1 none */
};

#define M_NODES_MAX 8
#define M_HSIZES 2 /* 2 MiB and 1 GiB, as x86-64 has them */

struct m_hsize {
	unsigned long kib;
	struct m_hnode node[M_NODES_MAX];
};

struct machine {
	char *path;
	struct m_dev *devs;
	size_t ndevs;
	struct m_mod *mods;
	size_t nmods;
	struct m_driver *drivers;
	size_t ndrivers;
	struct m_console *consoles;
	size_t nconsoles;
	bool no_vtconsole;
	char *fb_kind;	 /* "efi-framebuffer", "simple-framebuffer", ...; NULL: none */
	bool fb_given;	 /* a framebuffer directive chose it, the boot GPU's driver aside */
	char *fb_driver; /* driver bound to it; NULL: unbound */
	int fb_dev;	 /* GPU whose BAR the framebuffer sits in, -1: none */
	bool fb_gone;	 /* the platform device was unregistered (evicted) */
	char *iommu;	 /* "amd", "intel", "off" */
	char *cpu;	 /* "AuthenticAMD", "GenuineIntel" */
	char *cmdline;
	char *kernel;
	char *init; /* "systemd", "openrc", "runit", "none" */
	int ncpus;  /* logical CPUs: /sys/devices/system/cpu */
	bool no_smt; /* without it, CPU N and N + ncpus/2 are one core's two threads */
	char *cpufreq;	 /* the scaling driver, "none": no cpufreq */
	char *governors; /* those it offers, space-separated; each CPU boots with the first */
	int nnodes; /* NUMA nodes, CPUs and memory split evenly among them */
	unsigned long long mem_kib; /* MemTotal */
	struct m_hsize huge[M_HSIZES];
	unsigned long compactions, cache_drops; /* writes to compact_memory, drop_caches */
	char *dm;   /* display manager service, NULL: none */
	struct m_mount *mounts;
	size_t nmounts;
	struct m_netif *netifs;
	size_t nnetifs;
	struct m_holder *holders;
	size_t nholders;
};

/* The kernel version as major * 1000 + minor: 6.1 is 6001. */
int machine_kver(const struct machine *m);
/* Parse FILE; on error print "FILE:LINE: message" and return -1. */
int machine_load(struct machine *m, const char *file);
/* The same from an open stream; FILE names it in messages. */
int machine_parse(struct machine *m, FILE *f, const char *file);
/* Fill in what a real host would have where the description is silent. */
int machine_complete(struct machine *m);
void machine_free(struct machine *m);

struct m_driver *machine_find_driver(const struct machine *m, const char *name);
int machine_find_dev(const struct machine *m, unsigned domain, unsigned bus, unsigned dev,
		     unsigned func);
struct m_mod *machine_find_mod(const struct machine *m, const char *name);
/* The module that registers DRIVER, NULL for built-in drivers like pcieport. */
struct m_mod *machine_driver_mod(const struct machine *m, const char *driver);
void m_dev_name(const struct m_dev *d, char buf[20]);
/* The huge page size of SIZE ("2M", "1G", "2048kB", "1048576"), NULL when there is none. */
struct m_hsize *machine_hsize(struct machine *m, const char *size);
/*
 * "SIZE [node N] pages|max|use COUNT" (max also takes "none"), a directive
 * and a control command: the pool holds COUNT pages (as hugepages= at boot);
 * the kernel grants no more than COUNT (fragmented memory); a process uses
 * COUNT of them (QEMU's guest memory). Without a node: every node (pages:
 * spread as the kernel spreads them). 0 or -EINVAL.
 */
int machine_huge_ctl(struct machine *m, char *args);
/*
 * A write of TARGET to SIZE's nr_hugepages, on NODE or (-1) the whole pool,
 * as the kernel's set_max_huge_pages does it: pages come one at a time,
 * round the nodes, until one can not; fewer granted is no error.
 */
void machine_huge_set(struct machine *m, struct m_hsize *h, int node, long target);
/* Pages of SIZE on NODE (-1: all): in the pool, free, surplus. */
long m_huge_nr(const struct m_hsize *h, int node);
long m_huge_free(const struct m_hsize *h, int node);
long m_huge_surplus(const struct m_hsize *h, int node);
/* Memory in KiB: each node's, and what is not huge pages (nor the host's own use) on NODE. */
unsigned long long m_node_kib(const struct machine *m);
unsigned long long m_node_free_kib(const struct machine *m, int node);
bool m_dev_is_bridge(const struct m_dev *d);
/* A PCI-to-PCI or CardBus bridge: a type 1 or 2 header, which vfio-pci's probe refuses. */
bool m_dev_is_pci_bridge(const struct m_dev *d);
/* A DRM driver that takes the firmware framebuffer over when it probes at boot. */
bool machine_native_fb_driver(const char *driver);
int parse_errno(const char *s);
/*
 * Set a fault on D, from a machine file's "fault WHAT DEV ARG DRV" or sim
 * ctl's "fault DEV WHAT ARG DRV": unbind-blocks | probe-nothing [DRV] |
 * bind-fails ERRNO [DRV] | clear. 0 or -EINVAL.
 */
int machine_dev_fault(struct m_dev *d, const char *what, const char *arg, const char *drv);

#endif
