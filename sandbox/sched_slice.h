/* The scheduler's time slice of the calling thread (sched_slice.c). */
#ifndef FBX_SCHED_SLICE_H
#define FBX_SCHED_SLICE_H

#include <stdint.h>

/* The zygote's: its work per event (a hand-over, a reap) takes tens of
 * microseconds. */
#define FBX_ZYGOTE_SLICE_NS 100000u

/* Sets the EEVDF slice (Linux 6.12 and later; 0: the kernel's default).
 * Only ever an optimisation: older kernels ignore the value, and a failure
 * leaves the default. 0 or -errno. */
int fbx_sched_slice_set(uint64_t slice_ns);

#endif
