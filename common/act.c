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

static void show_write(const char *path, const char *val)
{
	char v[512], p[PATH_MAX * 2];

	vu_shell_word(p, sizeof(p), path);
	if (*val)
		vu_shell_word(v, sizeof(v), val);
	if (vu_dry_run)
		printf("echo %s%s> %s\n", *val ? v : "", *val ? " " : "", p);
	else
		vu_verbose("echo %s%s> %s", *val ? v : "", *val ? " " : "", p);
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
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Hold none of the caller's output: a blocked child must not keep libvirt waiting.
		 */
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		close_range(3, ~0U, 0);
		_exit(-vu_write(path, *val ? val : "\n"));
	}
	status = vu_wait_timeout(pid, timeout_ms);
	if (status < 0) {
		kill(pid, SIGKILL);
		return -ETIMEDOUT;
	}
	if (!WIFEXITED(status))
		return -EINTR;
	return -WEXITSTATUS(status);
}

int vu_read_timeout(const char *path, char *buf, size_t size, int timeout_ms)
{
	int fds[2], status, err;
	ssize_t n;
	size_t len = 0;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	if ((pid = fork()) < 0) {
		err = -errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		char b[4096];

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		if (fds[1] > 3)
			close_range(3, (unsigned)fds[1] - 1, 0);
		close_range((unsigned)fds[1] + 1, ~0U, 0);
		n = vu_read(path, b, sizeof(b));
		if (n >= 0 && write(fds[1], b, (size_t)n) != n)
			_exit(EIO);
		_exit(n < 0 ? (int)-n : 0);
	}
	close(fds[1]);
	status = vu_wait_timeout(pid, timeout_ms);
	if (status < 0) {
		kill(pid, SIGKILL);
		close(fds[0]);
		return -ETIMEDOUT;
	}
	while (len + 1 < size && (n = read(fds[0], buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	close(fds[0]);
	buf[len] = '\0';
	if (!WIFEXITED(status))
		return -EINTR;
	return WEXITSTATUS(status) ? -WEXITSTATUS(status) : (int)len;
}

void vu_act_command(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (vu_dry_run)
		printf("%s\n", line);
	else
		vu_verbose("%s", line);
}

const char *vu_act_modprobe(void)
{
	static char cmd[PATH_MAX * 2 + 64];
	char root[PATH_MAX * 2], release[256], path[PATH_MAX];
	struct utsname u;

	if (!*vu_sysroot())
		return "modprobe";
	vu_shell_word(root, sizeof(root), vu_sysroot());
	snprintf(cmd, sizeof(cmd), "modprobe -d %s", root);
	/* modprobe takes the running kernel's version unless told the sysroot's. */
	if (vu_path(path, sizeof(path), "/proc/sys/kernel/osrelease") == 0 &&
	    vu_read(path, release, sizeof(release)) > 0 && uname(&u) == 0 &&
	    strcmp(u.release, release) != 0) {
		size_t len = strlen(cmd);

		snprintf(cmd + len, sizeof(cmd) - len, " -S %s", release);
	}
	return cmd;
}
