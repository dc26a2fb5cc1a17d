class MyError(Exception):
    pass


def check(value):
    raise MyError("bad value: %r" % (value,))


def handler(event, context):
    check(event.get("value"))
