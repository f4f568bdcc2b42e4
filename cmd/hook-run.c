/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hook-run: the libvirt qemu hook: runs qemu.d scripts per guest and event, safely and in order. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "act.h"
#include "hooks.h"
#include "msg.h"
#include "opts.h"
#include "run.h"
#include "sysfs.h"
#include "util.h"

/* install, check, list and new, one a file */
#include "hook-run/hook-run.h"

enum {
	OPT_FORCE = VU_OPT_CMD,
	OPT_GPU,
	OPT_MOVE_ASIDE,
};

#define DEFAULT_TIMEOUT_S 120

static noreturn void usage(void)
{
	fputs("Usage: hook-run GUEST OPERATION SUB-OPERATION EXTRA    (as libvirt calls it)\n"
	      "       hook-run [options] install|check|list [GUEST]|new GUEST|uninstall\n"
	      "\n"
	      "Installed as /etc/libvirt/hooks/qemu, or linked as qemu.d/vfio-utils (libvirt\n"
	      "6.5 and later), it runs qemu.d/GUEST/OPERATION/SUB-OPERATION\n"
	      "if that is an executable file, else every executable file in that directory in\n"
	      "strcmp order, each with libvirt's four arguments and the domain XML on stdin.\n"
	      "\n"
	      "Commands:\n"
	      "  install                become the qemu hook, keeping an existing one as qemu.orig\n"
	      "  check                  audit the hooks: permissions, names, CRLF, shebangs, virsh\n"
	      "  list [GUEST]           what would run, in order, for each event\n"
	      "  new GUEST              write start and release scripts for this machine's GPU\n"
	      "  uninstall              undo install: the previous hook (qemu.orig) put back\n"
	      "\n"
	      "Options:\n"
	      "  -c, --connect URI      check, list, new: the libvirt to ask for domains\n"
	      "                         (qemu:///system; below --sysroot, only one given)\n"
	      "      --gpu DEVICE       new: the GPU to pass (default: the domain's, kvm.conf's\n"
	      "                         VIRSH_GPU_VIDEO, the only one, or the one the host\n"
	      "                         does not boot on)\n"
	      "      --force            install: replace an existing qemu.orig; new: overwrite\n"
	      "      --move-aside       new: move a guide's start.sh or revert.sh that would do\n"
	      "                         the same work aside, to vfio-utils-aside/\n"
	      "  -n, --dry-run          print what install, uninstall or new would do,\n"
	      "                         change nothing\n"
	      "      --json             list: as JSON (vfio-utils(7))\n" VU_USAGE_COMMON "\n"
	      "Environment: HOOK_RUN_TIMEOUT, seconds a script may run (120).\n"
	      "Exit status: 0 done, 1 a script failed or was refused (libvirt then aborts a\n"
	      "start), check found problems; 2 usage error.\n"
	      "See hook-run(8).\n",
	      stdout);
	vu_exit(VU_EXIT_OK);
}

/* A domain's XML is kilobytes; a bigger stdin is no domain, and each script would get it all. */
#define XML_MAX (8 << 20)

/*
 * The domain XML libvirt writes on stdin, read once for every script: NULL
 * when it is larger than XML_MAX. No stdin at all is an empty one.
 */
static char *read_stdin(size_t *len)
{
	size_t cap = 16384;
	char *buf = malloc(cap);
	ssize_t n;

	*len = 0;
	while (buf && (n = read(0, buf + *len, cap - *len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break; /* closed, or not readable: the scripts get none */
		}
		*len += (size_t)n;
		if (*len > XML_MAX) {
			free(buf);
			return NULL;
		}
		if (*len == cap) {
			char *b = realloc(buf, cap *= 2);

			if (!b)
				break;
			buf = b;
		}
	}
	return buf;
}

/* HOOK_RUN_TIMEOUT, or the default when it is unset or not a number of seconds. */
static int hook_timeout_ms(void)
{
	const char *s = getenv("HOOK_RUN_TIMEOUT");
	int ms;

	if (!s || !*s)
		return DEFAULT_TIMEOUT_S * 1000;
	if ((ms = vu_seconds_ms(s, 86400)) > 0)
		return ms;
	vu_warn("HOOK_RUN_TIMEOUT=%.32s: not a number of seconds up to 86400: %d s instead", s,
		DEFAULT_TIMEOUT_S);
	syslog(LOG_WARNING, "HOOK_RUN_TIMEOUT=%.32s: not a number of seconds: %d s instead", s,
	       DEFAULT_TIMEOUT_S);
	return DEFAULT_TIMEOUT_S * 1000;
}

/*
 * The hooks directory: where libvirt ran us from (run as qemu.d/NAME, its
 * parent), or the sysroot's. *IN_QEMU_D tells the second.
 */
static void hooks_dir(const char *argv0, char *dir, size_t size, bool *in_qemu_d)
{
	const char *slash = strrchr(argv0, '/');
	char *d;

	*in_qemu_d = false;
	if (slash && slash != argv0)
		snprintf(dir, size, "%.*s", (int)(slash - argv0), argv0);
	else if (slash)
		snprintf(dir, size, "/");
	else
		vu_path(dir, size, "/etc/libvirt/hooks");
	d = strrchr(dir, '/');
	if (d && strcmp(d, "/qemu.d") == 0) {
		d[d == dir ? 1 : 0] = '\0'; /* "/qemu.d" is below "/" */
		*in_qemu_d = true;
	}
}

/*
 * The scripts find the suite's commands by name, wherever it is installed:
 * hook-run's own directory first on the PATH libvirt gives.
 */
static void scripts_path(void)
{
	const char *old = getenv("PATH");
	char self[PATH_MAX] = "", *slash, *path;

	if (hr_self_path(self, sizeof(self)) < 0 || !(slash = strrchr(self, '/')))
		return;
	*slash = '\0';
	if (asprintf(&path, "%s:%s", *self ? self : "/",
		     old && *old
			 ? old
			 : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") >= 0) {
		setenv("PATH", path, 1);
		free(path);
	}
}

static int dispatch(const char *argv0, char *const args[4])
{
	const char *guest = args[0], *op = args[1], *subop = args[2];
	const struct vu_hook_event *ev = vu_hook_event(op, subop);
	/* Unknown events abort on failure too, unless they are the stop side's. */
	bool stop_on_failure =
	    ev ? ev->stop_on_failure : strcmp(op, "stopped") != 0 && strcmp(op, "release") != 0;
	char base[PATH_MAX], why[PATH_MAX + 128], *xml;
	struct vu_names scripts;
	int timeout_ms, failed = 0;
	bool in_qemu_d;
	size_t len;

	/* The arguments are data: never path components unless they are plain names. */
	if (!vu_hook_name_safe(guest) || !vu_hook_name_safe(subop)) {
		openlog("hook-run", LOG_PID, LOG_DAEMON);
		syslog(LOG_WARNING, "%s unusable as a directory name: no hooks run for %s",
		       vu_hook_name_safe(guest) ? "sub-operation" : "guest name", op);
		return VU_EXIT_OK;
	}
	hooks_dir(argv0, base, sizeof(base), &in_qemu_d);
	if (vu_hook_scripts(base, guest, op, subop, &scripts, NULL) < 0 || scripts.n == 0)
		return VU_EXIT_OK; /* the common case: nothing to do, at once */
	openlog("hook-run", LOG_PID, LOG_DAEMON);
	/*
	 * Run by libvirt from qemu.d (the packaged link), the qemu hook runs too:
	 * when that is hook-run, or a dispatcher of its own, it runs the scripts,
	 * which must not run twice.
	 */
	if (in_qemu_d) {
		char qemu[PATH_MAX + 8];
		bool self;

		snprintf(qemu, sizeof(qemu), "%s/qemu", base);
		self = hr_is_self(qemu);
		if (self || hr_foreign_dispatcher(qemu)) {
			if (!self)
				syslog(
				    LOG_NOTICE,
				    "%s runs qemu.d's scripts itself: hook-run in qemu.d leaves them to it",
				    qemu);
			vu_names_free(&scripts);
			return VU_EXIT_OK;
		}
	}
	scripts_path();
	setenv("VFIO_UTILS_HOOK", "1", 1);
	setenv("VFIO_UTILS_GUEST", guest, 1);
	timeout_ms = hook_timeout_ms();
	signal(SIGPIPE, SIG_IGN);
	if (!(xml = read_stdin(&len))) {
		vu_err("standard input: larger than %d MiB, which no domain XML is: no script runs",
		       XML_MAX >> 20);
		syslog(LOG_ERR, "%s %s %s: standard input larger than %d MiB: no script runs",
		       guest, op, subop, XML_MAX >> 20);
		vu_names_free(&scripts);
		return VU_EXIT_FAIL;
	}
	for (size_t i = 0; i < scripts.n; i++) {
		const char *script = scripts.v[i], *rel = script + strlen(base) + 1;
		double t0 = vu_now();
		char *argv[] = { (char *)script, args[0], args[1], args[2], args[3], NULL };
		const char *reason;
		int status, fd;

		if (vu_hook_unsafe(base, script, why, sizeof(why), &fd)) {
			vu_err("%s: refused: %s", rel, why);
			syslog(LOG_ERR, "%s %s %s: %s: refused: %s", guest, op, subop, rel, why);
			failed++;
			if (stop_on_failure)
				break;
			continue;
		}
		status = vu_run_script(fd, argv, xml, len, timeout_ms, &reason);
		close(fd);
		syslog(status ? LOG_ERR : LOG_INFO, "%s %s %s: %s: exit %d%s%s, %.2f s", guest, op,
		       subop, rel, status, reason ? ", " : "", reason ? reason : "", vu_now() - t0);
		if (status == 0)
			continue;
		failed++;
		vu_err("%s: %s%s%d", rel, reason ? reason : "",
		       reason ? ", status " : "exit status ", status);
		if (stop_on_failure) {
			vu_err("%s %s for %s stopped at the first failure", op, subop, guest);
			break;
		}
	}
	free(xml);
	vu_names_free(&scripts);
	return failed ? VU_EXIT_FAIL : VU_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "gpu", required_argument, NULL, OPT_GPU },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "move-aside", no_argument, NULL, OPT_MOVE_ASIDE },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, VU_OPT_JSON },
		VU_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	static const struct vu_subcmd cmds[] = {
		{ "install", 0, 0 }, { "check", 0, 0 },	    { "list", 0, 1 },
		{ "new", 1, 1 },     { "uninstall", 0, 0 }, { NULL, 0, 0 },
	};
	const char *uri = "qemu:///system", *gpu = NULL, *libvirt;
	const struct vu_subcmd *cmd;
	bool force = false, uri_given = false, move_aside = false;
	int opt;

	/*
	 * libvirt: qemu GUEST OPERATION SUB-OPERATION EXTRA, all four data, never
	 * options, whatever they say: a guest may be named --help, and a newer
	 * libvirt may send an operation not known here. Run as hook-run, the
	 * same four arguments with a known operation are libvirt's call too.
	 */
	bool as_hook = strcmp(program_invocation_short_name, "hook-run") != 0;

	/* Installed as "qemu": messages still say who speaks. */
	program_invocation_short_name = "hook-run";
	vu_std_fds();
	if (argc == 5 && (as_hook || vu_hook_op_known(argv[2])))
		return dispatch(argv[0], argv + 1);

	while ((opt = getopt_long(argc, argv, "c:nvqhV", longopts, NULL)) != -1) {
		if (vu_common_opt(opt, optarg))
			continue;
		switch (opt) {
		case 'c':
			uri = optarg;
			uri_given = true;
			break;
		case OPT_GPU:
			gpu = optarg;
			break;
		case OPT_FORCE:
			force = true;
			break;
		case OPT_MOVE_ASIDE:
			move_aside = true;
			break;
		case 'h':
			usage();
		default:
			vu_errtryhelp();
		}
	}
	cmd = vu_subcommand_args(argc, argv, cmds, " (or libvirt's four arguments)");
	if (vu_opt_json && cmd - cmds != 2)
		vu_usage_error("--json goes with list");
	if (move_aside && cmd - cmds != 3)
		vu_usage_error("--move-aside goes with new");
	vu_common_done();
	/* Below a sysroot the host's libvirt knows another machine: asked only when named. */
	libvirt = *vu_sysroot() && !uri_given ? NULL : uri;
	switch (cmd - cmds) {
	case 0:
		return hr_install(force);
	case 1:
		return hr_check(uri);
	case 2:
		return hr_list(optind < argc ? argv[optind] : NULL, libvirt, vu_opt_json);
	case 3:
		return hr_new(argv[optind], gpu, force, move_aside, libvirt);
	default:
		return hr_uninstall();
	}
}
