#!/usr/bin/env python3
"""A small OpenAI-compatible server around transformers `generate`, for measuring bench on a
GPU machine that has PyTorch and transformers but neither vLLM nor FastAPI.

It builds, with no network, a random-weight Llama-style model and a word-level tokenizer
(tokenizers.Tokenizer, WordLevel, saved and reloaded as a PreTrainedTokenizerFast), then serves
on 127.0.0.1 (standard-library ThreadingHTTPServer):

  GET  /health          200 once the model is loaded and warmed up
  GET  /v1/models       {"data": [{"id": NAME, "max_model_len": L}]}
  POST /tokenize        {"count", "tokens", "max_model_len"}
  POST /v1/completions  JSON, or server-sent events with "stream": true (one event per
                        generated token, a usage chunk with stream_options.include_usage,
                        then data: [DONE]); honours max_tokens and ignore_eos

One request generates at a time (a lock), like a server with a batch of one, so concurrency
above 1 measures queueing. The process exits by itself after --lifetime seconds.
"""

import argparse
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import LlamaConfig, LlamaForCausalLM, TextIteratorStreamer

try:
    from transformers import PreTrainedTokenizerFast
except ImportError:  # transformers 5 may name the tokenizers-backed class differently
    from transformers import TokenizersBackend as PreTrainedTokenizerFast

# bench builds prompts from these words (runtime/bench/bench_prompt.c); keep them in the vocabulary.
BENCH_WORDS = """the time people way water day part world house place group number light story
family river point school city market table window garden paper music money night morning road
field power state game line end door car tree book letter friend answer question color voice plant
food sun earth eye head hand heart mind word name work side week case island street summer
winter""".split()
SPECIAL = ["[UNK]", "[PAD]", "<s>", "</s>"]


def log(msg):
    sys.stderr.write("serve_stub: %s\n" % msg)
    sys.stderr.flush()


def build(model_dir, vocab_size, hidden, layers, heads, kv_heads, inter, max_len, seed):
    """Create the tokenizer and random model under model_dir, then load both back from disk."""
    words = SPECIAL + BENCH_WORDS
    words += ["w%d" % i for i in range(vocab_size - len(words))]
    tok = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   bos_token="<s>", eos_token="</s>", model_max_length=max_len)
    fast.save_pretrained(model_dir)
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=vocab_size, hidden_size=hidden, intermediate_size=inter,
                      num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv_heads,
                      max_position_embeddings=max_len, pad_token_id=1, bos_token_id=2, eos_token_id=3,
                      tie_word_embeddings=False)
    LlamaForCausalLM(cfg).save_pretrained(model_dir)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(model_dir)
    try:
        model = LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16)
    except TypeError:
        model = LlamaForCausalLM.from_pretrained(model_dir, torch_dtype=torch.bfloat16)
    model = model.to("cuda").eval()
    nparams = sum(p.numel() for p in model.parameters())
    log("model: %d layers, hidden %d, %.1f M parameters, bf16, on %s"
        % (layers, hidden, nparams / 1e6, torch.cuda.get_device_name(0)))
    return tokenizer, model


class TokenStreamer(TextIteratorStreamer):
    """TextIteratorStreamer holds text back until a word boundary, which would delay every
    event by one token and so add one inter-token time to the time to first token; this one
    puts out each generated token as soon as generate hands it over."""

    def __init__(self, tokenizer, **kw):
        super().__init__(tokenizer, skip_prompt=True, **kw)
        self.ntokens = 0

    def put(self, value):
        if len(value.shape) > 1:
            value = value[0]
        if self.skip_prompt and self.next_tokens_are_prompt:
            self.next_tokens_are_prompt = False
            return
        ids = value.tolist()
        self.ntokens += len(ids)
        self.on_finalized_text(" " + self.tokenizer.decode(ids))

    def end(self):
        self.on_finalized_text("", stream_end=True)


class State:
    tokenizer = None
    model = None
    name = "stub"
    max_model_len = 8192
    lock = threading.Lock()
    counter = 0


def error_body(status, msg, etype="BadRequestError"):
    return {"error": {"message": msg, "type": etype, "param": None, "code": status}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, obj):
        b = (json.dumps(obj) + "\n").encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def chunk(self, text):
        b = text.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
        self.wfile.flush()

    def do_GET(self):
        if self.path == "/health":
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()
        elif self.path == "/v1/models":
            self.send_json(200, {"object": "list", "data": [{
                "id": State.name, "object": "model", "owned_by": "serve_stub",
                "max_model_len": State.max_model_len}]})
        else:
            self.send_json(404, {"detail": "Not Found"})

    def body(self):
        n = int(self.headers.get("content-length") or 0)
        try:
            return json.loads(self.rfile.read(n) or b"{}")
        except ValueError as e:
            self.send_json(400, error_body(400, "JSON decode error: %s" % e))
            return None

    def do_POST(self):
        req = self.body()
        if req is None:
            return
        if self.path == "/tokenize":
            ids = State.tokenizer(req.get("prompt", ""))["input_ids"]
            self.send_json(200, {"count": len(ids), "tokens": ids, "max_model_len": State.max_model_len})
        elif self.path == "/v1/completions":
            self.complete(req)
        else:
            self.send_json(404, {"detail": "Not Found"})

    def complete(self, req):
        if req.get("model") not in (None, State.name):
            self.send_json(404, error_body(404, "The model `%s` does not exist." % req.get("model"), "NotFoundError"))
            return
        enc = State.tokenizer(req.get("prompt", ""), return_tensors="pt")
        ids = enc["input_ids"].to("cuda")
        n_in = ids.shape[1]
        max_tokens = int(req.get("max_tokens", 16))
        if n_in + max_tokens > State.max_model_len:
            self.send_json(400, error_body(400, "This model's maximum context length is %d tokens. However, you "
                                           "requested %d tokens (%d in the prompt, %d in the completion)."
                                           % (State.max_model_len, n_in + max_tokens, n_in, max_tokens)))
            return
        gen = dict(input_ids=ids, attention_mask=enc["attention_mask"].to("cuda"), max_new_tokens=max_tokens,
                   do_sample=False, pad_token_id=1)
        if req.get("ignore_eos"):
            gen["min_new_tokens"] = max_tokens
        with State.lock:
            State.counter += 1
            rid = "cmpl-stub-%d" % State.counter
            if not req.get("stream"):
                with torch.inference_mode():
                    out = State.model.generate(**gen)
                new = out[0, n_in:].tolist()
                self.send_json(200, {"id": rid, "object": "text_completion", "model": State.name,
                                     "choices": [{"index": 0, "text": State.tokenizer.decode(new),
                                                  "finish_reason": "length"}],
                                     "usage": {"prompt_tokens": n_in, "completion_tokens": len(new),
                                               "total_tokens": n_in + len(new)}})
                return
            streamer = TokenStreamer(State.tokenizer, timeout=120)
            gen["streamer"] = streamer
            failure = []

            def run():
                try:
                    with torch.inference_mode():
                        State.model.generate(**gen)
                except Exception as e:  # report it to the client rather than hang
                    failure.append(repr(e))
                    streamer.end()

            self.send_response(200)
            self.send_header("content-type", "text/event-stream; charset=utf-8")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            t = threading.Thread(target=run)
            t.start()
            try:
                for text in streamer:
                    if not text:
                        continue
                    self.chunk("data: %s\n\n" % json.dumps({
                        "id": rid, "object": "text_completion", "model": State.name,
                        "choices": [{"index": 0, "text": text, "finish_reason": None}]}))
                t.join()
                if failure:
                    log("generate failed: %s" % failure[0])
                    self.close_connection = True
                    return  # no [DONE]: the client sees a cut stream
                if (req.get("stream_options") or {}).get("include_usage"):
                    self.chunk("data: %s\n\n" % json.dumps({
                        "id": rid, "object": "text_completion", "model": State.name, "choices": [],
                        "usage": {"prompt_tokens": n_in, "completion_tokens": streamer.ntokens,
                                  "total_tokens": n_in + streamer.ntokens}}))
                self.chunk("data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                t.join()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--served-model-name", default="stub")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--max-model-len", type=int, default=8192)
    ap.add_argument("--lifetime", type=float, default=540)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--hidden", type=int, default=1024)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--heads", type=int, default=16)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--intermediate", type=int, default=2816)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if not a.host.startswith("127."):
        log("refusing to bind '%s': loopback only" % a.host)
        return 2
    t0 = time.monotonic()
    State.tokenizer, State.model = build(a.model_dir, a.vocab, a.hidden, a.layers, a.heads, a.kv_heads,
                                         a.intermediate, a.max_model_len, a.seed)
    State.name, State.max_model_len = a.served_model_name, a.max_model_len
    # Warm up kernels at a short and a long prompt, as vLLM's start-up profiling would.
    with torch.inference_mode():
        for n in (16, a.max_model_len - 8):
            ids = torch.full((1, n), 10, dtype=torch.long, device="cuda")
            State.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=4,
                                 min_new_tokens=4, do_sample=False, pad_token_id=1)
    torch.cuda.synchronize()
    srv = ThreadingHTTPServer((a.host, a.port), Handler)
    srv.daemon_threads = True
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.replace(a.port_file + ".tmp", a.port_file)
    log("ready on http://%s:%d after %.1f s" % (a.host, port, time.monotonic() - t0))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    time.sleep(max(0.0, a.lifetime - (time.monotonic() - t0)))
    log("lifetime over; exiting")
    srv.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
