#!/usr/bin/env python3
"""A hostile Hub for the security tests, standard library only, on 127.0.0.1 (a free port).

Repos under org/ and what the Hub answers for them:
  evilN     a good revision, then a tree whose only file has hostile path N of PATHS
  deeptree  a good revision, then a tree nested 100000 arrays deep
  deep      a revision answer nested 100000 arrays deep
  big       a revision answer of 65 MiB (the limit for a JSON reply is 64 MiB)
  hdr       a revision answer with a 300 KB header line
  slow      a good revision after 3 seconds (time to look at the client's /proc), an empty tree
  hop       a good revision, then a tree page whose Link: rel="next" is on another host
  dup       a good revision, then a tree that lists the same file twice
anything else is RepoNotFound. Every request's method, path and headers are appended to
STATE/log, one JSON object a line, so a test can see what a client sent. STATE/port names the
port. The server exits by itself after --lifetime seconds.
"""
import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SHA = "5ec0" * 10
PATHS = ["../escape.txt", "/etc/passwd", "a\\b.txt", "a\x01b.txt", "a//b.txt", "./a.txt", "a\x00b.txt"]
DEEP = b"[" * 100000 + b"]" * 100000


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def handle(self):
        # Clients that hang up on a hostile answer are what the tests expect.
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError):
            pass

    def send(self, code, body, headers=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        with open(os.path.join(self.server.state, "log"), "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "headers": dict(self.headers.items())}) + "\n")
        segs = self.path.split("?")[0].strip("/").split("/")
        if len(segs) < 5 or segs[:2] != ["api", "models"] or segs[2] != "org":
            return self.send(404, b"{}", {"X-Error-Code": "RepoNotFound"})
        name, what = segs[3], segs[4]
        if what == "revision":
            if name == "deep":
                return self.send(200, DEEP)
            if name == "big":
                return self.send(200, b" " * (65 * 1024 * 1024) + b"{}")
            if name == "hdr":
                return self.send(200, json.dumps({"sha": SHA}).encode(), {"X-Junk": "a" * 300000})
            if name == "slow":
                time.sleep(3)
            if name.startswith("evil") or name in ("deeptree", "slow", "hop", "dup"):
                return self.send(200, json.dumps({"sha": SHA, "gated": False}).encode())
        if what == "tree":
            if name == "slow":
                return self.send(200, b"[]")
            if name == "dup":
                e = {"type": "file", "path": "model.safetensors.index.json", "size": 2, "oid": "0" * 40}
                return self.send(200, json.dumps([e, e]).encode())
            if name == "hop":
                link = '<http://127.0.0.2:%d/api/models/org/hop/tree/%s?cursor=1>; rel="next"' % (
                    self.server.server_address[1], SHA)
                return self.send(200, b"[]", {"Link": link})
            if name == "deeptree":
                return self.send(200, DEEP)
            if name.startswith("evil") and name[4:].isdigit() and int(name[4:]) < len(PATHS):
                entry = {"type": "file", "path": PATHS[int(name[4:])], "size": 1, "oid": "0" * 40}
                return self.send(200, json.dumps([entry]).encode())
        return self.send(404, b"{}", {"X-Error-Code": "RepoNotFound"})

    do_HEAD = do_GET


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--state", required=True)
    ap.add_argument("--lifetime", type=float, default=120)
    args = ap.parse_args()
    os.makedirs(args.state, exist_ok=True)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = args.state
    t = threading.Timer(args.lifetime, srv.shutdown)
    t.daemon = True
    t.start()
    with open(os.path.join(args.state, "port.tmp"), "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(os.path.join(args.state, "port.tmp"), os.path.join(args.state, "port"))
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
