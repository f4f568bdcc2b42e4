/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Running another program (systemctl, rc-service, sv) and reading what it says. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "run.h"
#include "sysfs.h"
#include "util.h"

extern char **environ;

/* How long a process killed at the deadline gets to end. */
#define KILL_GRACE_MS 1000

/* Whether the program at PATH says, in its first lines, that it is a test's stand-in. */
static bool stands_in(const char *path)
{
	char head[1024];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return false;
	n = read(fd, head, sizeof(head) - 1);
	close(fd);
	if (n <= 0)
		return false;
	head[n] = '\0';
	return memmem(head, (size_t)n, VU_STANDIN, sizeof(VU_STANDIN) - 1) != NULL;
}

int vu_tool(const char *name, char *path, size_t size)
{
	const char *p = getenv("PATH");
	bool below = *vu_sysroot() != '\0';
	char found[PATH_MAX];

	if (strchr(name, '/'))
		return -EINVAL;
	for (p = p && *p ? p : "/usr/bin:/bin"; *p;) {
		size_t len = strcspn(p, ":");

		snprintf(found, sizeof(found), "%.*s/%s", (int)len, p, name);
		p += len + (p[len] == ':');
		if (access(found, X_OK) != 0)
			continue;
		if (below && !stands_in(found)) {
			vu_err(
			    "%s: not run: the host's own (%s) would act on this machine, not on %s",
			    name, found, vu_sysroot());
			return -EPERM;
		}
		snprintf(path, size, "%s", found);
		return 0;
	}
	vu_err("%s: not found on PATH", name);
	return -ENOENT;
}

/* Read the child's output into OUT until it closes it or DEADLINE passes: whether it did. */
static bool slurp(int fd, char *out, size_t size, size_t *len, double deadline)
{
	for (;;) {
		char discard[256];
		char *dst = out && *len + 1 < size ? out + *len : discard;
		size_t room = out && *len + 1 < size ? size - *len - 1 : sizeof(discard);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)((deadline - vu_now()) * 1000);
		ssize_t n;

		if (left <= 0)
			return false;
		if (poll(&p, 1, left) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		if (!p.revents)
			continue;
		n = read(fd, dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return true;
		if (dst != discard)
			*len += (size_t)n;
	}
}

int vu_run(char *const argv[], char *out, size_t size, int timeout_ms)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int pipefd[2] = { -1, -1 }, status = 0, err;
	double deadline = vu_now() + timeout_ms / 1000.0;
	char path[PATH_MAX];
	size_t len = 0;
	bool ended;
	pid_t pid;

	if (out && size)
		out[0] = '\0';
	if ((err = vu_tool(argv[0], path, sizeof(path))) < 0)
		return err;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out)
		posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	/* A group of its own: at the deadline, what it started goes with it. */
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	err = posix_spawn(&pid, path, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pipefd[1]);
	if (err) {
		close(pipefd[0]);
		vu_errc(-err, "%s: cannot run", path);
		return -err;
	}
	ended = slurp(pipefd[0], out, size, &len, deadline);
	close(pipefd[0]);
	if (out) {
		while (len && out[len - 1] == '\n')
			len--;
		out[len] = '\0';
	}
	if (ended) {
		int left = (int)((deadline - vu_now()) * 1000);

		status = vu_wait_timeout(pid, left > 0 ? left : 0);
		ended = status >= 0;
	}
	if (!ended) {
		kill(-pid, SIGKILL);
		/* Asleep in the kernel, it is left behind: the caller is not held with it. */
		vu_wait_timeout(pid, KILL_GRACE_MS);
		vu_err("%s: killed after %d s without an answer", argv[0],
		       (timeout_ms + 999) / 1000);
		return 124;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool vu_systemd_booted(void)
{
	return vu_existsf("/run/systemd/system");
}

void vu_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", fd ? O_WRONLY : O_RDONLY) < 0)
			break;
}

int vu_wait_timeout(pid_t pid, int timeout_ms)
{
	int pidfd = vu_pidfd_open(pid), status;
	struct timespec tick = { 0, 1000L * 1000 };

	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };
		int r;

		while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
			;
		close(pidfd);
		if (r == 0)
			return -1;
		return waitpid(pid, &status, 0) == pid ? status : -1;
	}
	/* Kernels before 5.3 have no pidfd: poll the child. */
	for (int waited = 0; waited <= timeout_ms; waited++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		nanosleep(&tick, NULL);
	}
	return -1;
}

pid_t vu_fork_detached(int *pipe_r, int *pipe_w)
{
	int fds[2] = { -1, -1 }, null;
	pid_t pid;

	if (pipe_r && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		return -errno;
	fflush(NULL);
	if ((pid = fork()) < 0) {
		int err = -errno;

		if (pipe_r) {
			close(fds[0]);
			close(fds[1]);
		}
		return err;
	}
	if (pid > 0) {
		if (pipe_r) {
			close(fds[1]);
			*pipe_r = fds[0];
		}
		return pid;
	}
	if ((null = open("/dev/null", O_RDWR)) >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	if (!pipe_r) {
		close_range(3, ~0U, 0);
		return 0;
	}
	if (fds[1] > 3)
		close_range(3, (unsigned)fds[1] - 1, 0);
	close_range((unsigned)fds[1] + 1, ~0U, 0);
	*pipe_w = fds[1];
	return 0;
}
int vu_pidfd_open(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : fd;
}

int vu_proc_wait_gone(pid_t pid, const char *comm, int timeout_ms)
{
	char name[64];
	int pidfd, r;

	/* Gone, or its PID is another program's now. */
	if (pid <= 0 || vu_readf(name, sizeof(name), "/proc/%d/comm", (int)pid) < 0 ||
	    strcmp(name, comm) != 0)
		return 0;
	if ((pidfd = vu_pidfd_open(pid)) < 0)
		return pidfd == -ESRCH ? 0 : pidfd;
	/* Readable once it has ended, reaped or not. */
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	close(pidfd);
	return r == 0 ? -ETIMEDOUT : 0;
}

int vu_wait_read(pid_t pid, int fd, int timeout_ms, char *buf, size_t size, size_t *len)
{
	int status = vu_wait_timeout(pid, timeout_ms);
	size_t got = 0;
	ssize_t n;

	if (status < 0)
		kill(pid, SIGKILL);
	if (fd >= 0) {
		while (status >= 0 && got + 1 < size &&
		       (n = read(fd, buf + got, size - 1 - got)) > 0)
			got += (size_t)n;
		if (size)
			buf[got] = '\0';
		close(fd);
	}
	if (len)
		*len = got;
	return status < 0 ? -ETIMEDOUT : status;
}

/* What a child wrote, passed on to our standard error. */
static void relay(int from)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(from, buf, sizeof(buf))) > 0)
		if (write(2, buf, (size_t)n) < 0)
			break;
}

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

int vu_run_script(int fd, char *const argv[], const char *input, size_t len, int timeout_ms,
		  const char **why)
{
	int in[2], out[2], status, pidfd;
	double deadline = vu_now() + timeout_ms / 1000.0;
	size_t written = 0;
	bool out_open = true, stuck = false;
	pid_t pid;

	*why = NULL;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		return 126;
	pid = fork();
	if (pid < 0)
		return 126;
	if (pid == 0) {
		setpgid(0, 0);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		signal(SIGPIPE, SIG_DFL);
		/* A "#!" script is read by its interpreter through /dev/fd/N: kept open. */
		fcntl(fd, F_SETFD, 0);
		fexecve(fd, argv, environ);
		dprintf(2, "%s: %s: cannot run: %s%s\n", program_invocation_short_name, argv[0],
			strerror(errno), errno == ENOEXEC ? " (no #! line?)" : "");
		_exit(126);
	}
	setpgid(pid, pid);
	close(in[0]);
	close(out[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	pidfd = vu_pidfd_open(pid);
	for (;;) {
		struct pollfd p[3] = { { .fd = out_open ? out[0] : -1, .events = POLLIN },
				       { .fd = pidfd, .events = POLLIN },
				       { .fd = written < len ? in[1] : -1, .events = POLLOUT } };
		int left = (int)((deadline - vu_now()) * 1000);

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
				*why =
				    "killed at the deadline (HOOK_RUN_TIMEOUT), but it does not end: stuck in the kernel (an unbind?), left behind";
				stuck = true;
			}
			break;
		}
		/* Without pidfd (Linux < 5.3) poll briefly and ask waitpid. */
		if (poll(p, 3, pidfd < 0 && left > 10 ? 10 : left) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			relay(out[0]);
		if (p[2].revents & (POLLOUT | POLLERR)) {
			ssize_t n = write(in[1], input + written, len - written);

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
	if (stuck)
		return 124; /* not waited for: it may never end */
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
