/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Messages, verbosity and exit statuses shared by every vfio-utils command. */
#include <errno.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"

#ifndef VU_VERSION
#define VU_VERSION "0.0.0"
#endif

int vu_verbosity = VU_NORMAL;

static void vmsg(FILE *f, const char *tag, int err, const char *fmt, va_list ap)
{
	/* One fprintf per line keeps messages whole when commands share a stderr. */
	char line[4096];
	int n = vsnprintf(line, sizeof(line), fmt, ap);

	if (n < 0)
		line[0] = '\0';
	/* Keep the order of what the user reads when stdout and stderr share a terminal. */
	fflush(stdout);
	if (err)
		fprintf(f, "%s: %s%s: %s\n", program_invocation_short_name, tag, line,
			strerror(err < 0 ? -err : err));
	else
		fprintf(f, "%s: %s%s\n", program_invocation_short_name, tag, line);
}

void vu_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(stderr, "", 0, fmt, ap);
	va_end(ap);
}

void vu_errc(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(stderr, "", err, fmt, ap);
	va_end(ap);
}

void vu_warn(const char *fmt, ...)
{
	va_list ap;

	if (vu_verbosity < VU_NORMAL)
		return;
	va_start(ap, fmt);
	vmsg(stderr, "warning: ", 0, fmt, ap);
	va_end(ap);
}

void vu_report(const char *fmt, ...)
{
	va_list ap;

	if (vu_verbosity < VU_NORMAL)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void vu_verbose(const char *fmt, ...)
{
	va_list ap;

	if (vu_verbosity < VU_VERBOSE)
		return;
	va_start(ap, fmt);
	vmsg(stderr, "", 0, fmt, ap);
	va_end(ap);
}

void vu_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(stderr, "", 0, fmt, ap);
	va_end(ap);
	vu_errtryhelp();
}

void vu_errtryhelp(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", program_invocation_short_name);
	exit(VU_EXIT_USAGE);
}

void vu_print_version(void)
{
	printf("%s (vfio-utils) %s\n", program_invocation_short_name, VU_VERSION);
	exit(VU_EXIT_OK);
}

static int close_stream(FILE *f)
{
	int pending = __fpending(f) != 0;
	int prev_fail = ferror(f) != 0;
	int close_fail = fclose(f) != 0;

	if (prev_fail || (close_fail && (pending || errno != EBADF))) {
		if (!close_fail)
			errno = 0;
		return EOF;
	}
	return 0;
}

static void close_stdout(void)
{
	/* EPIPE means the reader went away (| head): not a failure to report. */
	if (close_stream(stdout) != 0 && errno != EPIPE) {
		if (errno)
			vu_errc(errno, "write error");
		else
			vu_err("write error");
		_exit(VU_EXIT_FAIL);
	}
	if (close_stream(stderr) != 0)
		_exit(VU_EXIT_FAIL);
}

void vu_close_stdout_at_exit(void)
{
	atexit(close_stdout);
}
