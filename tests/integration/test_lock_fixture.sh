#!/bin/sh
# The Qwen fixture with its real git oids. Its config.json is rebuilt byte for byte from
# seed-models.md, so it matches the real blob id 0178295f... and passes; the other small files
# are stand-ins that cannot match, and lock refuses content that disagrees with the Hub's own
# tree, naming the file and both blob ids.
set -u
. "$(dirname "$0")/../fixtures/fakehub/lib.sh"
fh_start --qwen --page-size 4
W="$T/w"
mkdir -p "$W"
cat >"$W/models.yaml" <<'YAML'
storage:
  hf_home: /srv/hf
gpu:
  memory: 80 GiB
roles:
  qwen:
    repo: Qwen/Qwen2.5-7B-Instruct
    quantization: none
    max_model_len: 8192
YAML
cd "$W"
"$BIN/modelc" lock >"$T/o1" 2>&1
[ $? -eq 1 ] || { cat "$T/o1"; fail "expected exit 1"; }
expect_in "$T/o1" "modelc: models.yaml:7:5: error: roles.qwen: generation_config.json: the content's git blob id is "
expect_in "$T/o1" ", the tree lists 0eb3c536657dcd12626e09eca4b6198c0cbcde1e"
expect_in "$T/o1" "modelc: lock: 1 error; models.lock was not changed"
[ -e models.lock ] && fail "a lock was written"
echo ok
