#!/usr/bin/python3
"""The seed's scripts/model_switcher.py, rebuilt for `make bench`: what switch replaces.

argparse, PyYAML loading the catalog of the five seed roles, shlex-quoted exports for
eval "$(model_switcher.py --set primary)", and .active_model written to a temporary file and
renamed. Run with Debian's /usr/bin/python3 and python3-yaml.
"""
import argparse
import os
import shlex
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def resolve(catalog, target):
    norm = target.rstrip("/") or target
    for role, m in catalog.items():
        if target == role or norm in (m.get("local_dir"), m.get("model_id")) or target == m.get("repo"):
            return role, m
    return None, None


def write_active(path, role, model_id):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".active_model.", dir=d)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("# written by switch --set; do not edit\nrole=%s\nmodel_id=%s\n" % (role, model_id))
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="List or set the active local model.")
    ap.add_argument("--list", action="store_true", help="list the roles")
    ap.add_argument("--set", metavar="ROLE|PATH|REPO", help="activate a model")
    ap.add_argument("--catalog", default=os.path.join(HERE, "catalog.yaml"))
    ap.add_argument("--active-file", default=os.environ.get("MODELC_ACTIVE_FILE", ".active_model"))
    args = ap.parse_args()
    catalog = load(args.catalog)
    if args.list:
        for role, m in catalog.items():
            print("%-10s %s (%s, %d)" % (role, m["model_id"], m["quantization"], m["max_model_len"]))
        return 0
    if not args.set:
        ap.error("one of --list or --set is required")
    role, m = resolve(catalog, args.set)
    if role is None:
        print("unknown role, path or repo %r; known: %s" % (args.set, ", ".join(catalog)), file=sys.stderr)
        return 1
    write_active(args.active_file, role, m["model_id"])
    exports = [
        ("VLLM_MODEL_ID", m["model_id"]),
        ("VLLM_MAX_MODEL_LEN", str(m["max_model_len"])),
        ("VLLM_QUANTIZATION", m["quantization"]),
        ("VLLM_GPU_MEMORY_UTILIZATION", "%g" % m["gpu_memory_utilization"]),
        ("VLLM_KV_CACHE_DTYPE", m["kv_cache_dtype"]),
        ("MODELC_ACTIVE_ROLE", role),
    ]
    for k, v in exports:
        print("export %s=%s" % (k, shlex.quote(v)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
