#!/usr/bin/env python3
"""switch proxy under load and faults, against the stand-in vLLM on loopback (bounded: about
30 s). 200 concurrent streaming requests across three roles that cannot share the GPU, so the
proxy swaps during the load: every response is complete and byte for byte what the upstream sent
(the stand-in records each streamed body), none lost, none duplicated; the proxy's memory is
reported and bounded. Then: an upstream killed mid-stream gives an error event and [DONE], and
the next request starts it again; a client that disconnects cancels its upstream request; a
start slower than the start timeout gives a clear error."""
import json
import os
import re
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxy_env import Env, dechunk, fail, get_json, request, verdict  # noqa: E402

ROLES = ["fallback", "math", "secondary"]
N = 200


def vmrss(pid):
    with open("/proc/%d/status" % pid) as f:
        st = dict(line.split(":", 1) for line in f)
    return int(st["VmRSS"].split()[0]), int(st["VmHWM"].split()[0])


def load(env):
    p = env.start("--queue", "256", "--drain-timeout", "20",
                  env={"FAKE_VLLM_ITL_MS": "2", "FAKE_VLLM_TTFT_BASE_MS": "5"})
    results = [None] * N
    rss_samples = []

    def one(i):
        # four waves of 50, so that requests for a role not resident arrive while others stream
        time.sleep((i // 50) * 0.15)
        role = ROLES[i % 3]
        body = {"model": role, "prompt": "request %d of the load test" % i, "max_tokens": 20 + i % 7,
                "stream": True}
        try:
            results[i] = request(p.port, "POST", "/v1/completions", body, timeout=60)
        except OSError as e:
            results[i] = (-1, str(e), b"")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(N)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        rss_samples.append(vmrss(p.pid)[0])
        time.sleep(0.05)
    took = time.monotonic() - t0
    ids = []
    for i, (st, head, raw) in enumerate(results):
        if st != 200:
            fail("request %d: status %d: %s %r" % (i, st, head, raw[:300]))
            continue
        body, complete = dechunk(raw)
        if not complete or not body.endswith(b"data: [DONE]\n\n"):
            fail("request %d: incomplete stream: %r" % (i, raw[-200:]))
            continue
        m = re.search(rb'"id": "(cmpl-fake-[0-9-]+)"', body)
        want_model = ROLES[i % 3].encode()
        if not m or b'"model": "' + want_model + b'"' not in body:
            fail("request %d: the stream is not from role %s: %r" % (i, ROLES[i % 3], body[:200]))
            continue
        ids.append(m.group(1).decode())
        with open(os.path.join(env.streams, m.group(1).decode() + ".sse"), "rb") as f:
            sent = f.read()
        if sent != raw:
            fail("request %d: the body differs from what the upstream sent" % i)
        n_tok = body.count(b'"text": " t')
        if n_tok != 20 + i % 7:
            fail("request %d: %d tokens, expected %d" % (i, n_tok, 20 + i % 7))
    if len(set(ids)) != len(ids):
        fail("duplicated responses: %d ids, %d distinct" % (len(ids), len(set(ids))))
    recorded = [f for f in os.listdir(env.streams) if f.endswith(".sse")]
    if len(recorded) != N:  # counted before the long streams below add theirs
        fail("the upstreams streamed %d responses for %d requests" % (len(recorded), N))
    metrics = request(p.port, "GET", "/metrics")[2].decode()
    swaps = sum(int(v) for v in re.findall(r'^switch_proxy_swaps_total\{[^}]*\} (\d+)$', metrics, re.M))
    if swaps < 3:
        fail("only %d swaps during the load; expected each of the three roles made resident while requests "
             "for the others waited" % swaps)
    rss, hwm = vmrss(p.pid)
    print("load: %d streaming requests over %s in %.1f s, %d swaps; proxy RSS %d KiB now, peak %d KiB "
          "(sampled max %d KiB)" % (N, ", ".join(ROLES), took, swaps, rss, hwm, max(rss_samples or [0])))
    if hwm > 64 * 1024:
        fail("the proxy's peak RSS of %d KiB is over 64 MiB" % hwm)
    running = get_json(p.port, "/running")
    if any(i["inflight"] or i["queued"] for i in running["instances"]):
        fail("requests still counted in flight or queued after the load: %s" % running)
    return p


def long_streams(env, p):
    """Streams longer than the proxy's buffer (16 KiB each way), several at once: backpressure."""
    res = [None] * 4

    def one(k):
        # a slow reader with a small receive buffer: the proxy's writes to it come back partial
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(30)
        s.connect(("127.0.0.1", p.port))
        b = json.dumps({"model": "math", "prompt": "long %d" % k, "max_tokens": 3000, "stream": True}).encode()
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))
        buf = b""
        try:
            while True:
                d = s.recv(2048)
                if not d:
                    break
                buf += d
                time.sleep(0.0002)
        except OSError:
            pass
        s.close()
        head, _, rest = buf.partition(b"\r\n\r\n")
        res[k] = (int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.") else -1, head, rest)

    ts = [threading.Thread(target=one, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for k, (st, _, raw) in enumerate(res):
        m = re.search(rb'"id": "(cmpl-fake-[0-9-]+)"', raw)
        sent = open(os.path.join(env.streams, m.group(1).decode() + ".sse"), "rb").read() if m else b""
        if st != 200 or len(raw) < 3 * 16384 or raw != sent:
            fail("long stream %d: status %d, %d bytes, identical to what was sent: %s" % (k, st, len(raw), raw == sent))


def upstream_killed(env, p):
    """Kill the resident upstream mid-stream: the client gets an error event, then [DONE]."""
    role = "fallback"
    box = {}

    def long_stream():
        box["r"] = request(p.port, "POST", "/v1/completions",
                           {"model": role, "prompt": "a long one", "max_tokens": 400, "stream": True}, timeout=60)

    t = threading.Thread(target=long_stream)
    t.start()
    pid = 0
    for _ in range(500):
        inst = [i for i in get_json(p.port, "/running")["instances"] if i["role"] == role][0]
        if inst["state"] == "ready" and inst["inflight"]:
            pid = inst["pid"]
            break
        time.sleep(0.02)
    time.sleep(0.1)
    if not pid:
        fail("upstream killed: role %s never became ready with a request in flight" % role)
        t.join()
        return
    os.kill(pid, signal.SIGKILL)
    t.join()
    st, head, raw = box["r"]
    body, complete = dechunk(raw)
    want = (b'data: {"error": {"message": "the server of role \'fallback\' ended the stream before it was '
            b'complete (it may have exited; the next request starts it again)", "type": "BadGateway", '
            b'"param": null, "code": 502}}\n\ndata: [DONE]\n\n')
    if st != 200 or not complete or not body.endswith(want):
        fail("upstream killed: expected the stream to end with an error event and [DONE], got %r" % raw[-400:])
    st, _, raw = request(p.port, "POST", "/v1/completions", {"model": role, "prompt": "again", "max_tokens": 2})
    if st != 200:
        fail("upstream killed: the next request got %d, expected a restarted server's 200: %r" % (st, raw))
    time.sleep(0.1)
    err = env.stderr(p)
    line = ("switch: warning: proxy: the server of role 'fallback' exited with status 137; the next request "
            "starts it again")
    if line not in err.splitlines():
        fail("upstream killed: stderr lacks %r:\n%s" % (line, err))


def client_gone(env, p):
    """A client that disconnects mid-stream: the proxy closes the upstream request."""
    s = socket.create_connection(("127.0.0.1", p.port), timeout=30)
    body = json.dumps({"model": "math", "prompt": "to be abandoned", "max_tokens": 2000, "stream": True}).encode()
    s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d"
              b"\r\n\r\n%s" % (len(body), body))
    got = b""
    while got.count(b"data: ") < 3:
        got += s.recv(4096)
    s.close()
    gone = False
    for _ in range(300):
        recs = [f for f in os.listdir(env.streams)]
        for f in recs:
            with open(os.path.join(env.streams, f), "rb") as fh:
                data = fh.read()
            if b"to be abandoned" not in data and data.endswith(b"#client-gone\n"):
                gone = True
        if gone:
            break
        time.sleep(0.05)
    if not gone:
        fail("client gone: the upstream stream was not cancelled (no stream ended by a disconnect)")
    m = request(p.port, "GET", "/metrics")[2].decode()
    if not re.search(r"^switch_proxy_client_disconnects_total [1-9]", m, re.M):
        fail("client gone: switch_proxy_client_disconnects_total did not count it")


def slow_start(env):
    """A start slower than the start timeout: the queued request gets a clear error."""
    p = env.start("--start-base", "1", "--disk-speed", "1000000", env={"FAKE_VLLM_STARTUP_S": "5"})
    t0 = time.monotonic()
    st, _, raw = request(p.port, "POST", "/v1/completions", {"model": "fallback", "prompt": "x", "max_tokens": 2})
    took = time.monotonic() - t0
    want = ("role 'fallback' is not available: the server did not answer GET /health within 1 s "
            "(1 s + 2.3 GiB of weights at 1000000 MB/s; --start-base, --disk-speed)")
    if st != 502 or json.loads(raw)["error"]["message"] != want:
        fail("slow start: expected 502 %r, got %d %r" % (want, st, raw))
    if took > 4:
        fail("slow start: the error came after %.1f s, not at the timeout" % took)
    p.terminate()
    p.wait(20)
    err = env.stderr(p)
    line = "switch: error: proxy: role 'fallback' failed to start 1 time: " + want.split(": ", 1)[1]
    if line not in err.splitlines():
        fail("slow start: stderr lacks %r:\n%s" % (line, err))


def main():
    env = Env()
    try:
        p = load(env)
        long_streams(env, p)
        upstream_killed(env, p)
        client_gone(env, p)
        p.send_signal(signal.SIGTERM)
        if p.wait(30) != 0:
            fail("SIGTERM: the proxy exited with %d" % p.returncode)
        with open(env.env["FAKE_GPU_STATE"]) as f:
            left = json.load(f)["procs"]
        alive = [pid for pid in left if os.path.exists("/proc/" + pid)]
        if alive:
            fail("SIGTERM: servers still alive after the proxy exited: %s" % alive)
        slow_start(env)
    finally:
        env.close()
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
