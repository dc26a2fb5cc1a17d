"""A handler that breaks forkbox's own Python half in its child, the way a
careless or hostile module could: the answer must still be a clear error,
and the next invocation (a fresh child) must not notice."""
import sys


class Odd(Exception):
    pass


def _raise_odd(*args, **kwargs):
    raise Odd("the runtime's encoder was replaced")


def handler(event, context):
    rt = sys.modules["forkbox_runtime"]
    do = event.get("do")
    if do == "encoder":
        # call() serialises the result after this returns: an exception
        # it does not expect escapes forkbox's own code.
        rt._dumps = _raise_odd
    elif do == "frame_kind":
        # call() then returns a frame whose kind is not a number.
        rt.FRAME_RESULT = "result"
    return {"sabotaged": do}
