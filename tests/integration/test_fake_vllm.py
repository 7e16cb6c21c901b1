"""The stand-in `vllm` (tests/fixtures/vllm) behaves as documented: flags, recording,
start-up, endpoints, streaming, error modes, signals. Timing checks are lower bounds only."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VLLM = os.path.join(ROOT, "tests", "fixtures", "vllm")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def clean_env(**kw):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_VLLM_")}
    env["FAKE_VLLM_MAX_LIFETIME_S"] = "30"
    env.update({k: str(v) for k, v in kw.items()})
    return env


def run(args, **env):
    return subprocess.run([VLLM] + args, env=clean_env(**env), capture_output=True,
                          text=True, timeout=30)


class Server:
    def __init__(self, args=(), **env):
        self.tmp = tempfile.mkdtemp()
        self.portfile = os.path.join(self.tmp, "port")
        env["FAKE_VLLM_PORT_FILE"] = self.portfile
        self.p = subprocess.Popen([VLLM, "serve", "org/model", "--host", "127.0.0.1",
                                   "--port", "0"] + list(args),
                                  env=clean_env(**env), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while not os.path.exists(self.portfile):
            if self.p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("stand-in did not start: " + self.p.stderr.read())
            time.sleep(0.02)
        self.port = int(open(self.portfile).read())

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def request(self, method, path, body=None, headers=None):
        c = self.conn()
        h = {"content-type": "application/json"}
        h.update(headers or {})
        c.request(method, path, body=None if body is None else json.dumps(body), headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def stop(self, sig=signal.SIGTERM):
        self.p.send_signal(sig)
        _, err = self.p.communicate(timeout=10)
        return self.p.returncode, err


def sse_events(resp):
    """Read server-sent events; returns (payloads, complete) where complete means the body
    ended normally (the chunked terminator arrived)."""
    buf, events = b"", []
    try:
        while True:
            chunk = resp.read1(65536)
            if not chunk:
                break
            buf += chunk
            while b"\n\n" in buf:
                ev, buf = buf.split(b"\n\n", 1)
                events.append(ev.decode()[len("data: "):])
        return events, True
    except http.client.IncompleteRead:
        return events, False


def test_flags():
    r = run(["serve", "m", "--max-model-len", "4096", "--no-such-flag"])
    check(r.returncode == 2, "unknown flag exits 2")
    check("vllm serve: error: unrecognized arguments: --no-such-flag" in r.stderr, "unknown flag message")
    r = run(["serve", "m", "--dtype", "fp7"])
    check(r.returncode == 2 and "argument --dtype: invalid choice: 'fp7'" in r.stderr, "bad choice")
    r = run(["serve", "m", "--max-model-len", "8q"])
    check(r.returncode == 2 and "invalid human-readable int value: '8q'" in r.stderr, "bad human int")
    r = run(["serve", "m", "--host", "0.0.0.0"])
    check(r.returncode == 2 and
          "fake vllm: refusing to bind '0.0.0.0': the stand-in serves on 127.0.0.0/8 only" in r.stderr,
          "non-loopback host refused")
    r = run(["start", "m"])
    check(r.returncode == 2 and "invalid choice: 'start'" in r.stderr, "subcommand other than serve")


def test_record_and_oom():
    tmp = tempfile.mkdtemp()
    rec = os.path.join(tmp, "rec.json")
    args = ["serve", "/models/x", "--served-model-name", "primary", "--max-model-len", "8k",
            "--gpu-memory-utilization", "0.9", "--quantization", "None", "--enforce-eager",
            "--host", "127.0.0.1", "--port", "0"]
    r = run(args, FAKE_VLLM_RECORD=rec, FAKE_VLLM_MODE="oom", FAKE_VLLM_OOM_ABOVE="4096",
            HF_HUB_OFFLINE="1")
    check(r.returncode == 1, "oom exits 1")
    check("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate" in r.stderr, "cuda oom text")
    check("the estimated maximum model length is 4096" in r.stderr, "kv estimate text")
    check("larger than the maximum number of tokens that can be stored in KV cache (4096)" in r.stderr,
          "kv cache text")
    d = json.load(open(rec))
    check(d["argv"][1:] == args, "argv recorded")
    check(d["env"].get("HF_HUB_OFFLINE") == "1", "environment recorded")
    r = run(["serve", "m", "--max-model-len", "4096", "--port", "0"], FAKE_VLLM_MODE="oom",
            FAKE_VLLM_OOM_ABOVE="4096", FAKE_VLLM_OOM_KIND="kv", FAKE_VLLM_MAX_LIFETIME_S="0.2")
    check(r.returncode == 0 and "Uvicorn running on http://127.0.0.1:" in r.stderr,
          "oom mode starts when the context fits")
    r = run(["serve", "m", "--port", "0"], FAKE_VLLM_MODE="crash")
    check(r.returncode == 1 and "Engine core initialization failed" in r.stderr, "crash mode")


def test_startup_waits():
    port = free_port()
    t0 = time.monotonic()
    p = subprocess.Popen([VLLM, "serve", "m", "--port", str(port)],
                         env=clean_env(FAKE_VLLM_MODE="slow", FAKE_VLLM_STARTUP_S="1"),
                         stderr=subprocess.PIPE, text=True)
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.02)
        if time.monotonic() - t0 > 20:
            break
    check(time.monotonic() - t0 >= 1.0, "does not listen before the start-up delay")
    # A second server on the same port fails like uvicorn.
    r = run(["serve", "m", "--port", str(port)])
    check(r.returncode == 1 and "error while attempting to bind on address ('127.0.0.1', %d)" % port in r.stderr,
          "port in use")
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=10)
    check(p.returncode == 0, "SIGINT exits 0")


def test_endpoints():
    s = Server(["--served-model-name", "primary", "--max-model-len", "64", "--api-key", "k1"],
               FAKE_VLLM_TTFT_BASE_MS="20", FAKE_VLLM_TTFT_PER_TOKEN_MS="1", FAKE_VLLM_ITL_MS="5")
    auth = {"authorization": "Bearer k1"}
    st, body = s.request("GET", "/health")
    check(st == 200 and body == b"", "health")
    st, body = s.request("GET", "/v1/models")
    check(st == 401, "api key required")
    st, body = s.request("GET", "/v1/models", headers=auth)
    d = json.loads(body)
    check(d["data"][0]["id"] == "primary" and d["data"][0]["max_model_len"] == 64, "models")
    st, body = s.request("POST", "/tokenize", {"model": "primary", "prompt": "a b  c\nd"})
    d = json.loads(body)
    check(st == 200 and d["count"] == 4 and len(d["tokens"]) == 4 and d["max_model_len"] == 64,
          "tokenize counts words")
    words = " ".join(["w"] * 30)
    t0 = time.monotonic()
    st, body = s.request("POST", "/v1/completions",
                         {"model": "primary", "prompt": words, "max_tokens": 5}, auth)
    el = time.monotonic() - t0
    d = json.loads(body)
    check(st == 200 and d["usage"] == {"prompt_tokens": 30, "completion_tokens": 5, "total_tokens": 35},
          "usage counts")
    check(len(d["choices"][0]["text"].split()) == 5, "non-stream honours max_tokens")
    check(el >= 0.020 + 0.030 + 4 * 0.005, "non-stream waits ttft + itl")
    # Streaming with usage.
    c = s.conn()
    t0 = time.monotonic()
    c.request("POST", "/v1/completions", json.dumps({
        "model": "primary", "prompt": words, "max_tokens": 4, "stream": True,
        "stream_options": {"include_usage": True}}), {**auth, "content-type": "application/json"})
    r = c.getresponse()
    first = r.read1(65536)
    ttft = time.monotonic() - t0
    check(ttft >= 0.050, "time to first token >= base + per_token * prompt")
    check(r.getheader("content-type").startswith("text/event-stream"), "sse content type")
    rest, complete = sse_events(r)
    evs = [first.decode().split("\n\n")[0][6:]] + rest
    check(complete and evs[-1] == "[DONE]", "stream ends with [DONE]")
    toks = [json.loads(e) for e in evs[:-1]]
    texts = [t["choices"][0]["text"] for t in toks if t["choices"]]
    check(texts == [" t0", " t1", " t2", " t3"], "stream honours max_tokens")
    check(toks[-1]["usage"]["completion_tokens"] == 4 and toks[-1]["usage"]["prompt_tokens"] == 30,
          "stream usage chunk")
    c.close()
    # Errors.
    st, body = s.request("POST", "/v1/completions",
                         {"model": "primary", "prompt": " ".join(["w"] * 64)}, auth)
    d = json.loads(body)
    check(st == 400 and d["error"]["message"].startswith(
        "This model's maximum context length is 64 tokens. However, your request has 64 input tokens."),
        "prompt longer than max_model_len")
    st, body = s.request("POST", "/v1/completions",
                         {"model": "primary", "prompt": "a b", "max_tokens": 63}, auth)
    check(st == 400 and "'max_tokens' or 'max_completion_tokens' is too large: 63." in body.decode(),
          "prompt + max_tokens too long")
    st, body = s.request("POST", "/v1/completions", {"model": "other", "prompt": "a"}, auth)
    check(st == 404 and "The model `other` does not exist." in body.decode(), "unknown model")
    st, _ = s.request("GET", "/nope")
    check(st == 404, "unknown path")
    rc, err = s.stop()
    check(rc == 0 and "Application shutdown complete." in err, "SIGTERM exits 0")


def test_concurrency_cut_status_lifetime():
    s = Server(["--max-model-len", "4096"], FAKE_VLLM_ITL_MS="20")
    c = s.conn()
    c.request("POST", "/v1/completions", json.dumps({"prompt": "x", "max_tokens": 200, "stream": True}),
              {"content-type": "application/json"})
    r = c.getresponse()
    r.read1(65536)
    st, _ = s.request("POST", "/v1/completions", {"prompt": "y", "max_tokens": 1})
    more = r.read1(65536)
    check(st == 200 and more and b"[DONE]" not in more, "a second request is served during a stream")
    c.close()
    s.stop()

    s = Server([], FAKE_VLLM_MODE="cut")
    c = s.conn()
    c.request("POST", "/v1/completions", json.dumps({"prompt": "x", "max_tokens": 10, "stream": True}),
              {"content-type": "application/json"})
    evs, complete = sse_events(c.getresponse())
    check(not complete and "[DONE]" not in evs and len(evs) == 5, "cut mode stops mid-way")
    s.stop()

    s = Server([], FAKE_VLLM_MODE="stream_error")
    c = s.conn()
    c.request("POST", "/v1/completions", json.dumps({"prompt": "x", "max_tokens": 4, "stream": True}),
              {"content-type": "application/json"})
    evs, complete = sse_events(c.getresponse())
    check(complete and len(evs) == 4 and json.loads(evs[2])["error"]["code"] == 500 and evs[3] == "[DONE]",
          "stream_error mode sends an error event, then [DONE]")
    s.stop()

    s = Server([], FAKE_VLLM_STATUS_FOR_COMPLETIONS="500", FAKE_VLLM_MAX_LIFETIME_S="1.5")
    st, body = s.request("POST", "/v1/completions", {"prompt": "x"})
    check(st == 500 and json.loads(body)["error"]["code"] == 500, "forced status")
    s.p.wait(timeout=15)
    err = s.p.stderr.read()
    check(s.p.returncode == 0 and "fake vllm: lifetime of 1.5 s over; exiting" in err, "bounded lifetime")

    s = Server([], FAKE_VLLM_NO_TOKENIZE="1")
    st, _ = s.request("POST", "/tokenize", {"prompt": "x"})
    check(st == 404, "no /tokenize when asked")
    s.stop()


for t in (test_flags, test_record_and_oom, test_startup_waits, test_endpoints,
          test_concurrency_cut_status_lifetime):
    t()
print("fake vllm: %d failures" % len(failures))
sys.exit(1 if failures else 0)
