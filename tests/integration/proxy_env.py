"""Shared by the proxy tests (test_proxy_load.py, scripts/bench_proxy.py): a scratch folder with
a test catalog's runtime table (tests/fixtures/switch unless Env(catalog=...) names another folder), the stand-in vLLM and nvidia-smi on PATH, one shared GPU state
file, switch-proxy built, and helpers to start it and talk HTTP/1.1 to it on loopback."""
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
BIN = os.environ.get("BIN", os.path.join(BUILD, "bin"))


def build_proxy():
    px = os.path.join(BUILD, "test-switch", "switch-proxy")
    subprocess.run(["make", "-s", "--no-print-directory", px, "PROXY_OUT=" + px], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return px


class Env:
    def __init__(self, catalog="tests/fixtures/switch", gpu_total_mib=None):
        """catalog: a folder with models.yaml and models.lock; gpu_total_mib: the stand-in GPU's size
        (the default is the switch fixture's 7974 MiB), to match the catalog's gpu.memory."""
        self.dir = tempfile.mkdtemp(prefix="modelc-proxy-test.")
        cat = os.path.join(self.dir, "catalog")
        os.makedirs(cat)
        for f in ("models.yaml", "models.lock"):
            shutil.copy(os.path.join(ROOT, catalog, f), cat)
        env = dict(os.environ, MODELC_SCHEMA_DIR=os.path.join(ROOT, "schemas"))
        subprocess.run([os.path.join(BIN, "modelc"), "build", "-o", "gen"], cwd=cat, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.table = os.path.join(cat, "gen", "switch.table")
        b = os.path.join(self.dir, "bin")
        os.makedirs(b)
        with open(os.path.join(b, "vllm"), "w") as f:
            f.write("#!/bin/sh\nexec /usr/bin/python3 %s/tests/fixtures/vllm \"$@\"\n" % ROOT)
        os.chmod(os.path.join(b, "vllm"), 0o755)
        os.symlink(os.path.join(ROOT, "tests/fixtures/nvidia-smi/nvidia-smi"), os.path.join(b, "nvidia-smi"))
        self.streams = os.path.join(self.dir, "streams")
        os.makedirs(self.streams)
        self.env = {"PATH": b + ":/usr/bin:/bin", "LC_ALL": "C", "NO_COLOR": "1",
                    "MODELC_HF_HOME": os.path.join(self.dir, "hf"),
                    "FAKE_GPU_STATE": os.path.join(self.dir, "gpu.json"),
                    "FAKE_VLLM_MAX_LIFETIME_S": "120", "FAKE_VLLM_RECORD_STREAMS": self.streams}
        if gpu_total_mib:
            self.env["FAKE_GPU_TOTAL_MIB"] = str(gpu_total_mib)
        # the runners' record of printed message formats (tests/check-diagnostics.py)
        if os.environ.get("MODELC_DIAG_LOG"):
            self.env["MODELC_DIAG_LOG"] = os.environ["MODELC_DIAG_LOG"]
        self.proxy = build_proxy()
        self.procs = []

    def free_port(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        return p

    @staticmethod
    def role_port_base(n=8):
        """A base for the roles' ports (role i listens on base + i) below the kernel's ephemeral
        range, where no other test's outgoing connection can take one of them, with all n free
        now; the tests run in parallel, so the base is random."""
        try:
            with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
                low = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            low = 32768
        for _ in range(200):
            base = random.randrange(10000, low - n)
            socks = []
            try:
                for k in range(n):
                    s = socket.socket()
                    socks.append(s)
                    s.bind(("127.0.0.1", base + k))
                return base
            except OSError:
                continue
            finally:
                for s in socks:
                    s.close()
        raise RuntimeError("no %d free ports in a row below %d" % (n, low))

    def start(self, *args, env=None, table=None):
        port, base = self.free_port(), self.role_port_base()
        e = dict(self.env, **(env or {}))
        err = open(os.path.join(self.dir, "proxy-%d.err" % port), "w+")
        p = subprocess.Popen([self.proxy, "--table", table or self.table, "--listen", "127.0.0.1:%d" % port,
                              "--port-base", str(base)] + list(args), env=e, stdout=subprocess.DEVNULL, stderr=err)
        p.port, p.errfile = port, err
        self.procs.append(p)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return p
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("the proxy did not listen")

    def stderr(self, p):
        p.errfile.flush()
        with open(p.errfile.name) as f:
            return f.read()

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def request(port, method, path, body=None, headers=None, timeout=60):
    """One request; returns (status, head text, raw body bytes as sent, chunk framing included)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else (body or b"")
    h = "%s %s HTTP/1.1\r\nHost: x\r\n" % (method, path)
    for k, v in (headers or {}).items():
        h += "%s: %s\r\n" % (k, v)
    if body is not None:
        h += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(data)
    s.sendall(h.encode() + b"\r\n" + data)
    buf = b""
    while True:
        try:
            r = s.recv(65536)
        except socket.timeout:
            break
        if not r:
            break
        buf += r
    s.close()
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.") else -1
    return status, head.decode("latin-1"), rest


def dechunk(raw):
    out, i = b"", 0
    while True:
        j = raw.find(b"\r\n", i)
        if j < 0:
            return out, False
        n = int(raw[i:j].split(b";")[0], 16)
        if n == 0:
            return out, True
        out += raw[j + 2:j + 2 + n]
        i = j + 2 + n + 2


def get_json(port, path):
    st, _, body = request(port, "GET", path)
    return json.loads(body)


# Each test's failures: check() records one and says what differed; verdict() is the exit status.
failures = []


def check(what, cond, detail=""):
    if not cond:
        failures.append(what)
        print("FAIL: %s %s" % (what, detail))


def fail(msg):
    check(msg, False)


def verdict():
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0
