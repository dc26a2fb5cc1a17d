import forkbox_no_such_module  # noqa: F401


def handler(event, context):
    return 1
