#!/usr/bin/env python3
"""switch proxy with the table's together: groups and serving records (tests/fixtures/proxy:
chat and helper planned together as 'pair', math alone; chat has aliases, helper a ttl and sleep
level 2 of its own). The stand-in vLLMs and nvidia-smi share one GPU state file, so what is
resident, with which limits, is observable: two members resident together with the group's
limits in their argv, a non-member putting both away (least recently used first), a request by
alias, a per-role TTL putting one member away while the other stays, a member refused because
the free memory at its start is too small, and the command line's and the table's errors."""
import json
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxy_env import ROOT, Env, get_json, request, check, verdict  # noqa: E402

GPU_MIB = 24576  # the catalog's gpu.memory, 25769803776 bytes


def complete(p, model):
    return request(p.port, "POST", "/v1/completions", {"model": model, "prompt": "x", "max_tokens": 1})


def running(p):
    return {i["role"]: i for i in get_json(p.port, "/running")["instances"]}


def argv_of(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read().decode().split("\0")


def started(pid):
    """When the process started, in clock ticks since boot (/proc/PID/stat, field 22)."""
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


def flag(argv, name):
    return argv[argv.index(name) + 1] if name in argv else None


def logs(p, role):
    return request(p.port, "GET", "/logs/" + role)[2].decode()


def wait_state(p, role, state, tries=200):
    st = None
    for _ in range(tries):
        st = running(p)[role]["state"]
        if st == state:
            return st
        time.sleep(0.05)
    return st


def dry_run(env):
    r = subprocess.run([env.proxy, "--table", env.table, "--dry-run", "--port-base", "9200", "--ttl", "5",
                        "--ttl", "math=9", "--sleep-level", "chat=1"], env=env.env, capture_output=True, text=True)
    out = r.stdout
    check("dry-run: exit", r.returncode == 0, r.stderr)
    for want in ("chat          9200          4096         0.9   0.00 GiB          66 s 5 s default     1 override  "
                 "gpt-4o-mini, chat-latest",
                 "helper        9201          4096         0.9   0.00 GiB          66 s 600 s catalog     2 catalog  -",
                 "math          9202          8192         0.9   3.75 GiB          65 s 9 s override     0  -",
                 "  pair: 15.45 GiB at the peak with every member awake",
                 "    1. helper       max_model_len 4096, gpu_memory_utilization 0.3029; needs 7.89 GiB free at its "
                 "start, holds 7.89 GiB awake, 0.80 GiB asleep",
                 "    2. chat         max_model_len 4096, gpu_memory_utilization 0.2888; needs 7.56 GiB free at its start",
                 "eviction order: least recently used first, among the instances in the asked role's way"):
        check("dry-run: " + want[:40], want in out, out)


def together(env):
    p = env.start()
    check("chat alone", complete(p, "chat")[0] == 200)
    run = running(p)
    check("chat alone: limits", run["chat"]["group"] is None and run["chat"]["limits"] ==
          {"max_model_len": 4096, "gpu_memory_utilization": 0.9}, run["chat"])
    # helper shares a group with chat: chat (alone, with its own limits) is in the way; helper
    # starts with the group's limits, and chat, asked for by an alias, joins it.
    check("helper joins", complete(p, "helper")[0] == 200)
    check("chat put away for helper", "making room for 'helper' in group 'pair' (put away 1 of 1" in logs(p, "chat"),
          logs(p, "chat")[-500:])
    st, _, body = complete(p, "gpt-4o-mini")
    check("alias routed", st == 200 and json.loads(body)["model"] == "gpt-4o-mini", body)
    run = running(p)
    check("both resident", run["chat"]["state"] == "ready" and run["helper"]["state"] == "ready", run)
    check("both in pair", run["chat"]["group"] == "pair" and run["helper"]["group"] == "pair", run)
    check("group limits in /running", run["chat"]["limits"] == {"max_model_len": 4096, "gpu_memory_utilization": 0.2888}
          and run["helper"]["limits"] == {"max_model_len": 4096, "gpu_memory_utilization": 0.3029}, run)
    a, b = argv_of(run["chat"]["pid"]), argv_of(run["helper"]["pid"])
    check("group limits in argv", flag(a, "--gpu-memory-utilization") == "0.2888" and flag(a, "--max-model-len") == "4096"
          and flag(b, "--gpu-memory-utilization") == "0.3029" and flag(b, "--max-model-len") == "4096", (a, b))
    names = a[a.index("--served-model-name") + 1:]
    check("aliases served", "gpt-4o-mini" in names and "chat-latest" in names and "chat" in names, a)
    check("helper sleep mode", "--enable-sleep-mode" in b and "--enable-sleep-mode" not in a, (a, b))
    with open(env.env["FAKE_GPU_STATE"]) as f:
        held = sorted(v["mib"] for v in json.load(f)["procs"].values())
    check("both on the GPU", held == [int(0.2888 * GPU_MIB), int(0.3029 * GPU_MIB)], held)
    m = request(p.port, "GET", "/metrics")[2].decode().splitlines()
    check("metrics: limits", 'switch_proxy_instance_gpu_memory_utilization{role="chat",group="pair"} 0.2888' in m and
          'switch_proxy_instance_max_model_len{role="helper",group="pair"} 4096' in m, m)
    models = {d["id"]: d for d in get_json(p.port, "/v1/models")["data"]}
    check("models: aliases", "gpt-4o-mini" in models["chat"]["aliases"] and "chat-latest" in models["chat"]["aliases"],
          models["chat"])
    st, _, body = complete(p, "gpt-4o-mni")
    check("did you mean an alias", st == 404 and "did you mean 'gpt-4o-mini'?" in body.decode(), body)
    # math is in no group: both members are in its way, put away least recently used first
    # (helper was last used before chat); helper sleeps (its level 2), chat is stopped.
    check("math evicts", complete(p, "math")[0] == 200)
    check("LRU first", "making room for 'math' (put away 1 of 2" in logs(p, "helper") and
          "making room for 'math' (put away 2 of 2" in logs(p, "chat"), logs(p, "helper")[-400:])
    run = running(p)
    check("after math", run["math"]["state"] == "ready" and run["math"]["group"] is None and
          run["helper"]["state"] == "asleep" and run["chat"]["state"] == "stopped", run)
    # helper asleep keeps its pair limits: it is woken (math, alone, is in its way), not started
    check("helper woken", complete(p, "helper")[0] == 200)
    run = running(p)
    m = request(p.port, "GET", "/metrics")[2].decode().splitlines()
    check("helper woken in pair", run["helper"]["state"] == "ready" and run["helper"]["group"] == "pair" and
          run["math"]["state"] == "stopped" and 'switch_proxy_swaps_total{role="helper",how="wake"} 1' in m, run)
    p.terminate()
    p.wait(30)


def ttl(env):
    # --ttl 1 is the default for roles whose catalog sets none (chat); helper's 600 s wins.
    p = env.start("--ttl", "1")
    check("ttl: helper", complete(p, "helper")[0] == 200)
    check("ttl: chat", complete(p, "chat")[0] == 200)
    # helper was put to sleep with its limits alone: rather than wake it so and put chat away, it
    # starts again in the group
    check("ttl: helper again", complete(p, "helper")[0] == 200)
    check("ttl: helper restarted", "stopping it to start it again in group 'pair' beside its members" in
          logs(p, "helper"), logs(p, "helper")[-600:])
    run = running(p)
    check("ttl: helper in pair", run["helper"]["group"] == "pair" and run["helper"]["ttl_s"] == 600 and
          run["chat"]["ttl_s"] == 1, run)
    check("ttl: chat put away", wait_state(p, "chat", "stopped") == "stopped", running(p))
    check("ttl: chat's log", "(its ttl is 1 s); putting it away" in logs(p, "chat"), logs(p, "chat")[-400:])
    check("ttl: helper stays", running(p)["helper"]["state"] == "ready", running(p))
    p.terminate()
    p.wait(30)


def preload(env):
    # Both members asked for at once: they start together, in the group's start order (helper,
    # the larger share, first), each once.
    p = env.start("--preload", "chat", "--preload", "helper")
    ok = wait_state(p, "chat", "ready") == "ready" and wait_state(p, "helper", "ready") == "ready"
    run = running(p)
    m = request(p.port, "GET", "/metrics")[2].decode().splitlines()
    check("preload: both in pair", ok and run["chat"]["group"] == "pair" and run["helper"]["group"] == "pair" and
          'switch_proxy_swaps_total{role="chat",how="start"} 1' in m and
          'switch_proxy_swaps_total{role="helper",how="start"} 1' in m, run)
    check("preload: start order", started(run["helper"]["pid"]) < started(run["chat"]["pid"]), run)
    p.terminate()
    p.wait(30)


def refused(env):
    p = env.start()
    check("refused: chat alone", complete(p, "chat")[0] == 200)
    # Another process takes 20000 MiB: once chat is put away, 4576 MiB are free, less than the
    # 7.89 GiB helper's start needs in the group.
    hog = subprocess.Popen([sys.executable, "-c", "import sys, time; sys.path.insert(0, %r); import gpu_state; "
                            "gpu_state.set_mine(20000); print('ok', flush=True); time.sleep(120)"
                            % os.path.join(ROOT, "tests/fixtures")], env=env.env, stdout=subprocess.PIPE)
    hog.stdout.readline()
    try:
        st, _, body = complete(p, "helper")
        msg = body.decode()
        check("refused: 502", st == 502, (st, msg))
        check("refused: why", "'helper' needs 7.89 GiB free at its start in group 'pair'" in msg and
              "has 4.47 GiB free of 24.00 GiB" in msg, msg)
        check("refused: reported", "proxy: role 'helper' failed to start 1 time: 'helper' needs" in env.stderr(p))
    finally:
        hog.kill()
        hog.wait()
    p.terminate()
    p.wait(30)


def edited(env, name, section, edit):
    """A copy of the table with edit(bytes, offset, size) applied to each record of section."""
    b = bytearray(open(env.table, "rb").read())
    nsec, at = struct.unpack_from("<II", b, 24)
    for i in range(nsec):
        typ, off, count, size = struct.unpack_from("<IIII", b, at + 16 * i)
        if typ == section:
            for k in range(count):
                edit(b, off + k * size)
    path = os.path.join(env.dir, name)
    open(path, "wb").write(b)
    return path


def kv_bytes(env):
    # A member flagged for --kv-cache-memory-bytes (MT_GM_F_KV_BYTES; modelc passes the share
    # today) gets the KV bytes its share buys in place of the share.
    def flag_helper(b, at):
        if struct.unpack_from("<I", b, at)[0] == 1:  # role 1: helper
            struct.pack_into("<I", b, at + 28, 1)
    table = edited(env, "kv.table", 7, flag_helper)
    p = env.start(table=table)
    check("kv: chat alone", complete(p, "chat")[0] == 200)
    check("kv: helper", complete(p, "helper")[0] == 200)
    run = running(p)
    lim = run["helper"]["limits"]
    argv = argv_of(run["helper"]["pid"])
    check("kv: limits", run["helper"]["group"] == "pair" and set(lim) == {"max_model_len", "kv_cache_memory_bytes"} and
          lim["kv_cache_memory_bytes"] > 0, run["helper"])
    check("kv: argv", flag(argv, "--kv-cache-memory-bytes") == str(lim.get("kv_cache_memory_bytes")) and
          "--gpu-memory-utilization" not in argv, argv)
    m = request(p.port, "GET", "/metrics")[2].decode().splitlines()
    check("kv: metrics", 'switch_proxy_instance_kv_cache_memory_bytes{role="helper",group="pair"} %s'
          % lim.get("kv_cache_memory_bytes") in m, m)
    p.terminate()
    p.wait(30)


def bad_table(env):
    # A serving record with sleep level 7: the proxy refuses the table and says to rebuild it.
    bad = edited(env, "bad.table", 8, lambda b, at: struct.pack_into("<I", b, at + 4, 7))
    r = subprocess.run([env.proxy, "--table", bad, "--dry-run"], env=env.env, capture_output=True, text=True)
    check("bad table: refused", r.returncode == 1 and "its serving sections (groups, ttl, sleep mode, aliases)" in
          r.stderr and "rebuild it with 'modelc build'" in r.stderr, (r.returncode, r.stderr))
    r = subprocess.run([env.proxy, "--table", env.table, "--dry-run", "--ttl", "x" * 70 + "=3"], env=env.env,
                       capture_output=True, text=True)
    check("long role name", r.returncode == 2 and "too many overrides or too long a role name" in r.stderr, r.stderr)
    r = subprocess.run([env.proxy, "--table", env.table, "--dry-run", "--sleep-level", "chat=3"], env=env.env,
                       capture_output=True, text=True)
    check("bad level", r.returncode == 2 and "--sleep-level 'chat=3' is not a level from 0 to 2, or ROLE=N"
          in r.stderr, r.stderr)
    r = subprocess.run([env.proxy, "--table", env.table, "--dry-run", "--ttl", "chatt=3"], env=env.env,
                       capture_output=True, text=True)
    check("unknown role override", r.returncode == 1 and "unknown role, path or repo 'chatt'" in r.stderr, r.stderr)


def main():
    env = Env(catalog="tests/fixtures/proxy", gpu_total_mib=GPU_MIB)
    try:
        dry_run(env)
        bad_table(env)
        together(env)
        ttl(env)
        preload(env)
        refused(env)
        kv_bytes(env)
    finally:
        env.close()
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
