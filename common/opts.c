/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The options every command shares, and their handling. */
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
