#!/usr/bin/python3
"""Rewrite fields of a runtime table (generated/switch.table) for tests that need a table modelc
would never write: a model id no shell quoting reads back, a disk budget no volume holds. It
follows the layout of docs/formats.md on its own, so it also checks that the documentation and
common/model_table.h agree.

usage: table_edit.py IN OUT EDIT...
  ROLE.FIELD=TEXT        a string of a role: model_id, repo, revision, commit, local_dir, ...
  settings.disk_budget=N a number of the settings record (disk_budget, gpu_total, port)
  ROLE.fileK.size=N      the size of the K-th file (from 0) of a role's manifest
  truncate=N             keep the first N bytes (after the other edits)

A new string is appended to the string pool (the last section), so every other reference
stays valid; the pool's count and the header's total size grow with it.
"""
import struct
import sys

HDR_TOTAL, HDR_NSECTIONS, HDR_SECTIONS = 16, 24, 28
DIR_SIZE = 16
SETTINGS, ROLES, FILES, ARGS, STRINGS = 1, 2, 3, 4, 5
ROLE_STRINGS = ["name", "model_id", "repo", "revision", "commit", "local_dir", "quantization",
                "quantization_flag", "dtype", "kv_cache_dtype", "verdict"]
ROLE_FILES_FIRST, FILE_SIZE = 88, 8
SETTINGS_NUMBERS = {"gpu_total": (48, "<Q"), "gpu_used": (56, "<Q"), "disk_budget": (72, "<Q"),
                    "port": (80, "<I")}


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    b = bytearray(open(argv[1], "rb").read())
    assert b[:8] == b"MODELCTB", "not a runtime table"
    nsec, dir_at = struct.unpack_from("<II", b, HDR_NSECTIONS)
    sections = {}
    for i in range(nsec):
        at = dir_at + i * DIR_SIZE
        typ, off, count, size = struct.unpack_from("<IIII", b, at)
        sections[typ] = (at, off, count, size)
    pool_dir, pool_off, pool_len, _ = sections[STRINGS]
    assert pool_off + pool_len == len(b), "the string pool is not the last section"

    def role_at(name):
        _, off, count, size = sections[ROLES]
        for i in range(count):
            r = off + i * size
            soff, slen = struct.unpack_from("<II", b, r)
            if bytes(b[pool_off + soff:pool_off + soff + slen]).decode() == name:
                return r
        sys.exit("no role '%s'" % name)

    truncate = None
    for edit in argv[3:]:
        key, value = edit.split("=", 1)
        if key == "truncate":
            truncate = int(value)
            continue
        record, field = key.split(".", 1)
        if record == "settings":
            at, fmt = SETTINGS_NUMBERS[field]
            struct.pack_into(fmt, b, sections[SETTINGS][1] + at, int(value))
            continue
        if field.startswith("file"):
            k = int(field[4:].split(".", 1)[0])
            first, = struct.unpack_from("<I", b, role_at(record) + ROLE_FILES_FIRST)
            _, foff, _, fsize = sections[FILES]
            struct.pack_into("<Q", b, foff + (first + k) * fsize + FILE_SIZE, int(value))
            continue
        ref = role_at(record) + 8 * ROLE_STRINGS.index(field)
        data = value.encode()
        struct.pack_into("<II", b, ref, len(b) - pool_off, len(data))
        b += data + b"\0"
    struct.pack_into("<I", b, pool_dir + 8, len(b) - pool_off)
    struct.pack_into("<Q", b, HDR_TOTAL, len(b))
    if truncate is not None:
        b = b[:truncate]
    open(argv[2], "wb").write(b)


main(sys.argv)
