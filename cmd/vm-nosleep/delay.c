/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vm-nosleep delay: logind's InhibitDelayMaxSec, the longest it waits for a
 * delay lock (5 s by default), raised for guests that hibernate, in a
 * logind.conf.d drop-in of our own, and taken away again. logind reads it
 * when it starts: nothing is restarted here.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act.h"
#include "msg.h"
#include "opts.h"
#include "sysfs.h"
#include "util.h"
#include "watch.h"

#define DROPIN_DIR "/etc/systemd/logind.conf.d"
#define DROPIN	   DROPIN_DIR "/vfio-utils.conf"
/* The first line of ours: a file without it is someone else's, never touched. */
#define MARK "# vfio-utils: written by vm-nosleep delay"

static noreturn void delay_usage(void)
{
	fputs(
	    "Usage: vm-nosleep delay [options] [SECONDS|default]\n"
	    "\n"
	    "How long logind waits for a guest to sleep, hibernate or shut down before\n"
	    "the host does (InhibitDelayMaxSec, 5 s by default): SECONDS (1 to 3600) writes\n"
	    "it in " DROPIN ", 'default' removes that file,\n"
	    "nothing prints what it says. logind reads it when it starts\n"
	    "(systemctl restart systemd-logind, or a reboot).\n"
	    "\n"
	    "Options:\n"
	    "  -n, --dry-run          print what would be written or removed, change nothing\n" VU_USAGE_COMMON
	    "\n"
	    "Exit status: 0 done (or nothing to do), 1 the file could not be written or\n"
	    "removed, or is not vm-nosleep's, 2 usage error.\n"
	    "See vm-nosleep(8), DELAY.\n",
	    stdout);
	vu_exit(VU_EXIT_OK);
}

/* What the drop-in at PATH says into BUF: 1 ours, 0 none, -EEXIST someone else's, -errno. */
static int dropin_read(const char *path, char *buf, size_t size)
{
	int n = vu_read(path, buf, size);

	if (n == -ENOENT)
		return 0;
	if (n < 0)
		return n;
	return strncmp(buf, MARK, strlen(MARK)) == 0 ? 1 : -EEXIST;
}

/* The seconds our drop-in says, 0 where it says none. */
static int dropin_seconds(const char *text)
{
	const char *at = strstr(text, "\nInhibitDelayMaxSec=");

	return at ? (int)strtol(at + strlen("\nInhibitDelayMaxSec="), NULL, 10) : 0;
}

int delay_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		VU_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	char path[PATH_MAX], now[1024] = "", text[1024], quoted[4096];
	int c, seconds = 0, ours, err;

	while ((c = getopt_long(argc, argv, "nvqhV", longopts, NULL)) != -1) {
		if (c == 'h')
			delay_usage();
		else if (!vu_common_opt(c, optarg))
			vu_errtryhelp();
	}
	vu_common_done();
	if (argc - optind > 1)
		vu_usage_error("delay: give one of SECONDS or 'default'");
	if (optind < argc && strcmp(argv[optind], "default") != 0 &&
	    (seconds = vu_seconds_ms(argv[optind], 3600)) < 0)
		vu_usage_error("delay %s: expected seconds, from 1 to 3600, or 'default'",
			       argv[optind]);
	seconds = (seconds + 999) / 1000;
	vu_path(path, sizeof(path), "%s", DROPIN);
	if ((ours = dropin_read(path, now, sizeof(now))) == -EEXIST) {
		vu_err("%s: not written by vm-nosleep: left as it is", DROPIN);
		return VU_EXIT_FAIL;
	}
	if (ours < 0) {
		vu_errc(ours, "%s", DROPIN);
		return VU_EXIT_FAIL;
	}
	if (optind == argc) {
		if (ours)
			vu_report("logind waits up to %d s for a guest to go first (%s)",
				  dropin_seconds(now), DROPIN);
		else
			vu_report(
			    "no drop-in of vm-nosleep: logind's own InhibitDelayMaxSec (5 s unless set)");
		return VU_EXIT_OK;
	}
	if (!seconds) {
		if (!ours) {
			vu_report("%s: none: nothing to take away", DROPIN);
			return VU_EXIT_OK;
		}
		vu_act_command("rm %s", DROPIN);
		if (vu_dry_run)
			return VU_EXIT_OK;
		if (unlink(path) < 0) {
			vu_errc(errno, "%s: cannot remove", DROPIN);
			return VU_EXIT_FAIL;
		}
		vu_report(
		    "%s removed: logind's own delay once it restarts (systemctl restart systemd-logind)",
		    DROPIN);
		return VU_EXIT_OK;
	}
	snprintf(text, sizeof(text),
		 MARK "; 'vm-nosleep delay default' removes it.\n"
		      "# How long logind waits for a delay lock: a guest's time to sleep,\n"
		      "# hibernate or shut down before the host does (vm-nosleep(8)).\n"
		      "[Login]\n"
		      "InhibitDelayMaxSec=%d\n",
		 seconds);
	if (ours && dropin_seconds(now) == seconds) {
		vu_report("logind waits up to %d s already (%s): nothing to do", seconds, DROPIN);
		return VU_EXIT_OK;
	}
	vu_shell_word(quoted, sizeof(quoted), text);
	vu_act_command("mkdir -p %s && printf %%s %s >%s", DROPIN_DIR, quoted, DROPIN);
	if (vu_dry_run)
		return VU_EXIT_OK;
	if ((err = vu_file_write_text(path, 0644, text)) < 0) {
		vu_errc(err, "%s: cannot write", DROPIN);
		return VU_EXIT_FAIL;
	}
	vu_report(
	    "%s: InhibitDelayMaxSec=%d; logind reads it when it starts (systemctl restart systemd-logind)",
	    DROPIN, seconds);
	return VU_EXIT_OK;
}
