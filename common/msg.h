/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Messages, verbosity and exit statuses shared by every vfio-utils command. */
#ifndef VU_MSG_H
#define VU_MSG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdnoreturn.h>

#define VU_PRINTF(f, a) __attribute__((format(printf, f, a)))

enum {
	VU_EXIT_OK = 0,	   /* done, or nothing needed doing */
	VU_EXIT_FAIL = 1,  /* the operation failed */
	VU_EXIT_USAGE = 2, /* bad option or unparsable argument */
};

/*
 * The exit status for what a library call returned, having reported it:
 * 0 done, -EINVAL a usage error (an argument that does not parse), any
 * other -errno failed.
 */
int vu_exit_status(int err);

enum {
	VU_QUIET = -1,
	VU_NORMAL = 0,
	VU_VERBOSE = 1,
};

/* Run-wide: set once from -q/-v before any work starts. */
extern int vu_verbosity;

/*
 * Set by vu_out_new for --json: stdout holds the JSON document, so
 * vu_report prints nothing, and every error and warning line (as printed,
 * without "NAME: ") is handed to the hook as well.
 */
extern bool vu_json_mode;
extern void (*vu_msg_hook)(bool error, const char *line);

/* "NAME: message" on stderr, always printed. */
void vu_err(const char *fmt, ...) VU_PRINTF(1, 2);
/* "NAME: message: strerror(err)"; err may be positive or negative. */
void vu_errc(int err, const char *fmt, ...) VU_PRINTF(2, 3);
/* "NAME: warning: message" on stderr, silenced by -q. */
void vu_warn(const char *fmt, ...) VU_PRINTF(1, 2);
/* What the command did, on stdout, silenced by -q. */
void vu_report(const char *fmt, ...) VU_PRINTF(1, 2);
/* Each action as it happens, on stderr, only with -v. */
void vu_verbose(const char *fmt, ...) VU_PRINTF(1, 2);

/* Usage error: one line, the --help hint, exit 2. */
noreturn void vu_usage_error(const char *fmt, ...) VU_PRINTF(1, 2);
noreturn void vu_errtryhelp(void);
noreturn void vu_print_version(void);

/* Flush stdout at exit; a write error (full disk, closed pipe) becomes exit 1. */
void vu_close_stdout_at_exit(void);
/* exit(STATUS) once stdout is written out, as usage() and --version end: exit 1 if it cannot be. */
noreturn void vu_exit(int status);

/*
 * The length of the UTF-8 character S starts with, its code point in *CP;
 * 0 at the end of S or where S holds no valid character (a stray byte, an
 * overlong form, a surrogate).
 */
size_t vu_utf8_char(const char *s, unsigned *cp);
/*
 * S fit for a terminal, a log or a one-line message: control characters
 * but tab (newline, escape, C1) and bytes that are not UTF-8 written as \xNN.
 * Cut to SIZE; returns BUF.
 */
const char *vu_esc(const char *s, char *buf, size_t size);

#endif
