"""A hostile models.yaml cannot make generated/.env run a command when a shell sources it.

Every catalog string that can reach .env (storage.hf_home, a role's local path, served model
name and rationale, server.command) gets each payload: $(...), backticks, '; cmd', a newline, a
carriage return, a quote that tries to close the quoting. modelc build either refuses the value
with an error naming its key (exit 1, nothing written), or writes a .env that bash and dash
source (set -a; . ./.env) without running anything: no canary file appears, nothing is printed,
and each hostile value reads back as written.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

BIN = os.environ.get("BIN") or sys.exit("BIN must point at build/bin")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BASE = """storage:
  hf_home: {hf_home}
  disk_budget: 100 GB
gpu:
  memory: 8 GiB
  utilization: 0.9
server:
  max_num_seqs: 8
  command: ["vllm", "serve", {command}]
roles:
  chat:
    repo: Qwen/Qwen2.5-7B-Instruct-AWQ
    quantization: awq
    max_model_len: 8192
    local: {local}
    served_model_name: {served}
    rationale: {rationale}
"""
SAFE = {"hf_home": "/srv/hf", "command": "--x", "local": "/srv/m", "served": "chat", "rationale": "fine"}
PAYLOADS = [
    "$(touch CANARY)",
    "`touch CANARY`",
    "x; touch CANARY",
    "x\ntouch CANARY",
    "x\rtouch CANARY",
    "x'; touch CANARY; '",
    "x\"; touch CANARY; \"",
    "x\\\n$(touch CANARY)",
]
SHELLS = [s for s in ("bash", "dash") if shutil.which(s)]


def yq(s):
    # A YAML double-quoted scalar reads JSON string escapes the same way.
    return json.dumps(s)


def main():
    if len(SHELLS) < 2:
        print("bash and dash are both needed", file=sys.stderr)
        return 77
    work = tempfile.mkdtemp(prefix="secenv.")
    refused = accepted = 0
    try:
        for field in SAFE:
            for k, p in enumerate(PAYLOADS):
                vals = dict(SAFE)
                vals[field] = ("/srv/" + p) if field in ("hf_home", "local") else p
                d = os.path.join(work, "%s-%d" % (field, k))
                os.makedirs(d)
                with open(os.path.join(d, "models.yaml"), "w") as f:
                    f.write(BASE.format(**{key: yq(v) for key, v in vals.items()}))
                shutil.copy(os.path.join(ROOT, "tests/golden/build_ok/models.lock"), d)
                r = subprocess.run([BIN + "/modelc", "build", "-o", "gen"], cwd=d, capture_output=True,
                                   text=True, env=dict(os.environ, MODELC_SCHEMA_DIR=ROOT + "/schemas"))
                what = "%s=%r" % (field, vals[field])
                if r.returncode == 1:
                    assert "error:" in r.stderr and "nothing written" in r.stderr, (what, r.stderr)
                    assert not os.path.exists(os.path.join(d, "gen")), what
                    refused += 1
                    continue
                assert r.returncode == 0, (what, r.returncode, r.stderr)
                accepted += 1
                env_path = os.path.join(d, "gen", ".env")
                for sh in SHELLS:
                    # Print every variable the file set, NUL-separated, to compare with the catalog.
                    script = "set -a; . ./gen/.env; set +a; env -0"
                    s = subprocess.run([sh, "-c", script], cwd=d, capture_output=True,
                                       env={"PATH": os.environ["PATH"]})
                    assert s.returncode == 0, (sh, what, s.stderr)
                    assert not os.path.exists(os.path.join(d, "CANARY")), \
                        "%s ran a command from %s: %s" % (sh, what, open(env_path).read())
                    assert s.stderr == b"", (sh, what, s.stderr)
                    got = dict(kv.split(b"=", 1) for kv in s.stdout.split(b"\0") if b"=" in kv)
                    if field == "hf_home":
                        assert got.get(b"HF_HOME") == vals[field].encode(), (sh, what, got.get(b"HF_HOME"))
                    if field == "local":
                        assert got.get(b"CHAT_MODEL_LOCAL") == vals[field].encode(), (sh, what)
        print("hostile .env values: %d refused with an error, %d accepted and sourced by %s without "
              "running anything" % (refused, accepted, " and ".join(SHELLS)))
        assert refused + accepted == len(SAFE) * len(PAYLOADS)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
