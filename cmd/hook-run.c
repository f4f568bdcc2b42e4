/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hook-run: the libvirt qemu hook: runs qemu.d scripts per guest and event, safely and in order. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "act.h"
#include "device.h"
#include "domxml.h"
#include "hooks.h"
#include "msg.h"
#include "opts.h"
#include "run.h"
#include "sysfs.h"
#include "virt.h"

enum {
	OPT_FORCE = VU_OPT_CMD,
	OPT_GPU,
};

#define DEFAULT_TIMEOUT_S 120
#define BACKUP		  "qemu.orig"

static noreturn void usage(void)
{
	fputs("Usage: hook-run GUEST OPERATION SUB-OPERATION EXTRA    (as libvirt calls it)\n"
	      "       hook-run [options] install|check|list [GUEST]|new GUEST\n"
	      "\n"
	      "Installed as /etc/libvirt/hooks/qemu, or linked as qemu.d/vfio-utils (libvirt\n"
	      "6.5 and later), it runs qemu.d/GUEST/OPERATION/SUB-OPERATION\n"
	      "if that is an executable file, else every executable file in that directory in\n"
	      "strcmp order, each with libvirt's four arguments and the domain XML on stdin.\n"
	      "\n"
	      "Commands:\n"
	      "  install            become the qemu hook, keeping an existing one as qemu.orig\n"
	      "  check              audit the hooks: permissions, names, CRLF, shebangs, virsh\n"
	      "  list [GUEST]       what would run, in order, for each event\n"
	      "  new GUEST          write start and release scripts for this machine's GPU\n"
	      "\n"
	      "Options:\n"
	      "  -c, --connect URI  check, list, new: the libvirt to ask for domains\n"
	      "                     (qemu:///system; below --sysroot, only one given)\n"
	      "      --gpu DEVICE   new: the GPU to pass (default: the only one, or the one\n"
	      "                     the host does not boot on)\n"
	      "      --force        install: replace an existing qemu.orig; new: overwrite\n"
	      "  -n, --dry-run      print what install or new would write, change "
	      "nothing\n" VU_USAGE_COMMON "\n"
	      "Environment: HOOK_RUN_TIMEOUT, seconds a script may run (120).\n"
	      "Exit status: 0 done, 1 a script failed or was refused (libvirt then aborts a\n"
	      "start), check found problems; 2 usage error.\n"
	      "See hook-run(8).\n",
	      stdout);
	vu_exit(VU_EXIT_OK);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
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

static void relay(int from)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(from, buf, sizeof(buf))) > 0)
		if (write(2, buf, (size_t)n) < 0)
			break;
}

/* How long a process killed at the deadline gets to end. */
#define KILL_GRACE_MS 1000

/* Whether PID ended within MS (it is not reaped here). */
static bool reaped(pid_t pid, int pidfd, int ms)
{
	siginfo_t si;

	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };

		return poll(&p, 1, ms) > 0;
	}
	for (int waited = 0; waited <= ms; waited += 10) {
		si.si_pid = 0;
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * Run SCRIPT with libvirt's arguments and XML on its stdin. Its output goes
 * through a pipe to our stderr only while it runs: a child it leaves behind
 * keeps that pipe, never libvirt's. After TIMEOUT_S its process group is
 * killed. Returns its exit status (128 + signal; 124 for the deadline).
 */
static int run_script(const char *script, int fd, char *const args[4], const char *xml, size_t len,
		      int timeout_ms, char **why)
{
	int in[2], out[2], status, pidfd;
	double deadline = now() + timeout_ms / 1000.0;
	size_t written = 0;
	bool out_open = true;
	pid_t pid;

	*why = NULL;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		return 126;
	pid = fork();
	if (pid < 0)
		return 126;
	if (pid == 0) {
		char *argv[] = { (char *)script, args[0], args[1], args[2], args[3], NULL };

		setpgid(0, 0);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		signal(SIGPIPE, SIG_DFL);
		setenv("VFIO_UTILS_HOOK", "1", 1);
		setenv("VFIO_UTILS_GUEST", args[0], 1);
		/* A "#!" script is read by its interpreter through /dev/fd/N: kept open. */
		fcntl(fd, F_SETFD, 0);
		fexecve(fd, argv, environ);
		dprintf(2, "hook-run: %s: cannot run: %s%s\n", script, strerror(errno),
			errno == ENOEXEC ? " (no #! line?)" : "");
		_exit(126);
	}
	setpgid(pid, pid);
	close(in[0]);
	close(out[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	for (;;) {
		struct pollfd p[3] = { { .fd = out_open ? out[0] : -1, .events = POLLIN },
				       { .fd = pidfd, .events = POLLIN },
				       { .fd = written < len ? in[1] : -1, .events = POLLOUT } };
		int left = (int)((deadline - now()) * 1000);

		if (in[1] >= 0 && written >= len) {
			close(in[1]); /* all of it: the script sees end of file */
			in[1] = -1;
		}
		if (left <= 0) {
			kill(-pid, SIGKILL);
			*why = "killed at the deadline (HOOK_RUN_TIMEOUT)";
			/*
			 * SIGKILL does not end a process asleep in the kernel (a sysfs
			 * write that waits for a device): after a grace, it is left
			 * there, and libvirt is not kept waiting with it.
			 */
			if (!reaped(pid, pidfd, KILL_GRACE_MS)) {
				*why = "killed at the deadline (HOOK_RUN_TIMEOUT), but it does not "
				       "end: stuck in the kernel (an unbind?), left behind";
				relay(out[0]);
				close(out[0]);
				if (in[1] >= 0)
					close(in[1]);
				if (pidfd >= 0)
					close(pidfd);
				return 124;
			}
			break;
		}
		/* Without pidfd (Linux < 5.3) poll briefly and ask waitpid. */
		if (poll(p, 3, pidfd < 0 && left > 10 ? 10 : left) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			relay(out[0]);
		if (p[2].revents & (POLLOUT | POLLERR)) {
			ssize_t n = write(in[1], xml + written, len - written);

			/* A script that stops reading early gets no more. */
			written = n > 0 ? written + (size_t)n : len;
		}
		if (p[1].revents & POLLIN || (pidfd < 0 && waitpid(pid, &status, WNOHANG) == pid))
			break;
		/* Its output closed: only the exit is left to wait for. */
		if (p[0].revents & POLLHUP && !(p[0].revents & POLLIN))
			out_open = false;
	}
	relay(out[0]);
	close(out[0]);
	if (in[1] >= 0)
		close(in[1]);
	if (pidfd >= 0)
		close(pidfd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (*why)
		return 124;
	if (WIFSIGNALED(status)) {
		*why = "killed by a signal";
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
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

/* Where hook-run's own program is, resolved: 0, or -errno. */
static int self_path(char *buf, size_t size)
{
	char real[PATH_MAX];

	if (!realpath("/proc/self/exe", real))
		return errno ? -errno : -ENOENT;
	snprintf(buf, size, "%s", real);
	return 0;
}

/* Whether PATH leads, through any links, to this very program. */
static bool is_self(const char *path)
{
	char self[PATH_MAX], target[PATH_MAX];

	return self_path(self, sizeof(self)) == 0 && realpath(path, target) &&
	       strcmp(self, target) == 0;
}

/*
 * Whether the qemu hook at PATH, not hook-run, runs qemu.d's scripts itself:
 * the guides' dispatcher names qemu.d in its first lines.
 */
static bool foreign_dispatcher(const char *path)
{
	char buf[65536];
	ssize_t n;
	int fd;

	if (access(path, X_OK) < 0 || is_self(path))
		return false;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, "qemu.d") != NULL;
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

	if (self_path(self, sizeof(self)) < 0 || !(slash = strrchr(self, '/')))
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

		snprintf(qemu, sizeof(qemu), "%s/qemu", base);
		if (is_self(qemu) || foreign_dispatcher(qemu)) {
			if (!is_self(qemu))
				syslog(LOG_NOTICE,
				       "%s runs qemu.d's scripts itself: hook-run in "
				       "qemu.d leaves them to it",
				       qemu);
			vu_names_free(&scripts);
			return VU_EXIT_OK;
		}
	}
	scripts_path();
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
		double t0 = now();
		char *reason;
		int status, fd;

		if (vu_hook_unsafe(base, script, why, sizeof(why), &fd)) {
			vu_err("%s: refused: %s", rel, why);
			syslog(LOG_ERR, "%s %s %s: %s: refused: %s", guest, op, subop, rel, why);
			failed++;
			if (stop_on_failure)
				break;
			continue;
		}
		status = run_script(script, fd, args, xml, len, timeout_ms, &reason);
		close(fd);
		syslog(status ? LOG_ERR : LOG_INFO, "%s %s %s: %s: exit %d%s%s, %.2f s", guest, op,
		       subop, rel, status, reason ? ", " : "", reason ? reason : "", now() - t0);
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

/* install */

/* mkdir -p DIR (0755): 0, or -errno of the first directory that could not be made. */
static int mkdir_p(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *c = path + 1;; c++)
		if (*c == '/' || !*c) {
			char end = *c;

			*c = '\0';
			if (mkdir(path, 0755) < 0 && errno != EEXIST)
				return -errno;
			if (!end)
				return 0;
			*c = end;
		}
}

static int install(bool force)
{
	char dir[PATH_MAX], hook[PATH_MAX + 8], backup[PATH_MAX + 16], self[PATH_MAX],
	    target[PATH_MAX];
	const char *daemon;
	struct stat st;
	int err;

	if (self_path(self, sizeof(self)) < 0) {
		vu_errc(errno, "/proc/self/exe: cannot tell where hook-run is");
		return VU_EXIT_FAIL;
	}
	vu_path(dir, sizeof(dir), "/etc/libvirt/hooks");
	snprintf(hook, sizeof(hook), "%s/qemu", dir);
	snprintf(backup, sizeof(backup), "%s/%s", dir, BACKUP);
	if (realpath(hook, target) && strcmp(target, self) == 0) {
		vu_report("%s: already hook-run", vu_unrooted(hook));
		return VU_EXIT_OK;
	}
	if (lstat(hook, &st) == 0) {
		if (lstat(backup, &st) == 0 && !force) {
			vu_err("%s: exists already: the hook there now would replace it (--force "
			       "does)",
			       vu_unrooted(backup));
			return VU_EXIT_FAIL;
		}
		vu_act_command("mv %s %s", hook, backup);
		if (!vu_dry_run && rename(hook, backup) < 0) {
			vu_errc(errno, "%s: cannot keep it aside", hook);
			return VU_EXIT_FAIL;
		}
		vu_report("kept the previous hook as %s (qemu.d keeps working with hook-run)",
			  vu_unrooted(backup));
	}
	vu_act_command("mkdir -p %s", dir);
	vu_act_command("ln -s %s %s", self, hook);
	if (vu_dry_run)
		return VU_EXIT_OK;
	if ((err = mkdir_p(dir)) < 0) {
		vu_errc(err, "%s: cannot install", vu_unrooted(dir));
		return VU_EXIT_FAIL;
	}
	if (symlink(self, hook) < 0) {
		vu_errc(errno, "%s: cannot install", vu_unrooted(hook));
		return VU_EXIT_FAIL;
	}
	daemon = vu_virt_daemon();
	vu_report("installed %s -> %s; libvirt notices a new hook only when its daemon starts: "
		  "systemctl restart %s",
		  vu_unrooted(hook), self, daemon ? daemon : "libvirtd (or virtqemud)");
	return VU_EXIT_OK;
}

/* check */

struct audit {
	char base[PATH_MAX];
	int problems, notes;
};

/* What is worth knowing but keeps nothing from working: said, and counted apart. */
static void note(struct audit *a, const char *fmt, const char *arg)
{
	char line[PATH_MAX * 2 + 512], esc[sizeof(line) * 4];

	snprintf(line, sizeof(line), fmt, arg);
	printf("note: %s\n", vu_esc(line, esc, sizeof(esc)));
	a->notes++;
}

static void problem(struct audit *a, const char *path, const char *fmt, const char *arg)
{
	char line[PATH_MAX * 2 + 512], esc[sizeof(line) * 4];
	int n = snprintf(line, sizeof(line), "%s: ", path + strlen(a->base) + 1);

	snprintf(line + n, sizeof(line) - (size_t)n, fmt, arg);
	/* A file name may hold a newline or an escape: one line each, whatever it is. */
	printf("%s\n", vu_esc(line, esc, sizeof(esc)));
	a->problems++;
}

/* What is inside a script that keeps it from working, or hangs libvirt. */
static void audit_script(struct audit *a, const char *path)
{
	char buf[65536], why[PATH_MAX + 128];
	ssize_t n;
	int fd;

	if (vu_hook_unsafe(a->base, path, why, sizeof(why), NULL)) {
		size_t len = strlen(path);

		/* The script's own path is said once, at the start of the line. */
		problem(a, path, "unsafe: %s",
			strncmp(why, path, len) == 0 && strncmp(why + len, ": ", 2) == 0
			    ? why + len + 2
			    : why);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (memcmp(buf, "\177ELF", 4) == 0)
		return;
	if (strncmp(buf, "#!", 2) != 0)
		problem(a, path, "%s", "no #! line: the kernel cannot run it (Exec format error)");
	if (strstr(buf, "\r\n"))
		problem(
		    a, path, "%s",
		    "CRLF line endings: '#!/bin/bash\\r' fails with 'bad interpreter' (dos2unix)");
	for (char *v = buf; (v = strstr(v, "virsh")); v += 5)
		if ((v == buf || strchr(" \t\n;|&(`$", v[-1])) && strchr(" \t\n", v[5])) {
			problem(a, path, "%s",
				"calls virsh: a hook that calls back into libvirt deadlocks it "
				"(vfio-bind and vfio-unbind do nodedev-detach's work)");
			break;
		}
}

static void audit_event(struct audit *a, const char *guest, const char *op, const char *subop)
{
	struct vu_names scripts, skipped;

	if (vu_hook_scripts(a->base, guest, op, subop, &scripts, &skipped) < 0)
		return;
	for (size_t i = 0; i < skipped.n; i++) {
		struct stat st;

		if (stat(skipped.v[i], &st) == 0 && S_ISREG(st.st_mode))
			problem(a, skipped.v[i], "%s", "not executable: it never runs (chmod +x)");
	}
	for (size_t i = 0; i < scripts.n; i++)
		audit_script(a, scripts.v[i]);
	vu_names_free(&scripts);
	vu_names_free(&skipped);
}

static void audit_guest(struct audit *a, const char *guest)
{
	struct vu_names ops, subs;
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/qemu.d/%s", a->base, guest);
	if (vu_listdir(path, &ops) < 0)
		return;
	for (size_t i = 0; i < ops.n; i++) {
		snprintf(path, sizeof(path), "%s/qemu.d/%s/%s", a->base, guest, ops.v[i]);
		if (strcmp(ops.v[i], "attach") == 0) {
			problem(a, path, "%s",
				"libvirt stopped sending 'attach' in 5.5: it never runs");
			continue;
		}
		if (!vu_hook_op_known(ops.v[i])) {
			problem(a, path, "%s",
				"libvirt sends no such event (prepare, start, started, stopped, "
				"release, migrate, restore, reconnect): a typo?");
			continue;
		}
		if (vu_listdir(path, &subs) < 0) {
			problem(a, path, "%s", "a file: scripts go in OPERATION/SUB-OPERATION");
			continue;
		}
		for (size_t k = 0; k < subs.n; k++) {
			char sub[PATH_MAX * 2 + 64];

			snprintf(sub, sizeof(sub), "%s/%s", path, subs.v[k]);
			if (!vu_hook_event(ops.v[i], subs.v[k])) {
				const char *expect = "begin";

				for (size_t e = 0; e < vu_hook_nevents; e++)
					if (strcmp(vu_hook_events[e].op, ops.v[i]) == 0)
						expect = vu_hook_events[e].subop;
				problem(a, sub, "libvirt sends this event with '%s': it never runs",
					expect);
				continue;
			}
			audit_event(a, guest, ops.v[i], subs.v[k]);
		}
		vu_names_free(&subs);
	}
	vu_names_free(&ops);
}

/* Whether a script of GUEST's prepare hook binds devices to vfio-pci. */
static bool prepare_binds(const char *base, const char *guest)
{
	struct vu_names scripts;
	bool binds = false;

	if (!vu_hook_name_safe(guest) ||
	    vu_hook_scripts(base, guest, "prepare", "begin", &scripts, NULL) < 0)
		return false;
	for (size_t i = 0; i < scripts.n && !binds; i++) {
		char buf[65536];
		ssize_t n;
		int fd = open(scripts.v[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		binds = strstr(buf, "vfio-bind") || strstr(buf, "nodedev-detach");
	}
	vu_names_free(&scripts);
	return binds;
}

/*
 * A domain passing a PCI device with managed='no' starts only if that device
 * is on vfio-pci already: libvirt refuses otherwise ("must be manually
 * detached"). Something has to bind it: its prepare hook.
 */
static void unmanaged_unbound(struct audit *a, const struct vu_virt_domain *d)
{
	char path[PATH_MAX * 2], dev[VU_NAME_MAX];
	struct vu_domxml x;
	int unmanaged = -1;

	if (!d->xml || vu_domxml_parse(d->xml, strlen(d->xml), d->name, &x) < 0)
		return;
	for (size_t i = 0; i < x.npci && unmanaged < 0; i++)
		if (!x.managed[i])
			unmanaged = (int)i;
	if (unmanaged >= 0 && !prepare_binds(a->base, d->name)) {
		vu_addr_name(&x.pci[unmanaged], dev);
		snprintf(path, sizeof(path), "%s/qemu.d/%s", a->base, d->name);
		problem(
		    a, path,
		    "passes %s unmanaged (managed='no') and no prepare script binds it: libvirt "
		    "refuses to start it ('vfio-bind --domain-xml -' in prepare/begin does)",
		    dev);
	}
	vu_domxml_free(&x);
}

/*
 * Who runs the scripts: the qemu hook, or libvirt itself through hook-run's
 * link in qemu.d (libvirt 6.5 and later run each executable file there).
 */
static void audit_hook(struct audit *a, const struct vu_names *guests)
{
	char qemu[PATH_MAX + 16], link[PATH_MAX * 2];
	bool linked = false;

	for (size_t i = 0; i < guests->n && !linked; i++) {
		snprintf(link, sizeof(link), "%s/qemu.d/%s", a->base, guests->v[i]);
		linked = is_self(link);
	}
	snprintf(qemu, sizeof(qemu), "%s/qemu", a->base);
	if (!vu_exists(qemu) && !linked)
		problem(a, qemu, "%s",
			"missing: no hook runs anything (hook-run install, or the link "
			"qemu.d/vfio-utils -> hook-run that the package installs)");
	else if (vu_exists(qemu) && !is_self(qemu) && linked && foreign_dispatcher(qemu))
		note(a, "%s",
		     "qemu: a dispatcher of its own runs qemu.d's scripts, and hook-run in qemu.d "
		     "leaves them to it (hook-run install puts hook-run in its place)");
	else if (vu_exists(qemu) && !is_self(qemu) && !linked)
		note(
		    a, "%s",
		    "qemu: not hook-run (the guides' dispatcher? hook-run install keeps it aside)");
}

static int check(const char *uri)
{
	struct audit a = { .problems = 0 };
	char path[PATH_MAX + 16], why[512];
	struct vu_virt_domains domains = { 0 };
	struct vu_names guests;
	bool asked, qemu_d;

	vu_path(a.base, sizeof(a.base), "/etc/libvirt/hooks");
	snprintf(path, sizeof(path), "%s/qemu.d", a.base);
	qemu_d = vu_listdir(path, &guests) == 0;
	audit_hook(&a, &guests);
	asked = vu_virt_list(uri, &domains, why, sizeof(why)) == 0;
	if (!qemu_d)
		note(&a, "%s", "qemu.d: none: no scripts to run");
	else if (!asked)
		note(&a, "cannot ask libvirt (%s): domain names not checked", why);
	for (size_t i = 0; i < guests.n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/qemu.d/%s", a.base, guests.v[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (!is_self(path))
				note(&a,
				     "qemu.d/%s: libvirt 6.5 and later runs files directly in "
				     "qemu.d "
				     "itself, for every event of every domain",
				     guests.v[i]);
			continue;
		}
		if (asked && !vu_virt_find(&domains, guests.v[i]))
			problem(&a, path,
				"no such domain at %s (a typo? the name is case-sensitive)",
				uri ? uri : "libvirt");
		audit_guest(&a, guests.v[i]);
	}
	for (size_t k = 0; k < domains.n; k++)
		unmanaged_unbound(&a, &domains.v[k]);
	vu_names_free(&guests);
	vu_virt_free(&domains);
	if (a.problems)
		printf("%d problem%s", a.problems, a.problems == 1 ? "" : "s");
	else
		printf("no problems");
	if (a.notes)
		printf(", %d note%s", a.notes, a.notes == 1 ? "" : "s");
	putchar('\n');
	return a.problems ? VU_EXIT_FAIL : VU_EXIT_OK;
}

/* list */

/*
 * What libvirt says of GUEST: its PCI host devices into X (none when it
 * cannot be asked), and whether it is defined at all: 1 yes, 0 no, -1 not known
 * (said, with UNKNOWN: what that means). X may be NULL.
 */
static int ask_domain(const char *uri, const char *guest, struct vu_domxml *x, const char *unknown)
{
	struct vu_virt_domains doms;
	const struct vu_virt_domain *d;
	char why[512];
	int known;

	if (x)
		memset(x, 0, sizeof(*x));
	if (vu_virt_list(uri, &doms, why, sizeof(why)) < 0) {
		vu_report("cannot ask libvirt (%s): %s", why, unknown);
		return -1;
	}
	d = vu_virt_find(&doms, guest);
	known = d != NULL;
	if (x && d && d->xml && vu_domxml_parse(d->xml, strlen(d->xml), guest, x) < 0)
		if (x)
			memset(x, 0, sizeof(*x));
	vu_virt_free(&doms);
	return known;
}

/* The scripts of ONLY (NULL: every guest), per event; URI: the libvirt that knows ONLY. */
static int list(const char *only, const char *uri)
{
	char base[PATH_MAX], path[PATH_MAX + 16];
	struct vu_names guests;
	int shown = 0;

	vu_path(base, sizeof(base), "/etc/libvirt/hooks");
	snprintf(path, sizeof(path), "%s/qemu.d", base);
	if (only && !vu_hook_name_safe(only))
		vu_usage_error("%s: not a name a hook directory can have", only);
	if (vu_listdir(path, &guests) < 0)
		guests.n = 0;
	for (size_t i = 0; i < guests.n; i++) {
		if (only && strcmp(only, guests.v[i]) != 0)
			continue;
		for (size_t e = 0; e < vu_hook_nevents; e++) {
			const struct vu_hook_event *ev = &vu_hook_events[e];
			struct vu_names scripts;

			if (vu_hook_scripts(base, guests.v[i], ev->op, ev->subop, &scripts, NULL) <
			    0)
				continue;
			for (size_t k = 0; k < scripts.n; k++, shown++) {
				char esc[2][PATH_MAX * 4];

				printf("%s\t%s %s\t%s\n",
				       vu_esc(guests.v[i], esc[0], sizeof(esc[0])), ev->op,
				       ev->subop,
				       vu_esc(scripts.v[k] + strlen(base) + 1, esc[1],
					      sizeof(esc[1])));
			}
			vu_names_free(&scripts);
		}
	}
	vu_names_free(&guests);
	/* A misspelt name lists nothing, or scripts no event runs: libvirt says which exist. */
	if (only && uri && ask_domain(uri, only, NULL, "the name is not checked") == 0) {
		if (!shown) {
			vu_err("%s: no such domain at %s, and no scripts (a typo? the name is "
			       "case-sensitive)",
			       only, uri);
			return VU_EXIT_FAIL;
		}
		vu_warn("%s: no such domain at %s: no event runs these (a typo? the name is "
			"case-sensitive)",
			only, uri);
	}
	if (!shown)
		vu_report("%s%s: nothing would run", only ? "qemu.d/" : "qemu.d", only ? only : "");
	return VU_EXIT_OK;
}

/* new */

static const struct vu_dev *pick_gpu(const struct vu_devs *devs, const char *arg)
{
	const struct vu_dev *pick = NULL;
	struct vu_dev **named;
	size_t n, ngpu = 0, nother = 0;
	char path[PATH_MAX];

	if (arg) {
		char *args[] = { (char *)arg };

		if (vu_devs_resolve(devs, args, 1, false, &named, &n) != VU_EXIT_OK)
			return NULL;
		pick = named[0];
		free(named);
		return pick;
	}
	/* The only GPU; else the one the firmware did not boot on (the host keeps that). */
	for (size_t i = 0; i < devs->n; i++) {
		unsigned long boot = 0;

		if (!vu_dev_is_display(&devs->v[i]))
			continue;
		ngpu++;
		if (vu_path(path, sizeof(path), "/sys/bus/pci/devices/%s/boot_vga",
			    devs->v[i].name) == 0)
			vu_read_ulong(path, &boot);
		if (!boot && nother++ == 0)
			pick = &devs->v[i];
	}
	if (ngpu == 1)
		for (size_t i = 0; i < devs->n && !pick; i++)
			if (vu_dev_is_display(&devs->v[i]))
				pick = &devs->v[i];
	if (ngpu == 0)
		vu_err("no GPU (display controller) on this machine: name the device with --gpu");
	else if (nother > 1)
		vu_err("%zu GPUs the host does not boot on: name one with --gpu", nother);
	return ngpu && nother <= 1 ? pick : NULL;
}

/* One scaffolded script, written or, under dry run, shown as the shell that writes it. */
static int write_script(const char *path, const char *text, bool force)
{
	char dir[PATH_MAX], qdir[PATH_MAX * 4 + 8], qpath[PATH_MAX * 4 + 8];
	int fd, err = 0;
	FILE *f;

	if (!force && vu_exists(path)) {
		vu_err("%s: exists already: edit it, or --force replaces it", vu_unrooted(path));
		return -EEXIST;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	if (vu_dry_run) {
		vu_shell_word(qdir, sizeof(qdir), dir);
		vu_shell_word(qpath, sizeof(qpath), path);
		printf("mkdir -p %s\ncat > %s <<'EOF'\n%sEOF\nchmod 0755 %s\n", qdir, qpath, text,
		       qpath);
		return 0;
	}
	if ((err = mkdir_p(dir)) < 0) {
		vu_errc(err, "%s: cannot create", vu_unrooted(dir));
		return err;
	}
	/* A link in the script's place is not followed: it could point anywhere. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0755);
	if (fd < 0 || fchmod(fd, 0755) < 0 || !(f = fdopen(fd, "w"))) {
		err = errno == ELOOP ? -ELOOP : -errno;
		if (fd >= 0)
			close(fd);
	} else {
		bool short_write = fputs(text, f) < 0;

		/* Closed whatever happened: fclose reports a write it had to buffer. */
		if (fclose(f) != 0 || short_write)
			err = errno ? -errno : -EIO;
	}
	if (err) {
		vu_errc(err, "%s: cannot write%s", vu_unrooted(path),
			err == -ELOOP ? " (a symbolic link)" : "");
		return err;
	}
	vu_report("wrote %s", vu_unrooted(path));
	return 0;
}

/* What the domain passes, as libvirt has it: how the start script takes its devices. */
enum hostdevs { HOSTDEVS_UNKNOWN, HOSTDEVS_MANAGED, HOSTDEVS_UNMANAGED };

/*
 * The start and release scripts. They name the commands, which hook-run
 * finds beside itself (first on their PATH): a move between a source build
 * and a package leaves them working.
 */
static int scripts(const char *guest, const struct vu_dev *gpu, bool screen, enum hostdevs hd,
		   char **start, char **release)
{
	char root[PATH_MAX * 4 + 8];
	const char *skip = screen ? "" : "# ";
	size_t len;
	FILE *f;

	/* The sysroot goes into shell scripts: as a word the shell reads back unchanged. */
	if (vu_shell_word(root, sizeof(root), vu_sysroot()) < 0) {
		vu_err("%s: path too long for a script", vu_sysroot());
		return -ENAMETOOLONG;
	}

	f = open_memstream(start, &len);
	fprintf(f,
		"#!/bin/sh\n# %s: before the VM starts. Written by hook-run new; yours to edit.\n"
		"# hook-run puts the directory of the commands first on PATH.\n",
		guest);
	fprintf(f, "# GPU %s [%04x:%04x], IOMMU group %d%s.\nset -e\n", gpu->name, gpu->vendor,
		gpu->device, gpu->group,
		screen ? ", the host's screen: hand the display over first"
		       : "; the host keeps its screen on another GPU");
	if (hd == HOSTDEVS_MANAGED)
		fputs("# The domain passes its PCI devices managed: libvirt would detach them "
		      "itself\n"
		      "# after this script; vfio-bind takes them first, their whole IOMMU groups,\n"
		      "# refusing what would hang or harm the host, and remembers what they had.\n",
		      f);
	else if (hd == HOSTDEVS_UNMANAGED)
		fputs("# The domain passes some PCI devices unmanaged (managed='no'): libvirt "
		      "starts\n"
		      "# it only once this script has bound them.\n",
		      f);
	if (*vu_sysroot())
		fprintf(f, "export VFIO_UTILS_SYSROOT=%s\n", root);
	fprintf(f, "%sdm-ctl stop\n%svtcon unbind\n%sefifb unbind\n", skip, skip, skip);
	/* The domain's own devices, from the XML libvirt gives the hook: no address to go stale. */
	if (hd != HOSTDEVS_UNKNOWN)
		fputs("vfio-bind --group --domain-xml -\n", f);
	else
		fprintf(f, "vfio-bind --group %s\n", gpu->name);
	fclose(f);

	f = open_memstream(release, &len);
	fprintf(
	    f,
	    "#!/bin/sh\n# %s: after the VM is gone. Written by hook-run new; yours to edit.\n"
	    "# Every line runs, whatever failed before it: this also undoes a half-done start.\n",
	    guest);
	if (*vu_sysroot())
		fprintf(f, "export VFIO_UTILS_SYSROOT=%s\n", root);
	fprintf(f, "vfio-unbind --restore\n%sefifb bind\n%svtcon bind\n%sdm-ctl start\n", skip,
		skip, skip);
	fclose(f);
	return 0;
}

/* The GPU among the domain's devices: the first display controller, else the first device. */
static const struct vu_dev *domain_gpu(const struct vu_devs *devs, const struct vu_domxml *x)
{
	const struct vu_dev *first = NULL;

	for (size_t i = 0; i < x->npci; i++) {
		char name[VU_NAME_MAX];
		const struct vu_dev *d;

		vu_addr_name(&x->pci[i], name);
		if (!(d = vu_devs_find(devs, name)))
			continue;
		if (vu_dev_is_display(d))
			return d;
		first = first ? first : d;
	}
	return first;
}

static int scaffold(const char *guest, const char *gpu_arg, bool force, const char *uri)
{
	char base[PATH_MAX], path[PATH_MAX * 2], *start = NULL, *release = NULL;
	enum hostdevs hd = HOSTDEVS_UNKNOWN;
	const struct vu_dev *gpu = NULL;
	unsigned long boot = 0;
	struct vu_domxml x;
	struct vu_devs devs;
	int err, known = -1;

	if (!vu_hook_name_safe(guest))
		vu_usage_error("%s: not a name a hook directory can have (no '/', not . or ..)",
			       guest);
	/* A misspelt name writes scripts no event ever runs: libvirt says which exist. */
	memset(&x, 0, sizeof(x));
	if (uri &&
	    (known = ask_domain(uri, guest, &x, "the scripts name this machine's GPU")) == 0 &&
	    !force) {
		vu_err("%s: no such domain at %s (a typo? the name is case-sensitive; --force "
		       "writes the scripts anyway)",
		       guest, uri);
		return VU_EXIT_FAIL;
	}
	if (vu_devs_scan(&devs) < 0) {
		vu_domxml_free(&x);
		return VU_EXIT_FAIL;
	}
	if (x.npci) {
		hd = HOSTDEVS_MANAGED;
		for (size_t i = 0; i < x.npci; i++)
			if (!x.managed[i])
				hd = HOSTDEVS_UNMANAGED;
		gpu = gpu_arg ? NULL : domain_gpu(&devs, &x);
	} else if (known == 1) {
		vu_report("%s passes no PCI device yet: add the GPU's functions as host devices "
			  "(iommu-groups --virsh names them)",
			  guest);
	}
	vu_domxml_free(&x);
	if (!gpu && !(gpu = pick_gpu(&devs, gpu_arg))) {
		vu_devs_free(&devs);
		return VU_EXIT_FAIL;
	}
	if (gpu->group < 0) {
		vu_err("%s: in no IOMMU group: the IOMMU is off (see 'iommu-groups --status')",
		       gpu->name);
		vu_devs_free(&devs);
		return VU_EXIT_FAIL;
	}
	if (vu_path(path, sizeof(path), "/sys/bus/pci/devices/%s/boot_vga", gpu->name) == 0)
		vu_read_ulong(path, &boot);
	/* The GPU with the host's screen: the display has to be handed over first. */
	err = scripts(guest, gpu, boot == 1, hd, &start, &release);
	vu_devs_free(&devs);
	if (err)
		return VU_EXIT_FAIL;
	vu_path(base, sizeof(base), "/etc/libvirt/hooks");
	snprintf(path, sizeof(path), "%s/qemu.d/%s/prepare/begin/50-vfio-utils", base, guest);
	err = write_script(path, start, force);
	snprintf(path, sizeof(path), "%s/qemu.d/%s/release/end/50-vfio-utils", base, guest);
	if (!err)
		err = write_script(path, release, force);
	free(start);
	free(release);
	if (err)
		return VU_EXIT_FAIL;
	vu_report("check them with: hook-run check");
	return VU_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "gpu", required_argument, NULL, OPT_GPU },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "dry-run", no_argument, NULL, 'n' },
		VU_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *uri = "qemu:///system", *gpu = NULL, *what, *libvirt;
	bool force = false, uri_given = false;
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
		case 'n':
			vu_dry_run = true;
			break;
		case 'h':
			usage();
		default:
			vu_errtryhelp();
		}
	}
	if (optind == argc)
		vu_usage_error(
		    "no command: install, check, list or new (or libvirt's four arguments)");
	what = argv[optind++];
	vu_common_done();
	/* Below a sysroot the host's libvirt knows another machine: asked only when named. */
	libvirt = *vu_sysroot() && !uri_given ? NULL : uri;
	if (strcmp(what, "install") == 0 && optind == argc)
		return install(force);
	if (strcmp(what, "check") == 0 && optind == argc)
		return check(uri);
	if (strcmp(what, "list") == 0 && argc - optind <= 1)
		return list(optind < argc ? argv[optind] : NULL, libvirt);
	if (strcmp(what, "new") == 0 && argc - optind == 1)
		return scaffold(argv[optind], gpu, force, libvirt);
	if (strcmp(what, "install") != 0 && strcmp(what, "check") != 0 &&
	    strcmp(what, "list") != 0 && strcmp(what, "new") != 0)
		vu_usage_error("%s: not a command (install, check, list, new), and not libvirt's "
			       "four arguments",
			       what);
	vu_usage_error("%s: wrong arguments (see --help)", what);
}
