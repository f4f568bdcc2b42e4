/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The options every command shares, and their handling. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "msg.h"
#include "sysfs.h"

static const char *sysroot_opt;

bool vu_common_opt(int c, const char *arg)
{
	switch (c) {
	case VU_OPT_SYSROOT:
		sysroot_opt = arg;
		return true;
	case 'v':
		vu_verbosity = VU_VERBOSE;
		return true;
	case 'q':
		vu_verbosity = VU_QUIET;
		return true;
	case 'V':
		vu_print_version();
	}
	return false;
}

void vu_common_done(void)
{
	int err = vu_sysroot_set(sysroot_opt);

	if (err) {
		vu_errc(err, "%s: cannot use as sysroot",
			sysroot_opt ? sysroot_opt : "$VFIO_UTILS_SYSROOT");
		vu_errtryhelp();
	}
	vu_close_stdout_at_exit();
}

int vu_seconds_ms(const char *s, int max_s)
{
	char *end;
	double t;

	errno = 0;
	t = strtod(s, &end);
	/* Decimal only: strtod would take "nan", "inf" and "0x1p4" too. */
	if (end == s || *end || errno || !isfinite(t) || t <= 0 || t > max_s ||
	    s[strspn(s, "0123456789.")] != '\0')
		return -EINVAL;
	return t * 1000 < 1 ? 1 : (int)(t * 1000);
}

const char *vu_subcommand(int argc, char **argv, const char *const *names)
{
	const char *what = optind < argc ? argv[optind++] : names[0];
	char list[256] = "";
	size_t n = 0, len = 0;

	if (optind < argc)
		vu_usage_error("%s: one command at a time", argv[optind]);
	for (; names[n]; n++)
		if (strcmp(what, names[n]) == 0)
			return what;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
					i == 0	     ? ""
					: i + 1 == n ? " or "
						     : ", ",
					names[i]);
	vu_usage_error("%s: not a command (%s)", what, list);
}

int vu_timeout_opt(const char *s)
{
	int ms = vu_seconds_ms(s, 86400);

	if (ms < 0)
		vu_usage_error("--timeout: '%s' is not a number of seconds (at most 86400)", s);
	return ms;
}
