"""Preloaded (--preload breaks_child_init), it replaces forkbox's own
child_init in the zygote, so that every child's set-up fails: each request
must get an error that says why, and never hang."""
import sys


def _broken(job_fd):
    raise RuntimeError("child_init sabotaged by a preload")


sys.modules["forkbox_runtime"].child_init = _broken
