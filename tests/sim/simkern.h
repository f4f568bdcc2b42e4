/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The simulated kernel: what writes to sysfs and module system calls do to the machine. */
#ifndef SIM_SIMKERN_H
#define SIM_SIMKERN_H

#include <stdbool.h>
#include <stddef.h>

#include "layout.h"

/* sk_write's answer when the write must wait, as an unbind of a device in use does. */
#define SK_BLOCKED 1000000
/*
 * The write takes the device lock, which a remove() still running holds:
 * it waits, then runs as if it had just arrived.
 */
#define SK_LOCKED 1000001

struct sk_wfault {
	char path[256]; /* canonical: the attribute may not exist yet (a driver to come) */
	int err;
	bool once;
	bool block;  /* the write waits until "release writes", then takes effect */
	bool ignore; /* the write succeeds and changes nothing */
	int skip;    /* writes that pass before it applies */
};

struct sim {
	struct machine *m;
	struct t_node *root;
	int kver;
	int *group_opens; /* open /dev/vfio/N, per group number */
	int ngroups;
	struct sk_wfault *wfaults;
	size_t nwfaults;
	unsigned long resets;
	bool release_writes; /* set by "release writes", taken by the server */
};

/* Boot: the tree laid out from the machine, consoles matched to framebuffers. */
void sk_boot(struct sim *s, struct machine *m, struct t_node *root);

/*
 * A write of BUF to N: its length, a negative errno, SK_BLOCKED with *DEV
 * set to the device whose unbind must wait (-1: a write held by a "block"
 * fault, to be written again once released), or SK_LOCKED with *DEV the
 * device whose lock it waits for (to be written again once it is free).
 */
int sk_write(struct sim *s, struct t_node *n, const char *buf, size_t len, int *dev);
/* A blocked unbind of DEV may go on now; it does, and true is returned. */
bool sk_unblock(struct sim *s, int dev);
/* CLOCK_MONOTONIC in ms; the earliest end of a timed remove() or probe, 0: none. */
long long sk_now_ms(void);
long long sk_next_deadline(const struct sim *s);
/* Whether DEV's lock is free: no remove() of it is running. */
bool sk_unlocked(struct sim *s, int dev);
/*
 * Device nodes: an open pins the driver's module until its release. A
 * token for sk_release (-1: nothing to release), or -ENXIO when a static
 * node's module cannot be loaded.
 */
long sk_open(struct sim *s, struct t_node *n);
void sk_release(struct sim *s, struct t_node *n, long token);

/* Module system calls, as the preloaded trap forwards them. */
int sk_load(struct sim *s, const char *name);
int sk_unload(struct sim *s, const char *name);
/* The control file: "load NAME", "release DEV", "fault ...". */
int sk_control(struct sim *s, const char *cmd);

#endif
