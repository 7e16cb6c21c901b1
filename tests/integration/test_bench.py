"""bench against the stand-in vLLM (tests/fixtures/vllm) and a hand-made broken server.

The accuracy check is a correctness check of the measurement, not a performance assertion:
the stand-in sleeps a configured time to first token (base + per-token x prompt tokens) and
between tokens, and bench must recover those values within 5 % or 2 ms, whichever is larger.
"""

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("BIN", os.path.join(ROOT, "build", "bin"))
BENCH = os.path.join(BIN, "bench")
VLLM = os.path.join(ROOT, "tests", "fixtures", "vllm")
failures = []

if not os.access(BENCH, os.X_OK):
    print("bench is not built (%s)" % BENCH)
    sys.exit(1)


def check(cond, what, detail=""):
    if not cond:
        failures.append(what)
        print("FAIL:", what, detail)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Stand:
    """The stand-in vLLM on a free loopback port, with a latency model."""

    def __init__(self, args=(), **env):
        self.tmp = tempfile.mkdtemp()
        e = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_VLLM_")}
        e.update({"FAKE_VLLM_MAX_LIFETIME_S": "60", "FAKE_VLLM_PORT_FILE": os.path.join(self.tmp, "port")})
        e.update({k: str(v) for k, v in env.items()})
        self.p = subprocess.Popen([VLLM, "serve", "org/model", "--host", "127.0.0.1", "--port", "0"] + list(args),
                                  env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not os.path.exists(e["FAKE_VLLM_PORT_FILE"]):
            if self.p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the stand-in did not start")
            time.sleep(0.02)
        self.url = "http://127.0.0.1:%d" % int(open(e["FAKE_VLLM_PORT_FILE"]).read())

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(timeout=10)
        shutil.rmtree(self.tmp, ignore_errors=True)


SCRATCH = tempfile.mkdtemp()


def bench(args, cwd=None, env=None):
    """Run bench in a scratch folder unless told otherwise, so no generated/ of the checkout leaks in."""
    cwd = cwd or SCRATCH
    e = dict(os.environ)
    e.pop("MODELC_ACTIVE_ROLE", None)
    e["PATH"] = "/usr/bin:/bin"  # no nvidia-smi: the gpu column says "unknown"
    e.update(env or {})
    for _ in range(20):
        try:
            return subprocess.run([BENCH] + args, capture_output=True, text=True, timeout=120, cwd=cwd, env=e)
        except OSError as ex:  # ETXTBSY or EACCES: a parallel `make` is relinking build/bin/bench
            if ex.errno not in (13, 26):
                raise
            time.sleep(0.5)
    raise RuntimeError("build/bin/bench stayed busy")


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def close(measured, want):
    return abs(measured - want) <= max(0.05 * want, 2.0)


def test_accuracy():
    base, per_tok, itl = 30.0, 0.02, 8.0
    s = Stand(["--served-model-name", "primary", "--max-model-len", "2048"], FAKE_VLLM_TTFT_BASE_MS=base,
              FAKE_VLLM_TTFT_PER_TOKEN_MS=per_tok, FAKE_VLLM_ITL_MS=itl)
    out = tempfile.mkdtemp()
    r = bench(["primary", "--url", s.url, "--lengths", "32,256,1k,4k", "--reps", "3", "--warmup", "1",
               "--max-tokens", "12", "--concurrency", "3", "--out", out])
    s.stop()
    check(r.returncode == 0, "bench runs against the stand-in", r.stderr)
    check("bench: note: 1 of 4 lengths do not fit max_model_len 2048 with 12 output tokens; "
          "measuring up to 2036 instead\n" in r.stderr, "ladder capped at max_model_len", r.stderr)
    check("bench: 32 tokens, concurrency 1, 3 repetitions\nbench: 256 tokens, concurrency 1, 3 repetitions\n"
          in r.stderr and "bench: 2036 tokens, concurrency 3, 3 repetitions\n" in r.stderr, "progress events", r.stderr)
    rs = rows(os.path.join(out, "primary.csv"))
    header = open(os.path.join(out, "primary.csv")).readline().strip()
    doc = open(os.path.join(ROOT, "docs", "bench.md")).read()
    check(header in doc, "the CSV header is the one docs/bench.md documents", header)
    c1 = [x for x in rs if x["concurrency"] == "1"]
    c3 = [x for x in rs if x["concurrency"] == "3"]
    check(len(c1) == 4 * 3 and len(c3) == 4 * 3 * 3, "one row per length and repetition", "%d %d" % (len(c1), len(c3)))
    for x in rs:
        check(x["prompt_tokens"] == x["target_tokens"] and x["exact"] == "1", "exact prompt length", str(x))
        check(x["output_tokens"] == "12", "max_tokens honoured", str(x))
        check(x["role"] == "primary" and x["model"] == "primary" and x["gpu"] == "unknown"
              and x["server_flags"] == "--max-model-len 2048", "metadata columns", str(x))
    for target in ("32", "256", "1024", "2036"):
        g = [x for x in c1 if x["target_tokens"] == target]
        want_ttft = base + per_tok * int(target)
        # The stand-in can be late (a busy CPU wakes its thread late) but never early, so the
        # fastest repetition shows the measurement's own error; none may read below the model.
        ttfts = [float(x["ttft_ms"]) for x in g]
        ttft = min(ttfts)
        check(all(t >= want_ttft - max(0.05 * want_ttft, 2.0) for t in ttfts), "no TTFT below the configured value",
              str(ttfts))
        itls = [float(x["itl_ms"]) for x in g]
        mean_itl = sum(itls) / len(itls)
        p50 = median([float(x["itl_p50_ms"]) for x in g])
        check(close(ttft, want_ttft), "TTFT recovered at %s tokens" % target, "%.2f vs %.2f" % (ttft, want_ttft))
        check(close(mean_itl, itl), "ITL recovered at %s tokens" % target, "%.2f vs %.2f" % (mean_itl, itl))
        check(close(p50, itl), "ITL p50 recovered at %s tokens" % target, "%.2f" % p50)
        tps = median([float(x["tokens_per_s"]) for x in g])
        check(abs(tps - 1000.0 / itl) <= 0.05 * 1000.0 / itl + 10, "tokens/s is 1000/ITL", "%.1f" % tps)
    svg = os.path.join(out, "primary.svg")
    x = subprocess.run(["xmllint", "--noout", svg], capture_output=True, text=True)
    check(x.returncode == 0, "the SVG is valid XML", x.stderr)
    check("concurrency 3" in open(svg).read(), "the SVG shows both concurrencies")
    check("primary (primary) on unknown, max_model_len 2048\n" in r.stdout and "wrote %s/primary.csv" % out in r.stdout,
          "table printed", r.stdout)
    # The compiler's reader gets the time to first token at the configured context back.
    shutil.rmtree(out)


def test_generated_role_and_json():
    s = Stand(["--served-model-name", "code", "--max-model-len", "1024"])
    work = tempfile.mkdtemp()
    os.makedirs(os.path.join(work, "generated", "manifests"))
    with open(os.path.join(work, "generated", ".env"), "w") as f:
        f.write("# generated\nMODELC_ACTIVE_ROLE='code'\nCODE_MAX_MODEL_LEN='2048'\nCODE_MODEL_ID='bigcode/x'\n"
                "CODE_KV_CACHE_DTYPE='fp8'\nCODE_GPU_MEMORY_UTILIZATION='0.85'\nCODE_QUANTIZATION='fp8'\n")
    with open(os.path.join(work, "generated", "manifests", "code.json"), "w") as f:
        json.dump({"role": "code", "commit": "c" * 40}, f)
    r = bench(["--url", s.url, "--lengths", "16,64", "--reps", "1", "--warmup", "0", "--max-tokens", "4",
               "--json"], cwd=work)
    check(r.returncode == 0, "role from generated/.env", r.stderr)
    check("bench: warning: the server runs 'code' with max_model_len 1024, generated/.env says 2048\n" in r.stderr,
          "max_model_len mismatch warning", r.stderr)
    d = json.loads(r.stdout)
    check(d["role"] == "code" and d["commit"] == "c" * 40 and d["max_model_len"] == 1024
          and d["server_flags"] == "--max-model-len 1024 --gpu-memory-utilization 0.85 --kv-cache-dtype fp8 "
          "--quantization fp8" and len(d["points"]) == 2 and d["exact_lengths"] is True, "json summary", r.stdout)
    rs = rows(os.path.join(work, "measurements", "code.csv"))
    check(rs[0]["commit"] == "c" * 40, "commit column from the manifest")
    # Same role through MODELC_ACTIVE_ROLE in the environment, and --model naming a missing model.
    r = bench(["--url", s.url, "--model", "nope"], cwd=work)
    check(r.returncode == 1 and r.stderr == "bench: --model: the server at %s does not serve 'nope'; it serves 'code'\n"
          % s.url, "unknown model", r.stderr)
    r = bench(["--url", s.url, "--lengths", "16", "--reps", "1", "--warmup", "0", "--max-tokens", "4", "--gpu", "X",
               "--server-flags", "--enforce-eager", "--out", "m2"], cwd=work, env={"MODELC_ACTIVE_ROLE": "code"})
    check(r.returncode == 0, "MODELC_ACTIVE_ROLE", r.stderr)
    rs = rows(os.path.join(work, "m2", "code.csv"))
    check(rs[0]["gpu"] == "X" and rs[0]["server_flags"] == "--enforce-eager", "--gpu and --server-flags")
    # The role switch recorded in .active_model comes before generated/.env's active role.
    with open(os.path.join(work, "active"), "w") as f:
        f.write("# written by switch\nrole=other\nmodel_id=bigcode/x\n")
    r = bench(["--url", s.url, "--lengths", "16", "--reps", "1", "--warmup", "0", "--max-tokens", "4",
               "--out", "m3"], cwd=work, env={"MODELC_ACTIVE_FILE": os.path.join(work, "active")})
    check(r.returncode == 0 and os.path.exists(os.path.join(work, "m3", "other.csv")), "role from .active_model",
          r.stderr)
    s.stop()
    # A served name that cannot be a file name and no role.
    s = Stand([])
    empty = tempfile.mkdtemp()
    r = bench(["--url", s.url, "--lengths", "16", "--reps", "1", "--max-tokens", "4"], cwd=empty)
    check(r.returncode == 2 and r.stderr == "bench: 'org/model' cannot name an output file; give a ROLE\n",
          "served name with a slash needs a role", r.stderr)
    r = bench(["primary", "--url", s.url, "--lengths", "16", "--reps", "1", "--max-tokens", "4"], cwd=empty)
    check(r.returncode == 0 and os.path.exists(os.path.join(empty, "measurements", "primary.csv")),
          "the only served model is used for a role", r.stderr)
    s.stop()
    shutil.rmtree(work)
    shutil.rmtree(empty)


def expect_error(args, code, text, what, env=None):
    r = bench(args, env=env)
    check(r.returncode == code and text in r.stderr, what, "exit %d: %s" % (r.returncode, r.stderr))
    return r


def test_errors():
    out = tempfile.mkdtemp()
    base = ["primary", "--lengths", "16", "--reps", "1", "--warmup", "0", "--max-tokens", "10", "--out", out]
    port = free_port()
    expect_error(["--url", "http://127.0.0.1:%d" % port] + base, 3,
                 "bench: GET http://127.0.0.1:%d/v1/models: cannot connect: " % port, "server down")
    r = bench(["--url", "http://127.0.0.1:%d" % port] + base)
    check("(is the server running? start it with 'switch serve')\n" in r.stderr, "server down hint", r.stderr)

    s = Stand(["--served-model-name", "primary"], FAKE_VLLM_STATUS_FOR_COMPLETIONS="503")
    r = expect_error(["--url", s.url] + base, 3,
                     "bench: POST %s/v1/completions: HTTP 503: fake vllm: forced status 503\n" % s.url, "HTTP 5xx")
    check("bench: nothing written to %s\n" % out in r.stderr and not os.listdir(out), "nothing written on error")
    s.stop()
    s = Stand(["--served-model-name", "primary"], FAKE_VLLM_STATUS_FOR_COMPLETIONS="429")
    expect_error(["--url", s.url] + base, 1,
                 "bench: POST %s/v1/completions: HTTP 429: fake vllm: forced status 429\n" % s.url, "HTTP 4xx")
    s.stop()
    s = Stand(["--served-model-name", "primary"], FAKE_VLLM_MODE="cut")
    expect_error(["--url", s.url] + base, 3,
                 "bench: POST %s/v1/completions: the stream was cut after 5 token events without 'data: [DONE]': "
                 % s.url, "stream cut mid-way")
    s.stop()
    s = Stand(["--served-model-name", "primary", "--api-key", "k1"])
    expect_error(["--url", s.url] + base, 1, "bench: GET %s/v1/models: HTTP 401: Unauthorized\n" % s.url,
                 "HTTP 4xx on /v1/models (no API key)", env={"VLLM_API_KEY": "", "OPENAI_API_KEY": ""})
    r = bench(["--url", s.url] + base, env={"VLLM_API_KEY": "k1"})
    check(r.returncode == 0 and "k1" not in r.stdout + r.stderr, "VLLM_API_KEY is sent and never printed", r.stderr)
    s.stop()
    s = Stand(["--served-model-name", "primary"], FAKE_VLLM_MODE="stream_error")
    expect_error(["--url", s.url] + base, 3,
                 "bench: POST %s/v1/completions: the server reported an error mid-stream: "
                 "fake vllm: error in the middle of a stream\n" % s.url, "error event mid-stream")
    s.stop()
    s = Stand(["--served-model-name", "primary"], FAKE_VLLM_ITL_MS="300")
    expect_error(["--url", s.url, "--timeout", "0.5"] + base, 3,
                 "bench: POST %s/v1/completions: timed out after 0.5 s\n" % s.url, "timeout")
    s.stop()
    s = Stand(["--served-model-name", "primary", "--max-model-len", "64"], FAKE_VLLM_NO_TOKENIZE="1")
    r = bench(["--url", s.url, "primary", "--lengths", "16,32", "--reps", "2", "--warmup", "1", "--max-tokens", "4",
               "--out", out])
    check(r.returncode == 0 and "bench: warning: the server has no /tokenize: prompt lengths are approximate "
          "(one word taken as one token)\n" in r.stderr, "no /tokenize: approximate lengths", r.stderr)
    check("prompt lengths are approximate (the server has no /tokenize)" in r.stdout, "table says approximate")
    check(all(x["exact"] == "0" for x in rows(os.path.join(out, "primary.csv"))), "exact column 0")
    # An --out that is a file: the temp file cannot be made there.
    blocker = os.path.join(out, "file")
    open(blocker, "w").close()
    expect_error(["--url", s.url, "primary", "--lengths", "16", "--reps", "1", "--max-tokens", "4", "--out", blocker],
                 3, "bench: cannot create a temp file beside %s/primary.csv: Not a directory\n" % blocker,
                 "unwritable output folder")
    s.stop()
    shutil.rmtree(out)


def test_usage():
    for args, text in ((["--bogus"], "bench: unknown option '--bogus'\n"),
                       (["--reps"], "bench: option '--reps' needs a value\n"),
                       (["--reps", "0"], "bench: --reps: '0' is not a valid value\n"),
                       (["--timeout", "x"], "bench: --timeout: 'x' is not a valid value\n"),
                       (["a", "b"], "bench: more than one role given: 'b'\n"),
                       (["../x"], "bench: '../x' is not a role name\n"),
                       (["--lengths", "1k,abc"],
                        "bench: --lengths: 'abc' is not a length (expected a token count such as 512 or 4k)\n")):
        r = bench(args)
        check(r.returncode == 2 and r.stderr.startswith(text) and "usage: bench [ROLE]" in r.stderr,
              "usage error %s" % args, r.stderr)
    r = bench(["--url", "/"])
    check(r.returncode == 3 and r.stderr == "bench: '/' is not a usable URL\n", "bad URL", r.stderr)
    r = bench(["--help"])
    check(r.returncode == 0 and r.stdout.startswith("usage: bench [ROLE]"), "--help")
    r = bench(["--version"])
    check(r.returncode == 0 and r.stdout.startswith("bench "), "--version")


class Broken(BaseHTTPRequestHandler):
    """A server that answers in ways vLLM never should."""
    protocol_version = "HTTP/1.1"
    mode = "nomodels"

    def log_message(self, *a):
        pass

    def reply(self, body, ctype="application/json"):
        b = body.encode()
        self.send_response(200)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def do_GET(self):
        if Broken.mode == "nomodels":
            self.reply('{"object": "list", "data": []}')
        elif Broken.mode == "notjson":
            self.reply("<html>hello</html>", "text/html")
        else:
            self.reply('{"data": [{"id": "primary", "max_model_len": 4096}]}')

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.path == "/tokenize":
            self.reply('{"nothing": 1}' if Broken.mode == "badtokenize" else '{"count": 16}')
            return
        if Broken.mode == "badevent":
            self.reply("data: {not json\n\n", "text/event-stream")
        elif Broken.mode == "notokens":
            self.reply("data: [DONE]\n\n", "text/event-stream")
        elif Broken.mode == "longevent":
            self.reply("data: " + "x" * (1 << 20) + "y" * 1000, "text/event-stream")


def test_protocol_errors():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d" % srv.server_address[1]
    base = ["primary", "--url", url, "--lengths", "16", "--reps", "1", "--warmup", "0", "--max-tokens", "4",
            "--out", tempfile.mkdtemp()]
    cases = (("nomodels", "bench: GET %s/v1/models: the server lists no model\n" % url),
             ("notjson", "bench: GET %s/v1/models: the answer is not JSON: " % url),
             ("badtokenize", "bench: POST %s/tokenize: the answer has neither 'count' nor 'tokens'\n" % url),
             ("badevent", "bench: POST %s/v1/completions: an event is not JSON: " % url),
             ("longevent", "bench: POST %s/v1/completions: an event is longer than 1 MiB\n" % url),
             ("notokens", "bench: POST %s/v1/completions: the stream ended without a single token\n" % url))
    for mode, text in cases:
        Broken.mode = mode
        expect_error(base, 3, text, "protocol error: " + mode)
    srv.shutdown()


for t in (test_accuracy, test_generated_role_and_json, test_errors, test_usage, test_protocol_errors):
    t()
shutil.rmtree(SCRATCH, ignore_errors=True)
print("bench: %d failures" % len(failures))
sys.exit(1 if failures else 0)
