/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vm-nosleep's questions to systemd and logind, asked on the system bus from
 * this process (sd-bus): what systemd-run, systemctl and systemd-inhibit
 * --list would ask, without starting them (each ~0.15-0.35 s under
 * emulation, in every VM's start and stop).
 */
#ifndef VM_NOSLEEP_BUS_H
#define VM_NOSLEEP_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

/*
 * The system bus: the host's, or below a sysroot the tree's own, never the
 * host's. 0, or -errno, said (after WHO, when not NULL).
 */
int bus_open(sd_bus **bus, const char *who);

/* What systemd says of a unit. */
struct unit_state {
	bool active;	 /* active, activating or reloading */
	long pid;	 /* its main process, 0 when none */
	char text[1024]; /* its StatusText (sd_notify's STATUS=), "" when none */
};

/*
 * UNIT as systemd has it: a unit it does not have loaded (a transient one
 * collected) is inactive. 0, or -errno, reported; TIMEOUT_MS for each call.
 */
int bus_unit(sd_bus *bus, const char *unit, struct unit_state *st, int timeout_ms);

/*
 * Start UNIT, transient, as systemd-run --collect --property=Type=TYPE
 * --description DESC -- ARGV... does, and wait for its start job (Type=exec:
 * until ARGV[0] runs; Type=notify: until it says READY). PATH is ARGV[0]'s
 * absolute path. 0 started; -EEXIST when systemd has UNIT already; else
 * -errno, nothing started, and WHY (SIZE bytes) says why in a line that
 * names UNIT.
 */
int bus_start(sd_bus *bus, const char *unit, const char *desc, const char *type, const char *path,
	      char *const argv[], int timeout_ms, char *why, size_t size);

/* Stop UNIT and wait for the job: 0 stopped, 1 not there to stop, -errno (WHY says why). */
int bus_stop(sd_bus *bus, const char *unit, int timeout_ms, char *why, size_t size);

/*
 * The units whose names match PATTERN (a glob), in any state, into OUT, a
 * name a line. 0, or -errno, reported.
 */
int bus_unit_names(sd_bus *bus, const char *pattern, char *out, size_t size, int timeout_ms);

/* Whether logind lists a lock on sleep (block or delay) taken by PID. */
bool bus_listed(sd_bus *bus, long pid, int timeout_ms);

#endif
