def handler():
    return "no arguments"
