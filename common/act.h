/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Carrying out changes: -n prints each as the shell command that would do it, -v logs it. */
#ifndef VU_ACT_H
#define VU_ACT_H

#include <stdbool.h>
#include <stddef.h>

#include "msg.h"

/* Run-wide, set once from -n/--dry-run. */
extern bool vu_dry_run;
/* Set by vu_out_new for --json: a dry run's lines go to it, not to stdout. */
extern void (*vu_act_plan_hook)(const char *line);

/*
 * Write VAL to the rooted sysfs PATH: 0 or the kernel's -errno. An empty
 * VAL writes a newline, which clears attributes such as driver_override.
 * Under dry run, print `echo VAL > PATH` and change nothing.
 */
int vu_act_write(const char *path, const char *val);
/*
 * The same for writes that can block in the kernel (unbind, probe): done
 * in a child that holds none of our output, abandoned after TIMEOUT_MS
 * with -ETIMEDOUT. The child may stay blocked in the kernel; nothing waits
 * for it.
 */
int vu_act_write_timeout(const char *path, const char *val, int timeout_ms);
/*
 * vu_read with a deadline, for attributes whose read takes the device lock
 * (driver_override): behind a remove() still running it waits as long as
 * that does. -ETIMEDOUT after TIMEOUT_MS, the reader left to the kernel.
 */
int vu_read_timeout(const char *path, char *buf, size_t size, int timeout_ms);
/* Under dry run, print a command line (modprobe ...); else log it with -v. */
void vu_act_command(const char *fmt, ...) VU_PRINTF(1, 2);
/*
 * S as one shell word that the shell reads back as S: as it is when plainly
 * safe, else in single quotes. 0, or -ENAMETOOLONG (BUF emptied) when it does
 * not fit in SIZE.
 */
int vu_shell_word(char *buf, size_t size, const char *s);
/* "modprobe" with -d/-S when the sysroot is not /, for dry-run output. */
const char *vu_act_modprobe(void);

#endif
