/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Running another program (systemctl, rc-service, sv) and reading what it says. */
#ifndef VU_RUN_H
#define VU_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * What the tests' stand-ins for the host's tools (systemctl, systemd-run...)
 * say in their first lines: below a sysroot, nothing else is run.
 */
#define VU_STANDIN "vfio-utils stand-in"

/*
 * The host tool NAME, found on PATH, into PATH. Below a sysroot other than
 * "/" the host's own tool would act on this machine, not on the tree: only a
 * stand-in (VU_STANDIN) is taken there, for every command that runs one.
 * 0, or -EPERM or -ENOENT, reported.
 */
int vu_tool(const char *name, char *path, size_t size);
/*
 * Run the host tool ARGV[0] (vu_tool), with standard input from /dev/null.
 * Its standard output goes into OUT (trailing newline stripped; NULL:
 * discarded), its standard error to ours. At TIMEOUT_MS it is killed, with
 * what it started (its process group), and 124 returned, reported. Returns
 * its exit status, 128 + the signal that ended it, or -errno when it could
 * not be run (reported; -ENOENT: not installed).
 */
int vu_run(char *const argv[], char *out, size_t size, int timeout_ms);
/* How long a question to a host tool (systemctl show, systemd-inhibit --list) may take. */
#define VU_RUN_ASK_MS 10000
/*
 * How long a change through a host tool may take: systemd's own deadline for
 * a unit to stop (DefaultTimeoutStopSec, 90 s), and a margin.
 */
#define VU_RUN_CHANGE_MS 100000

/* Booted with systemd as init: its runtime directory exists (sd_booted(3)), below the sysroot. */
bool vu_systemd_booted(void);

/*
 * Standard input, output and error open, on /dev/null where one was closed:
 * otherwise the next descriptor opened lands there, and a child reads or
 * writes where it should not.
 */
void vu_std_fds(void);

/*
 * Run the program open at FD (fexecve: what was checked is what runs) with
 * ARGV, in a process group of its own, INPUT (LEN bytes) on its standard
 * input. Its output goes through a pipe to our standard error only while it
 * runs: a child it leaves behind keeps that pipe, never ours. After
 * TIMEOUT_MS its process group is killed; one still not gone a second later
 * (asleep in the kernel) is left behind. Returns its exit status, 128 + the
 * signal that ended it, 124 at the deadline (*WHY says which), 126 when it
 * could not be run.
 */
int vu_run_script(int fd, char *const argv[], const char *input, size_t len, int timeout_ms,
		  const char **why);
/*
 * Wait for child PID at most TIMEOUT_MS: its wait status, or -1 when it has
 * not ended (it is left running, unreaped).
 */
int vu_wait_timeout(pid_t pid, int timeout_ms);
/*
 * Wait at most TIMEOUT_MS for PID, any process, to end: 0 when it has (or
 * the PID is no longer a process named COMM), -ETIMEDOUT, -errno.
 */
int vu_proc_wait_gone(pid_t pid, const char *comm, int timeout_ms);
/*
 * A descriptor for process PID that poll() finds readable once it has
 * ended, reaped or not (a PID used again is not it); -errno (-ESRCH: gone
 * already; -ENOSYS: Linux before 5.3).
 */
int vu_pidfd_open(pid_t pid);

/*
 * fork() for work that may sleep in the kernel past a deadline: the child
 * holds nothing of the caller's, its standard streams on /dev/null and every
 * other descriptor closed (the state lock is an flock, which a copy would
 * keep taken, and libvirt's pipes) but *PIPE_W, its end of a socket pair
 * whose other end the parent keeps in *PIPE_R (both NULL: none): the child
 * writes its results there, and may read a word from the parent. As fork():
 * the child's PID, 0 in the child; -errno.
 */
pid_t vu_fork_detached(int *pipe_r, int *pipe_w);
/*
 * The parent's side: wait for PID at most TIMEOUT_MS (then it is killed and
 * left), and read what it wrote on FD (-1: none; closed here) into BUF,
 * NUL-terminated, *LEN bytes. Its wait status, or -ETIMEDOUT.
 */
int vu_wait_read(pid_t pid, int fd, int timeout_ms, char *buf, size_t size, size_t *len);

#endif
