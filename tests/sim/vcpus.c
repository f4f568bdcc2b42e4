/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vcpus N [ACCEL [PIDFILE]]: a process with N threads named as QEMU names its
 * vCPU threads ("CPU 0/KVM"), asleep until killed: what vm-prio finds in a
 * domain's QEMU, for the simulator's tests. Prints its PID once they exist.
 * With PIDFILE it writes its PID there and holds the file's lock while it
 * runs, as QEMU's -pidfile does (and libvirt for the QEMU it starts).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *vcpu(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2;
	const char *accel = argc > 2 ? argv[2] : "KVM";

	for (int i = 0; i < n; i++) {
		pthread_t t;
		char name[16];

		if (pthread_create(&t, NULL, vcpu, NULL) != 0)
			return 1;
		snprintf(name, sizeof(name), "CPU %d/%s", i, accel);
		pthread_setname_np(t, name);
	}
	if (argc > 3) {
		int fd = open(argv[3], O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0 || lockf(fd, F_TLOCK, 0) < 0 || ftruncate(fd, 0) < 0 ||
		    dprintf(fd, "%d\n", (int)getpid()) < 0) {
			perror(argv[3]);
			return 1;
		}
	}
	printf("%d\n", (int)getpid());
	fflush(stdout);
	for (;;)
		pause();
}
