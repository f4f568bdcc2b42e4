/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vm-nosleep's watcher: the guest sleeps, hibernates or shuts down before the host does. */
#ifndef VM_NOSLEEP_WATCH_H
#define VM_NOSLEEP_WATCH_H

/* What the host's sleep does to the guest. */
enum on_sleep {
	SLEEP_BLOCK,	 /* no host sleep while the domain runs (the default) */
	SLEEP_SUSPEND,	 /* the guest suspends to RAM first, and wakes with the host */
	SLEEP_HIBERNATE, /* the guest hibernates (shut off, its state on its disk) first */
};

/* What the host's shutdown does to the guest. */
enum on_shutdown {
	OFF_NONE,      /* nothing of ours (libvirt's own stop, libvirt-guests) */
	OFF_SHUTDOWN,  /* the guest shuts down through its agent first */
	OFF_HIBERNATE, /* the guest hibernates first */
};

/* A guest that did not get there by the deadline: never destroyed. */
enum if_late {
	LATE_PAUSE, /* its vCPUs stopped until the host is back (sleep) */
	LATE_LEAVE, /* left as it is */
};

struct policy {
	enum on_sleep sleep;
	enum on_shutdown shutdown;
	enum if_late late;
	int wait_s;	 /* how long the guest has; 0: what logind waits for a delay lock */
	const char *uri; /* libvirt's connection; NULL: its default */
};

extern const char *const on_sleep_names[];
extern const char *const on_shutdown_names[];
extern const char *const if_late_names[];

/* Only the block lock, which a plain systemd-inhibit holds: no watcher needed. */
static inline int policy_plain(const struct policy *p)
{
	return p->sleep == SLEEP_BLOCK && p->shutdown == OFF_NONE;
}

/* The index of NAME in NAMES (NULL-ended), -1 when it is none of them. */
int policy_word(const char *const names[], const char *name);

/* Option values, as both hold and watch take them: else a usage error naming the option. */
int word_opt(const char *opt, const char *const names[], const char *arg);
int wait_opt(const char *arg);

/* vm-nosleep delay [options] [SECONDS|default]: logind's drop-in (delay.c). Its exit status. */
int delay_main(int argc, char **argv);

/* vm-nosleep watch [options] DOMAIN: the unit's main process. Its exit status. */
int watch_main(int argc, char **argv);

#endif
