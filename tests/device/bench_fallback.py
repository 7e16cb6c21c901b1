#!/usr/bin/env python3
"""The same measurement as build/bin/bench, in Python's standard library, for machines where
bench cannot be built (no libcurl or jansson headers). Same prompts (word list and seeds of
runtime/bench/bench_prompt.c), same exact-length loop against /tokenize, same timing points
(request handed over -> each server-sent event as read), same CSV columns (docs/bench.md), and
a simpler SVG. Timestamps come from a Python loop, so they carry slightly more overhead than
bench's libcurl callback.

usage: bench_fallback.py ROLE --url URL [--lengths 256,512,1k] [--reps N] [--warmup N]
       [--concurrency N] [--max-tokens N] [--timeout S] [--out DIR] [--gpu NAME] [--server-flags F]
"""

import argparse
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

WORDS = """the time people way water day part world house place group number light story family
river point school city market table window garden paper music money night morning road field power
state game line end door car tree book letter friend answer question color voice plant food sun
earth eye head hand heart mind word name work side week case island street summer winter""".split()
HEADER = ("role,model,commit,gpu,server_flags,concurrency,target_tokens,prompt_tokens,exact,rep,"
          "ttft_ms,itl_ms,itl_p50_ms,itl_p90_ms,tokens_per_s,output_tokens,e2e_ms")


def word_at(seed, i):
    if i < 3:
        return (seed // (len(WORDS) ** i)) % len(WORDS)
    return (seed + i) % len(WORDS)


def words(n, seed):
    return " ".join(WORDS[word_at(seed, i)] for i in range(n))


def pct(sorted_v, p):
    if not sorted_v:
        return 0.0
    r = p / 100.0 * (len(sorted_v) - 1)
    lo = int(r)
    if lo + 1 >= len(sorted_v):
        return sorted_v[-1]
    return sorted_v[lo] + (sorted_v[lo + 1] - sorted_v[lo]) * (r - lo)


class Client:
    def __init__(self, url, timeout):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.timeout = u.hostname, u.port or 80, timeout
        self.local = threading.local()

    def conn(self):
        c = getattr(self.local, "c", None)
        if c is None:
            c = self.local.c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return c

    def json(self, method, path, body=None):
        c = self.conn()
        try:
            c.request(method, path, None if body is None else json.dumps(body), {"content-type": "application/json"})
            r = c.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException):
            self.local.c = None
            raise
        return r.status, (json.loads(data) if data.strip() else None)

    def stream(self, body):
        """One streamed completion: (t_start, token event times, usage)."""
        c = self.conn()
        t0 = time.monotonic()
        c.request("POST", "/v1/completions", json.dumps(body), {"content-type": "application/json"})
        r = c.getresponse()
        if r.status != 200:
            msg = r.read().decode(errors="replace")
            raise RuntimeError("POST /v1/completions: HTTP %d: %s" % (r.status, msg.strip()[:200]))
        times, usage, done = [], None, False
        while True:
            line = r.readline()
            if not line:
                break
            now = time.monotonic()
            line = line.strip()
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                done = True
                continue
            ev = json.loads(data)
            if isinstance(ev.get("error"), dict):
                self.local.c = None
                raise RuntimeError("POST /v1/completions: the server reported an error mid-stream: %s"
                                   % ev["error"].get("message"))
            if ev.get("usage"):
                usage = ev["usage"]
            ch = ev.get("choices") or []
            if ch and ch[0].get("text"):
                times.append(now)
        t_end = time.monotonic()
        if not done:
            self.local.c = None
            raise RuntimeError("POST /v1/completions: the stream was cut after %d token events "
                               "without 'data: [DONE]'" % len(times))
        return t0, times, usage, t_end


def build_prompt(cl, model, target, seed, state):
    n = target
    best = None
    for _ in range(12):
        text = words(n, seed)
        if not state["exact"]:
            return text, target
        st, res = cl.json("POST", "/tokenize", {"model": model, "prompt": text})
        if st == 404:
            state["exact"] = False
            return text, target
        got = res["count"]
        if got <= target and (best is None or got > best[1]):
            best = (text, got)
        if got == target:
            break
        nxt = n + target - got
        if got > target and nxt >= n:
            nxt = n - 1
        if got < target and nxt <= n:
            nxt = n + 1
        if nxt < 1:
            break
        n = nxt
    return best if best else (words(1, seed), 1)


def sample(t0, times, usage, t_end, count):
    out_n = usage["completion_tokens"] if usage else len(times)
    gaps = sorted((b - a) * 1000 for a, b in zip(times, times[1:]))
    dec = times[-1] - times[0] if times else 0
    return {"prompt_tokens": usage["prompt_tokens"] if usage else count,
            "ttft_ms": (times[0] - t0) * 1000 if times else 0,
            "itl_ms": dec * 1000 / (out_n - 1) if out_n > 1 else 0,
            "itl_p50_ms": pct(gaps, 50), "itl_p90_ms": pct(gaps, 90),
            "tokens_per_s": (out_n - 1) / dec if out_n > 1 and dec > 0 else 0,
            "output_tokens": out_n, "e2e_ms": (t_end - t0) * 1000}


def parse_lengths(s):
    out = set()
    for item in s.split(","):
        out.add(int(item[:-1]) * 1024 if item[-1:] in "kK" else int(item))
    return sorted(out)


def svg(rows, role, model, gpu, title=None):
    pts = {}
    for r in rows:
        pts.setdefault((r["concurrency"], r["prompt_tokens"]), []).append(r)
    xs = sorted({k[1] for k in pts})
    W, H, L, R = 760, 520, 80, 150
    ymax = [max(max(x["ttft_ms"] for x in v) for v in pts.values()) * 1.1,
            max(max(x["itl_ms"] for x in v) for v in pts.values()) * 1.1]
    import math

    def xp(v):
        if len(xs) < 2:
            return L + (W - L - R) / 2
        return L + (math.log2(v) - math.log2(xs[0])) / (math.log2(xs[-1]) - math.log2(xs[0])) * (W - L - R)
    esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    o = ['<?xml version="1.0" encoding="UTF-8"?>',
         '<!-- generated by tests/device/bench_fallback.py; do not edit -->',
         '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (W, H),
         '<rect width="%d" height="%d" fill="white"/>' % (W, H),
         '<text x="%d" y="22" font-size="15">%s on %s [Python fallback client]</text>' % (L, esc(title) if title else "%s (%s)" % (esc(role), esc(model)), esc(gpu))]
    for k, (top, key, title) in enumerate(((60, "ttft_ms", "time to first token, ms (median; band: min to max)"),
                                          (300, "itl_ms", "inter-token latency, ms (mean; band: min to max)"))):
        bot = top + 170
        o.append('<text x="%d" y="%d" font-weight="bold">%s</text>' % (L, top - 8, title))
        o.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (L, bot, W - R, bot))
        for t in range(6):
            y = bot - 170 * t / 5
            o.append('<text x="%d" y="%.1f" text-anchor="end">%.1f</text>' % (L - 6, y + 4, ymax[k] * t / 5))
        for x in xs:
            o.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>' % (xp(x), bot + 17, x))
        for conc, col in sorted({(c, "#1f77b4" if c == 1 else "#d62728") for c, _ in pts}):
            line, lo, hi = [], [], []
            for x in xs:
                v = sorted(r[key] for r in pts.get((conc, x), []))
                if not v:
                    continue
                mid = pct(v, 50) if key == "ttft_ms" else sum(v) / len(v)
                line.append("%.1f,%.1f" % (xp(x), bot - mid / ymax[k] * 170))
                lo.append("%.1f,%.1f" % (xp(x), bot - v[0] / ymax[k] * 170))
                hi.append("%.1f,%.1f" % (xp(x), bot - v[-1] / ymax[k] * 170))
            o.append('<polygon fill="%s" fill-opacity="0.2" points="%s"/>' % (col, " ".join(hi + lo[::-1])))
            o.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (col, " ".join(line)))
    o.append('<text x="%d" y="%d" text-anchor="middle">prompt tokens (log scale)</text>' % (L + (W - L - R) // 2, H - 8))
    o.append("</svg>")
    return "\n".join(o) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role")
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--lengths", default="256,512,1k,2k,4k,8k")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--out", default="measurements")
    ap.add_argument("--gpu", default="unknown")
    ap.add_argument("--server-flags", default="")
    ap.add_argument("--title", default=None)
    ap.add_argument("--commit", default="")
    a = ap.parse_args()
    cl = Client(a.url, a.timeout)
    st, models = cl.json("GET", "/v1/models")
    served = {m["id"]: m.get("max_model_len", 0) for m in models["data"]}
    model = a.role if a.role in served else next(iter(served))
    mml = served[model]
    lens = parse_lengths(a.lengths)
    limit = mml - a.max_tokens
    if mml and lens[-1] > limit:
        lens = [x for x in lens if x <= limit] + [limit]
        lens = sorted(set(lens))
    flags = a.server_flags or ("--max-model-len %d" % mml)
    state, seed, rows = {"exact": True}, [1], []

    def one_round(target, n, rep, record):
        prompts = []
        for _ in range(n):
            prompts.append(build_prompt(cl, model, target, seed[0], state))
            seed[0] += 1
        res = [None] * n
        errs = []
        barrier = threading.Barrier(n)

        def go(i):
            try:
                body = {"model": model, "prompt": prompts[i][0], "max_tokens": a.max_tokens, "stream": True,
                        "stream_options": {"include_usage": True}, "temperature": 0.0, "ignore_eos": True}
                cl.conn()
                barrier.wait()
                res[i] = sample(*cl.stream(body), prompts[i][1])
            except Exception as e:
                errs.append(str(e))
        ts = [threading.Thread(target=go, args=(i,)) for i in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if errs:
            sys.exit("bench_fallback: %s" % errs[0])
        if record:
            for i, s in enumerate(res):
                s.update(concurrency=n, target_tokens=target, rep=rep * n + i)
                rows.append(s)

    for w in range(a.warmup):
        one_round(lens[0], 1, w, False)
    for conc in ([1, a.concurrency] if a.concurrency > 1 else [1]):
        for target in lens:
            sys.stderr.write("bench_fallback: %d tokens, concurrency %d\n" % (target, conc))
            for rep in range(a.reps):
                one_round(target, conc, rep, True)
    rows.sort(key=lambda r: (r["concurrency"], r["target_tokens"], r["rep"]))
    os.makedirs(a.out, exist_ok=True)
    q = lambda s: '"%s"' % s.replace('"', '""') if any(ch in s for ch in ',"\n') else s
    lines = [HEADER]
    for r in rows:
        lines.append("%s,%s,%s,%s,%s,%d,%d,%d,%d,%d,%.3f,%.3f,%.3f,%.3f,%.2f,%d,%.3f" % (
            q(a.role), q(model), q(a.commit), q(a.gpu), q(flags), r["concurrency"], r["target_tokens"],
            r["prompt_tokens"], 1 if state["exact"] else 0, r["rep"], r["ttft_ms"], r["itl_ms"], r["itl_p50_ms"],
            r["itl_p90_ms"], r["tokens_per_s"], r["output_tokens"], r["e2e_ms"]))
    for name, text in (("%s.csv" % a.role, "\n".join(lines) + "\n"), ("%s.svg" % a.role, svg(rows, a.role, model, a.gpu, a.title))):
        p = os.path.join(a.out, name)
        with open(p + ".tmp", "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(p + ".tmp", p)
    print("%s (%s) on %s, max_model_len %d%s [Python fallback client]" % (
        a.role, model, a.gpu, mml, "" if state["exact"] else "; prompt lengths are approximate"))
    print("%4s %8s %4s %10s %21s %9s %9s" % ("conc", "prompt", "n", "ttft ms", "ttft min-max", "itl ms", "tok/s"))
    for conc in sorted({r["concurrency"] for r in rows}):
        for target in lens:
            g = [r for r in rows if r["concurrency"] == conc and r["target_tokens"] == target]
            t = sorted(r["ttft_ms"] for r in g)
            print("%4d %8d %4d %10.1f %21s %9.2f %9.1f" % (conc, g[0]["prompt_tokens"], len(g), pct(t, 50),
                  "%.1f-%.1f" % (t[0], t[-1]), sum(r["itl_ms"] for r in g) / len(g),
                  sum(r["tokens_per_s"] for r in g) / len(g)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
