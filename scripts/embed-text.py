#!/usr/bin/env python3
"""embed-text.py IN OUT NAME: writes a C header defining
`static const char NAME[]` with the bytes of IN, NUL-terminated. Used to
compile sandbox/python/forkbox_runtime.py into the Python zygote."""
import sys

src, out, name = sys.argv[1:4]
data = open(src, "rb").read()
if b"\0" in data:
    sys.exit("embed-text.py: %s contains a NUL byte" % src)
lines = ["/* generated from %s by scripts/embed-text.py */" % src,
         "static const char %s[] = {" % name]
for i in range(0, len(data), 16):
    lines.append("\t" + ", ".join("0x%02x" % b for b in data[i:i + 16]) + ",")
lines.append("\t0x00};")
with open(out + ".tmp", "w") as f:
    f.write("\n".join(lines) + "\n")
import os
os.replace(out + ".tmp", out)
