/* Killing an invocation's whole process tree.
 *
 * With a PID namespace per invocation the kernel does it: the child is the
 * namespace's init, and its death kills everything inside. Without one the
 * zygote is a child subreaper (PR_SET_CHILD_SUBREAPER): whatever the module
 * forked, double-forked or setsid()'d is re-parented to the zygote when its
 * parent dies. Every direct child of the zygote that is not a running
 * invocation is therefore a leftover, and is killed and reaped until none
 * is left. When every slot runs under a uid of its own (root), a leftover
 * belongs to the invocation whose uid it has, and only those are taken;
 * with one shared uid, a leftover of a still-running invocation that has
 * already lost its parent is killed early too: fail closed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "zygote.h"

int64_t fbx_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void fbx_zygote_kill_tree(struct fbx_zygote *z, struct fbx_invocation *inv)
{
	if (inv->kill_sent || inv->pid <= 0)
		return;
	inv->kill_sent = true;
	/* The child leads its own process group (setsid). ESRCH is normal
	 * when the group is already gone. */
	if (kill(-inv->pid, SIGKILL) < 0 && errno != ESRCH && errno != EPERM)
		fbx_log_errno(z->log_fd, "warn", errno, "kill group %d",
			      inv->pid);
	if (kill(inv->pid, SIGKILL) < 0 && errno != ESRCH)
		fbx_log_errno(z->log_fd, "warn", errno, "kill %d", inv->pid);
}

static bool is_active_child(const struct fbx_zygote *z, pid_t pid)
{
	if (z->janitor_pid > 0 && pid == z->janitor_pid)
		return true;
	for (size_t i = 0; i < z->n_invs; i++)
		if (z->invs[i].used && z->invs[i].pid == pid)
			return true;
	return false;
}

/* Appends pid to a growing list; false when out of memory. */
static bool push_pid(pid_t **pids, size_t *n, size_t *cap, pid_t pid)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		pid_t *np = realloc(*pids, ncap * sizeof(*np));
		if (!np)
			return false;
		*pids = np;
		*cap = ncap;
	}
	(*pids)[(*n)++] = pid;
	return true;
}

/* Lists all of the zygote's direct children into *pids (malloc'd, grown
 * as needed: a cap would let a concurrent invocation's crowd of children
 * hide a leftover past it, the kernel appending re-parented orphans at
 * the end). /proc/<pid>/task/<pid>/children is exact for a single-threaded
 * process; without it (CONFIG_PROC_CHILDREN off), /proc/<n>/stat is
 * scanned for our pid as parent. -1 when out of memory or unreadable. */
static ssize_t list_children(pid_t self, pid_t **pids)
{
	size_t n = 0, cap = 0;
	*pids = NULL;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", self, self);
	/* Read raw: this runs after every invocation, and stdio would
	 * allocate and lock for every one. */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		char buf[4096], digits[16];
		size_t nd = 0;
		ssize_t len;
		bool ok = true;
		while (ok && (len = read(fd, buf, sizeof(buf))) > 0) {
			for (ssize_t k = 0; k < len && ok; k++) {
				if (buf[k] >= '0' && buf[k] <= '9') {
					if (nd < sizeof(digits) - 1)
						digits[nd++] = buf[k];
					continue;
				}
				if (nd) {
					digits[nd] = '\0';
					ok = push_pid(pids, &n, &cap,
						      (pid_t)atol(digits));
					nd = 0;
				}
			}
		}
		if (ok && nd) {
			digits[nd] = '\0';
			ok = push_pid(pids, &n, &cap, (pid_t)atol(digits));
		}
		close(fd);
		return ok ? (ssize_t)n : -1;
	}
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	struct dirent *de;
	bool ok = true;
	while (ok && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		char stat_path[64], buf[512];
		snprintf(stat_path, sizeof(stat_path), "/proc/%ld/stat", pid);
		int sfd = open(stat_path, O_RDONLY | O_CLOEXEC);
		if (sfd < 0)
			continue;
		ssize_t len = read(sfd, buf, sizeof(buf) - 1);
		close(sfd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* "pid (comm) state ppid": comm may hold spaces and ')'. */
		char *rp = strrchr(buf, ')');
		int ppid;
		char state;
		if (rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 &&
		    ppid == self)
			ok = push_pid(pids, &n, &cap, (pid_t)pid);
	}
	closedir(d);
	return ok ? (ssize_t)n : -1;
}

/* More than one thread is not looked into: as they die, a child of one is
 * handed to another, and could be missed between the two reads. */
bool fbx_zygote_is_lone_thread(pid_t pid)
{
	char path[64], kids[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return false;
	int tasks = 0;
	char tid[24] = "";
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && ++tasks == 1)
			snprintf(tid, sizeof(tid), "%.16s", de->d_name);
	bool listed = errno == 0;
	closedir(d);
	if (!listed || tasks != 1)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/task/%s/children", pid, tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t len = read(fd, kids, sizeof(kids));
	close(fd);
	return len == 0;
}

static uid_t uid_of(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "re");
	uid_t uid = (uid_t)-1;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long real;
		if (sscanf(line, "Uid: %lu", &real) == 1) {
			uid = (uid_t)real;
			break;
		}
	}
	if (f)
		fclose(f);
	return uid;
}

uint32_t fbx_zygote_sweep_orphans(struct fbx_zygote *z, uid_t owner)
{
	uint32_t killed = 0;
	/* Each round kills what is visible; their children re-parent to us
	 * and show up in the next round. RLIMIT_NPROC bounds a fork bomb,
	 * the round limit bounds this loop. */
	for (int round = 0; round < 10000; round++) {
		pid_t *kids;
		ssize_t n = list_children(z->pid, &kids);
		if (n < 0) {
			fbx_log(z->log_fd, "error",
				"cannot list the zygote's children to sweep "
				"leftovers");
			free(kids);
			return killed;
		}
		size_t strays = 0;
		for (ssize_t i = 0; i < n; i++) {
			/* A process that vanished reads as uid -1: a zombie
			 * of ours, reaped below whoever it was. */
			if (is_active_child(z, kids[i]) ||
			    (owner != (uid_t)-1 && uid_of(kids[i]) != owner &&
			     uid_of(kids[i]) != (uid_t)-1)) {
				kids[i] = 0;
				continue;
			}
			strays++;
			if (kill(kids[i], SIGKILL) < 0 && errno != ESRCH)
				fbx_log_errno(z->log_fd, "warn", errno,
					      "kill orphan %d", kids[i]);
		}
		for (ssize_t i = 0; i < n; i++) {
			if (kids[i] == 0)
				continue;
			/* Blocking on a pid we just SIGKILLed: it is dying. */
			if (waitpid(kids[i], NULL, __WALL) > 0)
				killed++;
		}
		free(kids);
		if (strays == 0)
			return killed;
	}
	fbx_log(z->log_fd, "error", "orphans keep appearing; gave up sweeping");
	return killed;
}
