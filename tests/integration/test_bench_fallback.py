"""tests/device/bench_fallback.py (the Python client bench_gpu.sh falls back to) measures like
bench: against the stand-in vLLM it writes bench's CSV columns and recovers the configured time
to first token and inter-token latency within 10 % or 5 ms at every length (looser than bench's
5 % or 2 ms: its clock is read by a Python loop, which lags on a loaded machine)."""

import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
tmp = tempfile.mkdtemp()
env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_VLLM_")}
env.update(FAKE_VLLM_PORT_FILE=os.path.join(tmp, "port"), FAKE_VLLM_MAX_LIFETIME_S="60",
           FAKE_VLLM_TTFT_BASE_MS="30", FAKE_VLLM_TTFT_PER_TOKEN_MS="0.02", FAKE_VLLM_ITL_MS="8")
srv = subprocess.Popen([os.path.join(ROOT, "tests", "fixtures", "vllm"), "serve", "m", "--served-model-name", "stub",
                        "--max-model-len", "2048", "--port", "0"], env=env, stderr=subprocess.DEVNULL)
while not os.path.exists(env["FAKE_VLLM_PORT_FILE"]):
    time.sleep(0.02)
url = "http://127.0.0.1:%s" % open(env["FAKE_VLLM_PORT_FILE"]).read().strip()
r = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "device", "bench_fallback.py"), "stub", "--url", url,
                    "--lengths", "32,512,4k", "--reps", "3", "--warmup", "1", "--max-tokens", "10",
                    "--out", tmp], capture_output=True, text=True, timeout=120)
srv.send_signal(signal.SIGTERM)
srv.wait(timeout=10)
fails = []
if r.returncode != 0:
    fails.append("exit %d: %s" % (r.returncode, r.stderr))
else:
    header = open(os.path.join(tmp, "stub.csv")).readline().strip()
    if header not in open(os.path.join(ROOT, "docs", "bench.md")).read():
        fails.append("header differs from docs/bench.md: " + header)
    rows = list(csv.DictReader(open(os.path.join(tmp, "stub.csv"))))
    for target in ("32", "512", "2038"):
        g = sorted(float(x["ttft_ms"]) for x in rows if x["target_tokens"] == target)
        want = 30 + 0.02 * int(target)
        # The fastest repetition: the stand-in can be late on a busy CPU, never early.
        if len(g) != 3 or abs(g[0] - want) > max(0.10 * want, 5):
            fails.append("TTFT at %s: %s, want %.2f" % (target, g, want))
        itl = [float(x["itl_ms"]) for x in rows if x["target_tokens"] == target]
        if abs(sum(itl) / len(itl) - 8) > 2:
            fails.append("ITL at %s: %s" % (target, itl))
    if subprocess.run(["xmllint", "--noout", os.path.join(tmp, "stub.svg")]).returncode != 0:
        fails.append("SVG is not valid XML")
shutil.rmtree(tmp)
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
