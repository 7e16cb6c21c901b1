#!/usr/bin/env python3
"""switch proxy's routes against the stand-in vLLM on loopback: strict request heads, the body
limit, routing by model (role, served name, repo id; unknown: 404 with did-you-mean), the
development routes refused, /upstream/ROLE, /v1/models, /running, /load, /unload, /logs,
/metrics, CORS, the API key, a full queue; and sleep mode on a GPU the stand-ins share: the role
put away sleeps (holding what the stand-in says a sleeping instance holds), wakes on the next
request, and a sleeper that leaves too little room for another role is stopped for it."""
import json
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxy_env import Env, get_json, request, check, verdict  # noqa: E402


def raw(port, data, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
    s.close()
    return out


def err_of(body):
    return json.loads(body)["error"]["message"]


def strict(p):
    cases = [
        (b"GET /health HTTP/1.1\nHost: x\n\n", 400, "a line of the request head ends in a bare LF; expected CRLF"),
        (b"GET /health HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, "obsolete line folding is not accepted"),
        (b"GET /health HTTP/1.1\r\nHost : x\r\n\r\n", 400,
         "a header line is not NAME: VALUE (a token, then a colon with no space before it)"),
        (b"POST /v1/completions HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400,
         "more than one Content-Length"),
        (b"POST /v1/completions HTTP/1.1\r\nContent-Length: 2x\r\n\r\n", 400, "Content-Length is not a number"),
        (b"POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501,
         "request bodies must come with Content-Length; Transfer-Encoding is not accepted"),
        (b"GET /health HTTP/2.0\r\n\r\n", 505, "only HTTP/1.0 and HTTP/1.1 are served"),
        (b"GET http://x/health HTTP/1.1\r\n\r\n", 400,
         "the request target must be an absolute path (origin-form) followed by one space"),
        (b"GET  /health HTTP/1.1\r\n\r\n", 400,
         "the request target must be an absolute path (origin-form) followed by one space"),
        (b"GET /health HTTP/1.1 \r\n\r\n", 400, "the request line is not METHOD SP TARGET SP HTTP-VERSION"),
        (b"GET /health HTTP/1.1\r\nX: a\x01b\r\n\r\n", 400, "a header value holds a control character"),
        (b"POST /v1/completions HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", 413,
         "the request body is larger than the proxy's limit (--max-body)"),
        (b"GET /health HTTP/1.1\r\nX: " + b"a" * 17000 + b"\r\n\r\n", 431, "the request head is longer than 16384 bytes"),
    ]
    for data, st, msg in cases:
        r = raw(p.port, data)
        head, _, body = r.partition(b"\r\n\r\n")
        check("strict %r" % data[:40], head.startswith(b"HTTP/1.1 %d " % st) and err_of(body) == msg, r[:300])


def routes(env, p):
    st, head, body = request(p.port, "GET", "/health")
    check("health", st == 200 and json.loads(body) == {"status": "ok"} and "Access-Control-Allow-Origin: *" in head)
    st, head, body = request(p.port, "OPTIONS", "/v1/chat/completions",
                             headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"})
    check("cors preflight", st == 204 and "Access-Control-Allow-Methods: GET, POST, OPTIONS" in head and
          "Access-Control-Allow-Headers: Authorization, Content-Type" in head, head)
    m = get_json(p.port, "/v1/models")
    ids = [d["id"] for d in m["data"]]
    check("models", ids[:3] == ["code", "fallback", "math"] and all(d["state"] == "stopped" for d in m["data"]) and
          "mistralai/Mathstral-7B-v0.1" in [a for d in m["data"] for a in d["aliases"]], m)
    st, _, body = request(p.port, "POST", "/v1/chat/completions", {"model": "fallbak", "messages": []})
    check("unknown model", st == 404 and err_of(body) == (
        "the model 'fallbak' does not exist (did you mean 'fallback'?); known roles: code, fallback, math, "
        "primary, secondary, unsized, weird, unexportable"), body)
    st, _, body = request(p.port, "POST", "/v1/completions", {"prompt": "no model"})
    check("no model", st == 400 and err_of(body) ==
          'the request body names no "model" (a string); GET /v1/models lists the roles', body)
    for path in ("/sleep?level=1", "/wake_up", "/is_sleeping", "/collective_rpc", "/upstream/math/sleep",
                 "/upstream/math/reset_prefix_cache"):
        st, _, body = request(p.port, "POST", path, b"")
        bare = path.split("?")[0].replace("/upstream/math", "")
        check("dev route %s" % path, st == 403 and err_of(body) == (
            "the proxy does not forward vLLM's development route '%s'; it manages sleep and wake itself" % bare), body)
    st, _, body = request(p.port, "GET", "/nowhere")
    check("unknown route", st == 404 and err_of(body).startswith("no route 'GET /nowhere' (the proxy serves"), body)
    st, _, body = request(p.port, "POST", "/load/fallbak", b"")
    check("load unknown", st == 404 and err_of(body) == "unknown role 'fallbak' (did you mean 'fallback'?)", body)
    # by repo id, through the chat route; then /upstream/ROLE/ passes through unchanged
    st, _, body = request(p.port, "POST", "/v1/chat/completions",
                          {"model": "mistralai/Mathstral-7B-v0.1", "messages": [{"role": "user", "content": "hi"}],
                           "max_tokens": 2})
    check("by repo id", st == 200 and b'"model": "mistralai/Mathstral-7B-v0.1"' in body, body)
    st, _, body = request(p.port, "GET", "/upstream/math/v1/models")
    names = [d["id"] for d in json.loads(body)["data"]]
    check("upstream passthrough", st == 200 and names == ["math", "mistralai/Mathstral-7B-v0.1",
                                                          "/mnt/f/models/mathstral-7b"], names)
    st, _, body = request(p.port, "POST", "/v1/embeddings", {"model": "math", "input": ["a", "b"]})
    check("embeddings", st == 200 and len(json.loads(body)["data"]) == 2, body)
    run = {i["role"]: i for i in get_json(p.port, "/running")["instances"]}
    check("running", run["math"]["state"] == "ready" and run["math"]["pid"] > 0 and run["code"]["state"] == "stopped",
          run["math"])
    logs = request(p.port, "GET", "/logs/math")[2].decode()
    check("logs per role", "switch proxy: started pid %d on port %d" % (run["math"]["pid"], run["math"]["port"]) in logs
          and "Uvicorn running on" in logs, logs[-500:])
    logs = request(p.port, "GET", "/logs")[2].decode()
    check("logs", "[math] switch proxy: ready on port" in logs, logs[-300:])
    st, _, body = request(p.port, "POST", "/unload/math", b"")
    check("unload", st == 202 and json.loads(body)["role"] == "math", body)
    for _ in range(200):
        if {i["role"]: i for i in get_json(p.port, "/running")["instances"]}["math"]["state"] == "stopped":
            break
        time.sleep(0.05)
    st, _, body = request(p.port, "POST", "/load/fallback", b"")
    check("load", st == 202 and json.loads(body) == {"role": "fallback", "state": "stopped"}, body)
    for _ in range(200):
        if {i["role"]: i for i in get_json(p.port, "/running")["instances"]}["fallback"]["state"] == "ready":
            break
        time.sleep(0.05)
    run = {i["role"]: i for i in get_json(p.port, "/running")["instances"]}
    check("load then running", run["fallback"]["state"] == "ready" and run["math"]["state"] == "stopped", run)
    metrics = request(p.port, "GET", "/metrics")[2].decode()
    for line in ('switch_proxy_requests_total{role="math"} 3', 'switch_proxy_swaps_total{role="fallback",how="start"} 1',
                 'switch_proxy_puts_away_total{role="math",how="stop"} 1', 'switch_proxy_queue_depth{role="math"} 0',
                 'switch_proxy_rejected_total{reason="forbidden_route"} 6'):
        check("metrics %s" % line, line in metrics.splitlines(), metrics)


def queue_full(env):
    p = env.start("--queue", "0")
    st, head, body = request(p.port, "POST", "/v1/completions", {"model": "math", "prompt": "x", "max_tokens": 1})
    check("queue full", st == 503 and "Retry-After: 5" in head and err_of(body) ==
          "the proxy's queue is full (0 requests wait for a model swap); retry later", body)
    p.terminate()
    p.wait(20)


def api_key(env):
    key = "k3y-for-the-test-0123456789"
    p = env.start(env={"SWITCH_PROXY_API_KEY": key})
    st, head, body = request(p.port, "GET", "/v1/models")
    check("no key", st == 401 and "WWW-Authenticate: Bearer" in head and
          err_of(body) == "this proxy needs 'Authorization: Bearer KEY'", body)
    st, _, _ = request(p.port, "GET", "/v1/models", headers={"Authorization": "Bearer " + key[:-1] + "X"})
    check("wrong key", st == 401)
    st, _, _ = request(p.port, "GET", "/v1/models", headers={"Authorization": "Bearer " + key})
    check("right key", st == 200)
    st, _, _ = request(p.port, "GET", "/health")
    check("health needs no key", st == 200)
    p.terminate()
    p.wait(20)


def sleep_mode(env):
    gpu = env.env["FAKE_GPU_STATE"]

    def held():
        with open(gpu) as f:
            return {v["mib"] for v in json.load(f)["procs"].values()}

    p = env.start("--sleep-level", "1", env={"FAKE_VLLM_SLEEP_HELD_MIB": "600", "FAKE_VLLM_SLEEP_S": "0.05",
                                            "FAKE_VLLM_WAKE_S": "0.05"})
    ok = lambda role: request(p.port, "POST", "/v1/completions", {"model": role, "prompt": "x", "max_tokens": 1})[0]
    check("sleep: first", ok("fallback") == 200)
    check("sleep: second", ok("math") == 200)
    run = {i["role"]: i for i in get_json(p.port, "/running")["instances"]}
    check("sleep: fallback asleep", run["fallback"]["state"] == "asleep" and run["math"]["state"] == "ready", run)
    # math started beside a sleeper holding 600 MiB: its utilization was lowered to fit
    check("sleep: memory", 600 in held() and len(held()) == 2, held())
    check("sleep: wake", ok("fallback") == 200)
    m = request(p.port, "GET", "/metrics")[2].decode()
    check("sleep: woken", 'switch_proxy_swaps_total{role="fallback",how="wake"} 1' in m.splitlines() and
          'switch_proxy_puts_away_total{role="math",how="sleep"} 1' in m.splitlines(), m)
    p.terminate()
    p.wait(30)
    # A sleeper that holds too much for the next role (the re-fit refuses): it is stopped instead.
    p = env.start("--sleep-level", "1", env={"FAKE_VLLM_SLEEP_HELD_MIB": "7000", "FAKE_VLLM_SLEEP_S": "0.05"})
    check("evict sleeper: first", ok("fallback") == 200)
    check("evict sleeper: second", ok("math") == 200)
    run = {i["role"]: i for i in get_json(p.port, "/running")["instances"]}
    check("evict sleeper: stopped", run["fallback"]["state"] == "stopped" and run["math"]["state"] == "ready", run)
    logs = request(p.port, "GET", "/logs/fallback")[2].decode()
    check("evict sleeper: log", "switch proxy: stopped to make room for 'math'" in logs, logs[-400:])
    p.terminate()
    p.wait(30)


def ttl(env):
    p = env.start("--ttl", "1")
    check("ttl: request", request(p.port, "POST", "/v1/completions",
                                  {"model": "math", "prompt": "x", "max_tokens": 1})[0] == 200)
    state = None
    for _ in range(100):
        state = {i["role"]: i for i in get_json(p.port, "/running")["instances"]}["math"]["state"]
        if state == "stopped":
            break
        time.sleep(0.05)
    check("ttl: put away when idle", state == "stopped", state)
    p.terminate()
    p.wait(20)


def main():
    env = Env()
    try:
        p = env.start("--max-body", "4096")
        strict(p)
        routes(env, p)
        p.terminate()
        p.wait(20)
        queue_full(env)
        api_key(env)
        sleep_mode(env)
        ttl(env)
    finally:
        env.close()
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
