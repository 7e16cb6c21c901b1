#!/usr/bin/env python3
"""switch proxy with roles that modelc split over GPUs (tests/fixtures/switch-multigpu, on the
two-H100 capture tests/fixtures/nvidia-smi/two-gpus): a tensor-parallel role starts on the
plan's GPUs with the parallel flags and a re-fit on every placed GPU, as `switch serve` starts
it; a role whose ranks span hosts is refused with the reason in the error body."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxy_env import ROOT, Env, get_json, request, check, verdict  # noqa: E402


def environ_of(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        return dict(kv.split("=", 1) for kv in f.read().decode().split("\0") if "=" in kv)


def argv_of(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read().decode().split("\0")


def main():
    env = Env(catalog="tests/fixtures/switch-multigpu")
    # The captured two-GPU host, not the stand-ins' shared one-GPU state.
    del env.env["FAKE_GPU_STATE"]
    env.env.update(FAKE_NVSMI_DIR=os.path.join(ROOT, "tests/fixtures/nvidia-smi"), FAKE_NVSMI_SCENARIO="two-gpus")
    try:
        p = env.start()
        st, _, body = request(p.port, "POST", "/v1/completions", {"model": "big", "prompt": "x", "max_tokens": 1})
        check("tp 2 role: answered", st == 200, body[:300])
        inst = {i["role"]: i for i in get_json(p.port, "/running")["instances"]}["big"]
        pid = inst.get("pid")
        check("tp 2 role: running", inst["state"] == "ready" and pid, json.dumps(inst))
        if pid:
            argv, e = argv_of(pid), environ_of(pid)
            check("tp 2 role: --tensor-parallel-size 2", "--tensor-parallel-size" in argv and
                  argv[argv.index("--tensor-parallel-size") + 1] == "2", " ".join(argv))
            check("tp 2 role: CUDA_VISIBLE_DEVICES", e.get("CUDA_VISIBLE_DEVICES") == "0,1",
                  e.get("CUDA_VISIBLE_DEVICES"))
        st, _, body = request(p.port, "POST", "/v1/completions", {"model": "wide", "prompt": "x", "max_tokens": 1})
        text = body.decode(errors="replace")
        check("two hosts: refused", st in (502, 503) and "spans 2 hosts" in text and "plan.txt" in text,
              "%d %s" % (st, text[:400]))
    finally:
        env.close()
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
