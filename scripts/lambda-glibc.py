#!/usr/bin/python3
"""Keeps the Lambda zip within Amazon Linux 2023's glibc (2.34).

    lambda-glibc.py check FILE...
        Lists every glibc symbol version newer than 2.34 that FILE needs;
        exits 1 if one of them would stop it from loading there.
    lambda-glibc.py patch --glibc-dir=DIR LIB...
        Rewrites, in place, the version needs of libraries copied from
        Debian 12 (glibc 2.36) so that they load on glibc 2.34:
        - a symbol that glibc also exports under an older version (hypot:
          GLIBC_2.35, also GLIBC_2.2.5 / GLIBC_2.17) is bound to that one:
          the need's name and hash are pointed at the older version;
        - a symbol newer than 2.34 that forkbox-zygote-python defines
          itself (arc4random_buf, GLIBC_2.36: libexpat and libcrypt use it,
          see lambda-glibc-compat.c) gets a weak need: glibc's loader only
          refuses a missing version when the need is not weak, and the
          symbol is then found in the executable.
        Anything else is an error: such a library cannot be bundled.

Only the .gnu.version_r entries change (a few bytes each); no section
moves. ELF64 little-endian (x86_64, aarch64) only.
"""

import re
import struct
import sys

GLIBC_MAX = (2, 34)
# Symbols the zip's forkbox-zygote-python defines (lambda-glibc-compat.c).
PROVIDED = {"arc4random_buf"}
GLIBC_SONAMES = re.compile(r"^(libc|libm|libpthread|libdl|librt|libresolv|libutil|libanl|"
                           r"libBrokenLocale|libmvec|ld-linux[-a-z0-9_]*)\.so\.[0-9]+$")
SHT_DYNSYM = 11
SHT_GNU_VERDEF = 0x6FFFFFFD
SHT_GNU_VERNEED = 0x6FFFFFFE
SHT_GNU_VERSYM = 0x6FFFFFFF
VER_FLG_WEAK = 0x2


def elf_hash(name):
    h = 0
    for c in name.encode():
        h = ((h << 4) + c) & 0xFFFFFFFF
        g = h & 0xF0000000
        if g:
            h ^= g >> 24
        h &= ~g & 0xFFFFFFFF
    return h


def glibc_version(name):
    m = re.fullmatch(r"GLIBC_(\d+)\.(\d+)(?:\.(\d+))?", name)
    return tuple(int(x) for x in m.groups() if x is not None) if m else None


class Elf:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = bytearray(f.read())
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
            raise ValueError("%s: not a little-endian ELF64 file" % path)
        shoff, = struct.unpack_from("<Q", d, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", d, 0x3A)
        self.sections = []
        for i in range(shnum):
            (name, typ, flags, addr, off, size, link, info, align,
             entsize) = struct.unpack_from("<IIQQQQIIQQ", d, shoff + i * shentsize)
            self.sections.append(dict(type=typ, offset=off, size=size, link=link, info=info))
        self.dynsym = self._section(SHT_DYNSYM)
        self.versym = self._section(SHT_GNU_VERSYM)
        self.verneed_sec = self._section(SHT_GNU_VERNEED)
        self.verdef_sec = self._section(SHT_GNU_VERDEF)
        self.dynstr = self.sections[self.dynsym["link"]] if self.dynsym else None

    def _section(self, typ):
        for s in self.sections:
            if s["type"] == typ:
                return s
        return None

    def string(self, off):
        start = self.dynstr["offset"] + off
        end = self.data.index(b"\0", start)
        return self.data[start:end].decode()

    def string_offset(self, name):
        """An offset in .dynstr of the NUL-terminated name, or None."""
        s = self.dynstr
        blob = bytes(self.data[s["offset"]:s["offset"] + s["size"]])
        pos = blob.find(name.encode() + b"\0")
        return None if pos < 0 else pos

    def symbols(self):
        """(name, version index, hidden, defined) of each dynamic symbol."""
        out = []
        if not self.dynsym:
            return out
        n = self.dynsym["size"] // 24
        for i in range(n):
            st_name, info, other, shndx = struct.unpack_from(
                "<IBBH", self.data, self.dynsym["offset"] + i * 24)
            ver = 1
            if self.versym:
                ver, = struct.unpack_from("<H", self.data, self.versym["offset"] + 2 * i)
            out.append((self.string(st_name), ver & 0x7FFF, bool(ver & 0x8000), shndx != 0))
        return out

    def needs(self):
        """Every version need: dict(file, name, flags, index, offset)."""
        out = []
        s = self.verneed_sec
        if not s:
            return out
        off = s["offset"]
        for _ in range(s["info"]):
            vn_version, vn_cnt, vn_file, vn_aux, vn_next = struct.unpack_from("<HHIII", self.data, off)
            aux = off + vn_aux
            for _ in range(vn_cnt):
                h, flags, other, name, nxt = struct.unpack_from("<IHHII", self.data, aux)
                out.append(dict(file=self.string(vn_file), name=self.string(name), flags=flags,
                                index=other & 0x7FFF, offset=aux))
                aux += nxt
            if not vn_next:
                break
            off += vn_next
        return out

    def definitions(self):
        """{symbol name: set of version names it is defined with}."""
        names = {}
        s = self.verdef_sec
        if not s:
            return {}
        off = s["offset"]
        for _ in range(s["info"]):
            vd_version, vd_flags, vd_ndx, vd_cnt, vd_hash, vd_aux, vd_next = \
                struct.unpack_from("<HHHHIII", self.data, off)
            vda_name, = struct.unpack_from("<I", self.data, off + vd_aux)
            names[vd_ndx] = self.string(vda_name)
            if not vd_next:
                break
            off += vd_next
        defs = {}
        for name, idx, hidden, defined in self.symbols():
            if defined and idx in names:
                defs.setdefault(name, set()).add(names[idx])
        return defs

    def users(self, index):
        return sorted(name for name, idx, hidden, defined in self.symbols()
                      if idx == index and not defined)

    def save(self):
        with open(self.path, "wb") as f:
            f.write(self.data)


def too_new(need):
    if not GLIBC_SONAMES.match(need["file"]):
        return False
    v = glibc_version(need["name"])
    return v is None or v > GLIBC_MAX


def check(paths):
    bad = 0
    for path in paths:
        elf = Elf(path)
        for need in elf.needs():
            if not too_new(need):
                continue
            syms = elf.users(need["index"])
            weak = need["flags"] & VER_FLG_WEAK
            ok = weak and set(syms) <= PROVIDED
            print("%s: %s %s from %s: %s%s" % (
                "ok" if ok else "FAIL", path, need["name"], need["file"],
                ", ".join(syms) or "(no symbol)",
                " (weak; defined by forkbox-zygote-python)" if ok else ""))
            bad += not ok
    return 1 if bad else 0


def patch(glibc_dir, paths):
    failed = 0
    glibc_defs = {}
    for path in paths:
        elf = Elf(path)
        changed = False
        for need in elf.needs():
            if not too_new(need):
                continue
            syms = elf.users(need["index"])
            if need["file"] not in glibc_defs:
                glibc_defs[need["file"]] = Elf("%s/%s" % (glibc_dir, need["file"])).definitions()
            defs = glibc_defs[need["file"]]
            older = set()
            for sym in syms:
                vs = [glibc_version(v) for v in defs.get(sym, ()) if glibc_version(v)]
                vs = [v for v in vs if v <= GLIBC_MAX]
                older.add(max(vs) if vs else None)
            h, flags, other, name, nxt = struct.unpack_from("<IHHII", elf.data, need["offset"])
            if syms and len(older) == 1 and None not in older:
                target = "GLIBC_" + ".".join(map(str, older.pop()))
                off = elf.string_offset(target)
                if off is not None:
                    struct.pack_into("<IHHII", elf.data, need["offset"],
                                     elf_hash(target), flags, other, off, nxt)
                    print("%s: %s -> %s (%s)" % (path, need["name"], target, ", ".join(syms)))
                    changed = True
                    continue
            if syms and set(syms) <= PROVIDED:
                struct.pack_into("<IHHII", elf.data, need["offset"],
                                 h, flags | VER_FLG_WEAK, other, name, nxt)
                print("%s: %s weak (%s, defined by forkbox-zygote-python)" % (
                    path, need["name"], ", ".join(syms)))
                changed = True
                continue
            print("%s: cannot avoid %s from %s (%s)" % (
                path, need["name"], need["file"], ", ".join(syms) or "no symbol"), file=sys.stderr)
            failed += 1
        if changed:
            elf.save()
    return 1 if failed else 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "check":
        return check(argv[1:])
    if len(argv) >= 3 and argv[0] == "patch" and argv[1].startswith("--glibc-dir="):
        return patch(argv[1].split("=", 1)[1], argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
