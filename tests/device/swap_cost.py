#!/usr/bin/env python3
"""The primitives a model swap is made of, measured on the GPU with torch (no vLLM):

  context   a fresh process: `import torch`, CUDA context creation (first tensor on the
            device) and the caching allocator's first large reservation (one 1 GiB block)
  disk      weights from a file to the GPU: the file's pages dropped from the page cache
            (posix_fadvise DONTNEED after fsync), read in 64 MiB pieces into a pinned buffer,
            each copied to the device; also the same file again from the page cache
  pinned    weights from pinned host memory to the GPU (what vLLM's level-1 wake does) and
            back (what level-1 sleep does), and from pageable memory for comparison

for 1, 3 and 8 GB (SWAP_COST_SIZES_GB overrides). Prints one table and writes JSON to argv[1].
"""
import json
import os
import subprocess
import sys
import time

import torch

GB = 10**9
PIECE = 64 * 2**20
SIZES = [float(x) for x in os.environ.get("SWAP_COST_SIZES_GB", "1,3,8").split(",")]
REPS = int(os.environ.get("SWAP_COST_REPS", "3"))
WORK = os.environ.get("SWAP_COST_DIR", "/tmp/swap_cost")

CHILD = r"""
import time
t0 = time.perf_counter()
import torch
t1 = time.perf_counter()
torch.zeros(1, device="cuda"); torch.cuda.synchronize()
t2 = time.perf_counter()
x = torch.empty(2**30, dtype=torch.uint8, device="cuda"); torch.cuda.synchronize()
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""


def fresh_process():
    rows = []
    for _ in range(REPS):
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CHILD], check=True, capture_output=True, text=True).stdout
        total = time.perf_counter() - t
        imp, ctx, alloc = (float(v) for v in out.split())
        rows.append({"import_s": imp, "context_s": ctx, "alloc_1gib_s": alloc, "process_total_s": total})
    return rows


def sync():
    torch.cuda.synchronize()


def disk_to_gpu(path, nbytes, dev, drop):
    pinned = torch.empty(PIECE, dtype=torch.uint8, pin_memory=True)
    fd = os.open(path, os.O_RDONLY)
    if drop:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    view = memoryview(pinned.numpy())
    t = time.perf_counter()
    off = 0
    while off < nbytes:
        n = os.readv(fd, [view[:min(PIECE, nbytes - off)]])
        if n <= 0:
            break
        dev[off:off + n].copy_(pinned[:n], non_blocking=False)
        off += n
    sync()
    dt = time.perf_counter() - t
    os.close(fd)
    return dt


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else "swap_cost.json"
    os.makedirs(WORK, exist_ok=True)
    res = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "cuda": torch.version.cuda,
           "fresh_process": fresh_process(), "sizes": []}
    torch.zeros(1, device="cuda")
    for gb in SIZES:
        n = int(gb * GB)
        row = {"gb": gb}
        dev = torch.empty(n, dtype=torch.uint8, device="cuda")
        host = torch.empty(n, dtype=torch.uint8, pin_memory=True)
        host.fill_(7)
        for name, fn in (("pinned_to_gpu_s", lambda: dev.copy_(host, non_blocking=True)),
                         ("gpu_to_pinned_s", lambda: host.copy_(dev, non_blocking=True))):
            best = None
            for _ in range(REPS):
                sync(); t = time.perf_counter(); fn(); sync()
                dt = time.perf_counter() - t
                best = dt if best is None else min(best, dt)
            row[name] = best
        pageable = torch.empty(n, dtype=torch.uint8)
        pageable.fill_(3)
        sync(); t = time.perf_counter(); dev.copy_(pageable); sync()
        row["pageable_to_gpu_s"] = time.perf_counter() - t
        del pageable
        # the file: written from the pinned buffer, fsynced, then dropped from the page cache
        path = os.path.join(WORK, "weights-%g.bin" % gb)
        t = time.perf_counter()
        with open(path, "wb") as f:
            mv = memoryview(host.numpy())
            for off in range(0, n, PIECE):
                f.write(mv[off:off + PIECE])
            f.flush(); os.fsync(f.fileno())
        row["write_file_s"] = time.perf_counter() - t
        del host
        row["disk_to_gpu_cold_s"] = disk_to_gpu(path, n, dev, True)
        row["disk_to_gpu_cached_s"] = disk_to_gpu(path, n, dev, False)
        os.unlink(path)
        del dev
        torch.cuda.empty_cache()
        for k in list(row):
            if k.endswith("_s"):
                row[k.replace("_s", "_gbps")] = gb / row[k]
        res["sizes"].append(row)
        print(json.dumps(row), flush=True)
    with open(out_path, "w") as f:
        json.dump(res, f, indent=1)
    fp = res["fresh_process"]
    print("gpu: %s, torch %s, cuda %s" % (res["gpu"], res["torch"], res["cuda"]))
    print("fresh process (min of %d): import torch %.2f s, CUDA context %.2f s, first 1 GiB block %.3f s, whole %.2f s"
          % (REPS, min(r["import_s"] for r in fp), min(r["context_s"] for r in fp),
             min(r["alloc_1gib_s"] for r in fp), min(r["process_total_s"] for r in fp)))
    print("%5s %14s %14s %14s %14s %14s" % ("GB", "disk cold", "page cache", "pinned->GPU", "GPU->pinned", "pageable->GPU"))
    for r in res["sizes"]:
        print("%5g %8.2f s %3.1f %8.2f s %3.1f %8.3f s %3.0f %8.3f s %3.0f %8.3f s %3.0f" % (
            r["gb"], r["disk_to_gpu_cold_s"], r["disk_to_gpu_cold_gbps"], r["disk_to_gpu_cached_s"],
            r["disk_to_gpu_cached_gbps"], r["pinned_to_gpu_s"], r["pinned_to_gpu_gbps"], r["gpu_to_pinned_s"],
            r["gpu_to_pinned_gbps"], r["pageable_to_gpu_s"], r["pageable_to_gpu_gbps"]))
    print("(seconds and GB/s)")


if __name__ == "__main__":
    main()
