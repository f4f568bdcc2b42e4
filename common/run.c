/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Running another program (systemctl, rc-service, sv) and reading what it says. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

extern char **environ;

int vu_run(char *const argv[], char *out, size_t size)
{
	posix_spawn_file_actions_t fa;
	int pipefd[2] = { -1, -1 }, status, err;
	size_t len = 0;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out)
		posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (err) {
		close(pipefd[0]);
		return -err;
	}
	for (;;) {
		char discard[256];
		char *dst = out && len + 1 < size ? out + len : discard;
		size_t room = out && len + 1 < size ? size - len - 1 : sizeof(discard);
		ssize_t n = read(pipefd[0], dst, room);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (dst != discard)
			len += (size_t)n;
	}
	close(pipefd[0]);
	if (out) {
		while (len && out[len - 1] == '\n')
			len--;
		out[len] = '\0';
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
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
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), status;
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
