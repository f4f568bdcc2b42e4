/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Carrying out changes: -n prints each as the shell command that would do it, -v logs it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "act.h"
#include "run.h"
#include "sysfs.h"

bool vu_dry_run;

int vu_shell_word(char *buf, size_t size, const char *s)
{
	size_t len = 0;

	if (*s &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:/@+=,-") ==
		strlen(s))
		return (size_t)snprintf(buf, size, "%s", s) < size ? 0 : -ENAMETOOLONG;
	if (size < 3)
		return -ENAMETOOLONG;
	buf[len++] = '\'';
	for (; *s; s++) {
		/* Room for this character, as '\'' at most, and the closing quote. */
		if (len + 4 + 2 > size) {
			buf[0] = '\0';
			return -ENAMETOOLONG;
		}
		if (*s == '\'') {
			memcpy(buf + len, "'\\''", 4);
			len += 4;
		} else {
			buf[len++] = *s;
		}
	}
	buf[len++] = '\'';
	buf[len] = '\0';
	return 0;
}

void (*vu_act_plan_hook)(const char *line);

/* A dry run's line: on stdout, or into the JSON document's plan. */
static void plan(const char *line)
{
	if (vu_act_plan_hook)
		vu_act_plan_hook(line);
	else
		printf("%s\n", line);
}

static void show_write(const char *path, const char *val)
{
	char v[512], p[PATH_MAX * 2];

	vu_shell_word(p, sizeof(p), path);
	if (*val)
		vu_shell_word(v, sizeof(v), val);
	vu_act_command("echo %s%s> %s", *val ? v : "", *val ? " " : "", p);
}

int vu_act_write(const char *path, const char *val)
{
	show_write(path, val);
	if (vu_dry_run)
		return 0;
	return vu_write(path, *val ? val : "\n");
}

int vu_act_write_timeout(const char *path, const char *val, int timeout_ms)
{
	int status;
	pid_t pid;

	show_write(path, val);
	if (vu_dry_run)
		return 0;
	if ((pid = vu_fork_detached(NULL, NULL)) < 0)
		return pid;
	if (pid == 0)
		_exit(-vu_write(path, *val ? val : "\n"));
	if ((status = vu_wait_read(pid, -1, timeout_ms, NULL, 0, NULL)) < 0)
		return status;
	if (!WIFEXITED(status))
		return -EINTR;
	return -WEXITSTATUS(status);
}

int vu_read_timeout(const char *path, char *buf, size_t size, int timeout_ms)
{
	int r = -1, w = -1, status;
	size_t len = 0;
	pid_t pid;

	if ((pid = vu_fork_detached(&r, &w)) < 0)
		return pid;
	if (pid == 0) {
		char b[4096];
		ssize_t n = vu_read(path, b, sizeof(b));

		if (n >= 0 && write(w, b, (size_t)n) != n)
			_exit(EIO);
		_exit(n < 0 ? (int)-n : 0);
	}
	if ((status = vu_wait_read(pid, r, timeout_ms, buf, size, &len)) < 0)
		return status;
	if (!WIFEXITED(status))
		return -EINTR;
	return WEXITSTATUS(status) ? -WEXITSTATUS(status) : (int)len;
}

void vu_act_command(const char *fmt, ...)
{
	char line[PATH_MAX * 3];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (vu_dry_run)
		plan(line);
	else
		vu_verbose("%s", line);
}

const char *vu_act_modprobe(void)
{
	static char cmd[PATH_MAX * 2 + 64];
	char root[PATH_MAX * 2], release[256];
	struct utsname u;

	if (!*vu_sysroot())
		return "modprobe";
	vu_shell_word(root, sizeof(root), vu_sysroot());
	snprintf(cmd, sizeof(cmd), "modprobe -d %s", root);
	/* modprobe takes the running kernel's version unless told the sysroot's. */
	if (vu_readf(release, sizeof(release), "/proc/sys/kernel/osrelease") > 0 &&
	    uname(&u) == 0 && strcmp(u.release, release) != 0) {
		size_t len = strlen(cmd);

		snprintf(cmd + len, sizeof(cmd) - len, " -S %s", release);
	}
	return cmd;
}
