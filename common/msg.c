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
#define VU_VERSION "unknown"
#endif

int vu_verbosity = VU_NORMAL;

size_t vu_utf8_char(const char *str, unsigned *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned c = s[0], min;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return c ? 1 : 0;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80, c &= 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800, c &= 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000, c &= 0x07;
	else
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and past Unicode's end are not characters. */
	if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

const char *vu_esc(const char *s, char *buf, size_t size)
{
	size_t len = 0;

	if (!size)
		return buf;
	while (*s && len + 1 < size) {
		unsigned cp;
		size_t n = vu_utf8_char(s, &cp);

		/*
		 * C0 and C1 controls, DEL and broken bytes: what a terminal would act
		 * on. A tab is layout, and the reports use it.
		 */
		if (!n || (cp < 0x20 && cp != '\t') || (cp >= 0x7f && cp < 0xa0)) {
			if (len + 5 > size)
				break;
			len +=
			    (size_t)snprintf(buf + len, size - len, "\\x%02x", (unsigned char)*s);
			s++;
			continue;
		}
		if (len + n + 1 > size)
			break;
		memcpy(buf + len, s, n);
		len += n;
		s += n;
	}
	buf[len] = '\0';
	return buf;
}

bool vu_json_mode;
void (*vu_msg_hook)(bool error, const char *line);

enum hook { NO_HOOK, ERROR, WARNING, QUIET_WARNING };

static void vmsg(int err, enum hook hook, const char *fmt, va_list ap)
{
	const char *tag = hook == WARNING || hook == QUIET_WARNING ? "warning: " : "";
	/* One fprintf per line keeps messages whole when commands share a stderr. */
	char raw[4096], line[4096 * 4], full[4096 * 4 + 256];
	int n = vsnprintf(raw, sizeof(raw), fmt, ap);

	/* An argument, a process name or a mount point may carry a newline or an escape. */
	vu_esc(n < 0 ? "" : raw, line, sizeof(line));
	/* Keep the order of what the user reads when stdout and stderr share a terminal. */
	fflush(stdout);
	if (err < 0)
		err = -err;
	/* What a user without root meets first: say what it takes. */
	if (err)
		snprintf(full, sizeof(full), "%s: %s%s", line, strerror(err),
			 (err == EACCES || err == EPERM) && geteuid() != 0 ? " (needs root)" : "");
	else
		snprintf(full, sizeof(full), "%s", line);
	if (hook != QUIET_WARNING)
		fprintf(stderr, "%s: %s%s\n", program_invocation_short_name, tag, full);
	if (vu_msg_hook && hook != NO_HOOK)
		vu_msg_hook(hook == ERROR, full);
}

void vu_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(0, ERROR, fmt, ap);
	va_end(ap);
}

void vu_errc(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(err, ERROR, fmt, ap);
	va_end(ap);
}

void vu_warn(const char *fmt, ...)
{
	va_list ap;

	/* -q silences it on stderr, not in the JSON document. */
	if (vu_verbosity < VU_NORMAL && !vu_msg_hook)
		return;
	va_start(ap, fmt);
	vmsg(0, vu_verbosity < VU_NORMAL ? QUIET_WARNING : WARNING, fmt, ap);
	va_end(ap);
}

void vu_report(const char *fmt, ...)
{
	char raw[4096], line[4096 * 4];
	va_list ap;
	int n;

	if (vu_verbosity < VU_NORMAL || vu_json_mode)
		return;
	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	printf("%s\n", vu_esc(n < 0 ? "" : raw, line, sizeof(line)));
}

void vu_verbose(const char *fmt, ...)
{
	va_list ap;

	if (vu_verbosity < VU_VERBOSE)
		return;
	va_start(ap, fmt);
	vmsg(0, NO_HOOK, fmt, ap);
	va_end(ap);
}

void vu_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(0, ERROR, fmt, ap);
	va_end(ap);
	vu_errtryhelp();
}

int vu_exit_status(int err)
{
	return err == 0 ? VU_EXIT_OK : err == -EINVAL ? VU_EXIT_USAGE : VU_EXIT_FAIL;
}

void vu_errtryhelp(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", program_invocation_short_name);
	exit(VU_EXIT_USAGE);
}

void vu_print_version(void)
{
	printf("%s (vfio-utils) %s\n", program_invocation_short_name, VU_VERSION);
	vu_exit(VU_EXIT_OK);
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

void vu_exit(int status)
{
	/* --help and --version too: output that never arrived is a failure. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			vu_errc(errno, "write error");
		exit(VU_EXIT_FAIL);
	}
	exit(status);
}
