/* The zygote asks for a short scheduler slice, its children for the
 * default one.
 *
 * Right after a hand-over the zygote forks the next spare, whose set-up
 * (~300 us: its share of the fork, seccomp, the module copied ahead) then
 * runs while the job does. When the job's child exits, the zygote must run
 * at once to reap it and answer; with the default slice it waited behind
 * the spare's set-up on its CPU (measured: 150-290 us from the child's
 * exit to the zygote seeing SIGCHLD, most of the time the other CPU was
 * idle). Since Linux 6.12 a task with a shorter slice preempts on wake-up
 * (EEVDF's custom slices, PREEMPT_SHORT): the wait goes. A slice is not a
 * share: the zygote gets no more CPU than before, only sooner. Children
 * go back to the default, so that a module is scheduled like any other
 * process. */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sched_slice.h"

/* linux/sched/types.h's, which glibc 2.36 does not wrap. */
struct sched_attr_v1 {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime; /* SCHED_OTHER: the slice, 0 the default */
	uint64_t sched_deadline;
	uint64_t sched_period;
	uint32_t sched_util_min;
	uint32_t sched_util_max;
};

int fbx_sched_slice_set(uint64_t slice_ns)
{
	struct sched_attr_v1 attr;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.sched_policy = 0; /* SCHED_OTHER, as both already are */
	attr.sched_runtime = slice_ns;
	/* The nice value is part of the call: keep the current one. */
	errno = 0;
	int nice_now = getpriority(PRIO_PROCESS, 0);
	if (nice_now == -1 && errno)
		return -errno;
	attr.sched_nice = nice_now;
	return syscall(SYS_sched_setattr, 0, &attr, 0) < 0 ? -errno : 0;
}
