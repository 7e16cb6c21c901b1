#!/bin/sh
# generated/llama-swap.yaml as llama-swap reads it (tests/integration/llamaswap_check.js: its
# schema with ajv, our key whitelist, members and sets defined, commands as planned), for a
# catalog whose fitting groups are disjoint (llama-swap groups), one where a role is in two
# (the matrix), and the shipped catalog (no groups); yamllint's default rules when installed;
# the same bytes from a second build.
set -u
: "${BIN:?BIN must point at build/bin}"
command -v node >/dev/null 2>&1 || { echo "node is not installed (scripts/deps.sh installs it)"; exit 77; }
[ -d node_modules/ajv ] && [ -d node_modules/yaml ] && [ -d node_modules/dotenv ] ||
	{ echo "npm packages ajv, yaml and dotenv are missing (run scripts/deps.sh)"; exit 77; }
MODELC_SCHEMA_DIR=$(pwd -P)/schemas
export MODELC_SCHEMA_DIR
here=$(pwd -P)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
status=0
check() {   # DIR ROUTING
	"$BIN/modelc" build -o "$1/out" "$1/models.yaml" >/dev/null 2>"$1/err" || { cat "$1/err"; echo "FAIL: build in $1"; status=1; return; }
	node "$here/tests/integration/llamaswap_check.js" "$1/out/llama-swap.yaml" "$1/out/.env" "$2" || status=1
	if command -v yamllint >/dev/null 2>&1; then
		yamllint -s -d '{extends: default, rules: {line-length: {max: 160}}}' "$1/out/llama-swap.yaml" ||
			{ echo "FAIL: yamllint"; status=1; }
	else
		echo "skip yamllint: not installed (apt-get install yamllint)"
	fi
	cp "$1/out/llama-swap.yaml" "$1/first.yaml"
	"$BIN/modelc" build -o "$1/out" "$1/models.yaml" >/dev/null 2>&1
	cmp -s "$1/first.yaml" "$1/out/llama-swap.yaml" || { echo "FAIL: a second build differs"; status=1; }
}
mkdir "$work/groups" "$work/matrix" "$work/seed"
cp tests/golden/build_together_fits/models.yaml tests/golden/build_together_fits/models.lock "$work/groups/"
check "$work/groups" groups
cp tests/golden/build_together_fits/models.lock "$work/matrix/"
sed -e 's/^together:$//' -e 's/^  groups:$//' -e 's/^    assist:.*//' tests/golden/build_together_fits/models.yaml >"$work/matrix/models.yaml"
cat >>"$work/matrix/models.yaml" <<'YAML'
  tiny2:
    repo: Qwen/Qwen2.5-0.5B-Instruct
    quantization: none
    dtype: half
    max_model_len: 4096
together:
  groups:
    assist: [lightweight, tiny]
    small: [tiny, tiny2]
YAML
check "$work/matrix" matrix
grep -q '"small": "tiny & tiny2"' "$work/matrix/out/llama-swap.yaml" || { echo "FAIL: the matrix has no set 'small'"; status=1; }
cp models.yaml models.lock "$work/seed/"
check "$work/seed" none
[ $status -eq 0 ] && echo "llama-swap.yaml: valid for llama-swap in all three catalogs"
exit $status
