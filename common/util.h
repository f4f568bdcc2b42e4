/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small things every part needs: array length, a monotonic clock. */
#ifndef VU_UTIL_H
#define VU_UTIL_H

#include <time.h>

#define VU_ARRAY_SIZE(a) (sizeof(a) / sizeof(*(a)))

/* Seconds on the monotonic clock: for deadlines and durations, never the date. */
static inline double vu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

#endif
