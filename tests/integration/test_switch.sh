#!/bin/sh
# switch list, set and current with the test table (modelc build of tests/fixtures/switch/).
. tests/integration/switch_lib.sh

# Top level.
run "version" 0 "$SW" --version
same "version" out <<'X'
switch 0.1.0
X
run "no arguments" 2 "$SW"
contains "no arguments" err "usage: switch [--table FILE] list [--json]"
run "unknown command" 2 "$SW" frobnicate
has "unknown command" err "switch: error: unknown command 'frobnicate'"
run "help" 0 "$SW" --help
contains "help" out "| env | doctor | gpu [--index N] | --list | --set ROLE|PATH|REPO | --current | --help | --version"

# list: every role, nothing active, no cache yet. MODEL is the id switch would serve now: code's
# local directory (its table id) does not exist here, so its repo id.
run "list" 0 "$SW" --list
same "list" out <<'X'
  ROLE          MODEL                                               QUANT         CONTEXT  VERDICT     FILES
  code          bigcode/starcoder2-7b                               none             4096  unverified  missing
  fallback      microsoft/Phi-3.5-mini-instruct                     bitsandbytes     8192  fits        missing
  math          mistralai/Mathstral-7B-v0.1                         fp8              8192  unverified  missing
  primary       hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4  awq              8192  fits        missing
  secondary     Qwen/Qwen2.5-7B-Instruct-AWQ                        awq              8192  fits        missing
  unsized       test/unsized-7b                                     bitsandbytes        -  unverified  missing
  weird         /mnt/f/my models/it's 7b                            none             2048  unverified  missing
  unexportable  /mnt/f/models/it's "$x"                             none             2048  unverified  missing
X
same "list warning" err <<X
switch: warning: the Hugging Face cache '$T/hf/hub' does not exist; files show as missing
X
run "list usage" 2 "$SW" list --frob
same "list usage" err <<'X'
switch: error: list: unknown option '--frob'
usage: switch list [--json] [--active-file FILE]
X

# set: exports for eval, the active file, and every way to name a model.
run "set primary" 0 "$SW" --set primary
same "set primary" out <<'X'
export VLLM_MODEL_ID='hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4'
export VLLM_MAX_MODEL_LEN='8192'
export VLLM_QUANTIZATION='awq'
export VLLM_GPU_MEMORY_UTILIZATION='0.9'
export VLLM_KV_CACHE_DTYPE='auto'
export VLLM_MAX_NUM_SEQS='16'
export VLLM_MAX_NUM_BATCHED_TOKENS='2048'
export VLLM_DTYPE='half'
unset VLLM_ENFORCE_EAGER
export MODELC_ACTIVE_ROLE='primary'
X
same "set primary: no noise" err </dev/null
cp .active_model "$T/active"
same "active file format" active <<'X'
# written by switch --set; do not edit
role=primary
model_id=hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4
X
[ "$(ls -A | sort | tr '\n' ' ')" = ".active_model .active_model.lock " ] || fail "set left: $(ls -A)"
# The seed's way: by the local directory. It does not exist on this machine, so VLLM_MODEL_ID is
# the repo serve would launch (tests/integration/test_switch_local.sh has the directory present).
got=$(sh -c 'eval "$($0 --set /mnt/f/models/starcoder2-7b/)" && printf "%s|%s|%s" "$VLLM_MODEL_ID" "$VLLM_MAX_MODEL_LEN" "$MODELC_ACTIVE_ROLE"' "$SW")
[ "$got" = "bigcode/starcoder2-7b|4096|code" ] || fail "eval set by path: got '$got'"
got=$(bash -c 'eval "$($0 set Qwen/Qwen2.5-7B-Instruct-AWQ)" && printf "%s" "$VLLM_MODEL_ID"' "$SW")
[ "$got" = "Qwen/Qwen2.5-7B-Instruct-AWQ" ] || fail "eval set by repo: got '$got'"
# A role modelc could not size: VLLM_MAX_MODEL_LEN is unset, not '0', so a stale value goes.
run "set unsized" 0 "$SW" --set unsized
same "set unsized" out <<'X'
export VLLM_MODEL_ID='test/unsized-7b'
unset VLLM_MAX_MODEL_LEN
export VLLM_QUANTIZATION='bitsandbytes'
export VLLM_GPU_MEMORY_UTILIZATION='0.9'
export VLLM_KV_CACHE_DTYPE='auto'
export VLLM_MAX_NUM_SEQS='8'
export VLLM_MAX_NUM_BATCHED_TOKENS='2048'
export VLLM_DTYPE='auto'
unset VLLM_ENFORCE_EAGER
export MODELC_ACTIVE_ROLE='unsized'
X
same "set unsized: no noise" err </dev/null
for shell in sh bash; do
	got=$(VLLM_MAX_MODEL_LEN=4096 $shell -c 'eval "$($0 --set unsized)" && printf "%s|%s" "${VLLM_MAX_MODEL_LEN-unset}" "$VLLM_MODEL_ID"' "$SW")
	[ "$got" = "unset|test/unsized-7b" ] || fail "$shell after set unsized: got '$got'"
done
run "set weird" 0 "$SW" set weird
has "set weird" out "export VLLM_MODEL_ID=\"/mnt/f/my models/it's 7b\""
for shell in sh bash; do
	got=$($shell -c 'eval "$($0 set "/mnt/f/my models/it'"'"'s 7b")" && printf "%s" "$VLLM_MODEL_ID"' "$SW")
	[ "$got" = "/mnt/f/my models/it's 7b" ] || fail "$shell reads the awkward path back as '$got'"
done
cp .active_model "$T/before"
run "set unexportable" 1 "$SW" set unexportable
same "set unexportable" err <<'X'
switch: error: VLLM_MODEL_ID of 'unexportable' cannot be exported: it mixes a single quote with '"', '\', '$' or '`', which no quoting reads the same everywhere
X
same "set unexportable: nothing printed" out </dev/null
cmp -s .active_model "$T/before" || fail "a refused set changed the active file"

run "set unknown" 1 "$SW" --set secundary
same "set unknown" err <<'X'
switch: error: unknown role, path or repo 'secundary' (did you mean 'secondary'?)
switch: note: known roles: code, fallback, math, primary, secondary, unsized, weird, unexportable
switch: note:   code: bigcode/starcoder2-7b, /mnt/f/models/starcoder2-7b
switch: note:   fallback: microsoft/Phi-3.5-mini-instruct
switch: note:   math: mistralai/Mathstral-7B-v0.1, /mnt/f/models/mathstral-7b
switch: note:   primary: hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4
switch: note:   secondary: Qwen/Qwen2.5-7B-Instruct-AWQ
switch: note:   unsized: test/unsized-7b
switch: note:   weird: /mnt/f/my models/it's 7b, /mnt/f/my models/it's 7b
switch: note:   unexportable: /mnt/f/models/it's "$x", /mnt/f/models/it's "$x"
X
run "set unknown path" 1 "$SW" --set /mnt/f/models/starcoder2-7bb
has "set unknown path" err "switch: error: unknown role, path or repo '/mnt/f/models/starcoder2-7bb' (did you mean '/mnt/f/models/starcoder2-7b'?)"
run "set far" 1 "$SW" --set zzzzzzzzzzzzzz
has "set far" err "switch: error: unknown role, path or repo 'zzzzzzzzzzzzzz'"
run "set nothing" 2 "$SW" set
same "set nothing" err <<'X'
switch: error: set: missing ROLE, PATH or REPO
usage: switch set ROLE|PATH|REPO [--active-file FILE]
X
run "set two" 2 "$SW" set primary code
has "set two" err "switch: error: set: expected one ROLE, PATH or REPO, got 'primary' and 'code'"
run "set option" 2 "$SW" set -x primary
has "set option" err "switch: error: set: unknown option '-x'"
run "set option value" 2 "$SW" set primary --active-file
has "set option value" err "switch: error: set: option '--active-file' needs a value"
run "set unwritable" 3 "$SW" set primary --active-file "$T/no/such/dir/.active_model"
same "set unwritable" err <<X
switch: error: $T/no/such/dir/.active_model: open lock file: No such file or directory
X
same "set unwritable: nothing to eval" out </dev/null

# Setting the role already set leaves the file alone; another role replaces it (a new inode).
"$SW" set primary >/dev/null
i1=$(ls -i .active_model | cut -d' ' -f1)
"$SW" set primary >/dev/null
i2=$(ls -i .active_model | cut -d' ' -f1)
"$SW" set secondary >/dev/null
i3=$(ls -i .active_model | cut -d' ' -f1)
[ "$i1" = "$i2" ] || fail "setting the active role again rewrote the file"
[ "$i2" != "$i3" ] || fail "setting another role did not replace the file"
grep -qx "role=secondary" .active_model || fail "set secondary did not record it"

# A folder where the active file should be: the rename fails, and no temporary file is left.
mkdir "$T/adir"
run "set onto a folder" 3 "$SW" set primary --active-file "$T/adir"
same "set onto a folder" err <<X
switch: error: $T/adir: rename: Is a directory
X
[ -z "$(ls "$T" | grep 'adir.tmp')" ] || fail "a failed rename left its temporary file"

# The active file's place: option over environment over the current directory.
MODELC_ACTIVE_FILE="$T/env_active" "$SW" set math >/dev/null || fail "set with MODELC_ACTIVE_FILE"
grep -qx "role=math" "$T/env_active" || fail "MODELC_ACTIVE_FILE was not used"
MODELC_ACTIVE_FILE="$T/env_active" "$SW" set fallback --active-file="$T/opt_active" >/dev/null || fail "set --active-file="
grep -qx "role=fallback" "$T/opt_active" || fail "--active-file did not win over MODELC_ACTIVE_FILE"
grep -qx "role=math" "$T/env_active" || fail "--active-file still wrote MODELC_ACTIVE_FILE"

# 100 concurrent set calls leave one whole file naming one of the roles, and no temporary files.
mkdir "$T/race"
i=0
while [ $i -lt 100 ]; do
	case $((i % 3)) in 0) r=primary ;; 1) r=secondary ;; *) r=weird ;; esac
	"$SW" set $r --active-file "$T/race/.active_model" >/dev/null 2>>"$T/race.err" &
	i=$((i + 1))
done
wait
[ -s "$T/race.err" ] && { fail "concurrent set printed errors"; cat "$T/race.err"; }
MODELC_ACTIVE_FILE="$T/race/.active_model" "$SW" current >"$T/out" 2>"$T/err" || fail "the file after the race is not valid"
grep -qE '^(primary|secondary|weird) ' "$T/out" || fail "the race left: $(cat "$T/out")"
[ "$(wc -l <"$T/race/.active_model")" -eq 3 ] || fail "the race left a file of $(wc -l <"$T/race/.active_model") lines"
[ "$(ls -A "$T/race" | sort | tr '\n' ' ')" = ".active_model .active_model.lock " ] ||
	fail "the race left: $(ls -A "$T/race")"

# list marks the active role and reports cached files; --json for scripts.
"$SW" set primary >/dev/null
primary_snapshot some
run "list partial" 0 "$SW" list
has "list partial" out "* primary       hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4  awq              8192  fits        partial 1/2"
primary_snapshot all
run "list json" 0 "$SW" list --json
/usr/bin/python3 - "$T/out" "$TABLE" "$T/catalog" <<'X' || fail "list --json"
import hashlib, json, sys
doc = json.load(open(sys.argv[1]))
# The table: where it is, what it was built from (sha256 of models.yaml then models.lock), when.
cat = open(sys.argv[3] + "/models.yaml", "rb").read() + open(sys.argv[3] + "/models.lock", "rb").read()
assert doc["table"] == sys.argv[2] and doc["catalog"] == "models.yaml", doc
assert doc["digest"] == hashlib.sha256(cat).hexdigest(), doc["digest"]
assert doc["stale"] is False and doc["build_time"] > 1600000000, doc
assert len(doc["built"]) == 20 and doc["built"].endswith("Z"), doc["built"]
rows = doc["roles"]
assert [r["role"] for r in rows] == ["code", "fallback", "math", "primary", "secondary", "unsized", "weird",
                                     "unexportable"], rows
p = rows[3]
assert p == {"role": "primary", "model_id": "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4",
             "quantization": "awq", "max_model_len": 8192, "verdict": "fits", "files": "present",
             "files_present": 2, "files_total": 2, "active": True}, p
assert rows[7]["model_id"] == "/mnt/f/models/it's \"$x\""
# No context computed: null for scripts, not 0.
assert rows[5]["role"] == "unsized" and rows[5]["max_model_len"] is None, rows[5]
assert sum(r["active"] for r in rows) == 1
X
same "list json: no warning with a cache" err </dev/null

# current: the active role, and the seed's "wrong model loaded" check.
run "current" 0 "$SW" --current
same "current" out <<'X'
primary hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4
X
same "current: quiet" err </dev/null
VLLM_MODEL_ID=Qwen/Qwen2.5-7B-Instruct-AWQ run "current mismatch" 0 "$SW" current
same "current mismatch" err <<'X'
switch: warning: $VLLM_MODEL_ID is 'Qwen/Qwen2.5-7B-Instruct-AWQ' but .active_model says 'hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4' (wrong model loaded?); run: eval "$(switch --set primary)"
X
VLLM_MODEL_ID=hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4 run "current match" 0 "$SW" current
same "current match" err </dev/null
run "current none" 1 "$SW" current --active-file "$T/none"
same "current none" err <<X
switch: error: no active model: '$T/none' does not exist; run: eval "\$(switch --set primary)"
X
printf 'role=primary\nmodel_id=old/model\n' >"$T/stale"
run "current stale" 0 "$SW" current --active-file "$T/stale"
same "current stale" err <<X
switch: warning: $T/stale names model 'old/model' for 'primary', but the catalog now has 'hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4'; run switch --set primary again
X
printf 'role=primary\nmodel=x\n' >"$T/bad"
run "current malformed" 1 "$SW" current --active-file "$T/bad"
same "current malformed" err <<X
switch: error: $T/bad:2: not a file switch wrote (expected role=... and model_id=...)
X
printf 'role=gone\nmodel_id=x\n' >"$T/gone"
run "current gone" 1 "$SW" current --active-file "$T/gone"
same "current gone" err <<X
switch: error: $T/gone: role 'gone' is not in this build's catalog 'models.yaml'
X
mkdir "$T/dir_active"
run "current unreadable" 3 "$SW" current --active-file "$T/dir_active"
same "current unreadable" err <<X
switch: error: $T/dir_active: Is a directory
X
run "current usage" 2 "$SW" current extra
has "current usage" err "switch: error: current: unknown option 'extra'"

# serve runs in switch-host, which switch execs from its own folder: without it,
# switch says where it looked and how to get it; with it, the sibling gets the same arguments.
mkdir "$T/alone"
cp "$SW" "$T/alone/switch"
run "no switch-host" 3 "$T/alone/switch" --table "$TABLE" serve primary --dry-run
same "no switch-host" err <<X
switch: error: cannot run $T/alone/switch-host: No such file or directory (switch-host is installed beside switch: run 'make install', or build both with 'make config')
X
run "no switch-host, list" 0 "$T/alone/switch" --table "$TABLE" list
ln -s "$SW" "$T/alone/link"
run "switch-host by a link" 0 "$T/alone/link" --table "$TABLE" serve primary --dry-run
contains "switch-host by a link" out "vllm serve"

# No heap: neither static link (switch, switch-host) holds an allocator at all (unstripped links
# of the same objects; switch-host's main is main.c compiled with -DSWITCH_HOST).
if command -v nm >/dev/null 2>&1; then
	for prog in switch switch-host; do
		main=main
		[ "$prog" = switch-host ] && main=main-host
		objs=$(cd "$ROOT" && ls "$BUILD"/musl/runtime/switch/*.o | grep -v '/main\(-host\)\?\.o$')
		# shellcheck disable=SC2086
		(cd "$ROOT" && ${MUSLCC:-musl-gcc} -static -Wl,--gc-sections -o "$T/$prog.unstripped" \
			"$BUILD"/musl/common/*.o "$BUILD"/musl/runtime/http/*.o $objs "$BUILD/musl/runtime/switch/$main.o") ||
			fail "cannot link an unstripped $prog"
		nm "$T/$prog.unstripped" | grep -E ' T (malloc|calloc|realloc|free)$' >"$T/heap" &&
			{ fail "$prog links an allocator"; cat "$T/heap"; }
	done
fi

finish
