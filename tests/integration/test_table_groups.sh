#!/bin/sh
# The serving sections of generated/switch.table read back through the reader the proxy uses
# (table_print --serving, built with musl-gcc when there is one, as switch is): every group
# that fits with its members' limits, the same as the .env's GROUP_* values; the roles' TTL,
# sleep level and aliases as the catalog gives them; a pair from all_pairs flagged as one.
set -u
: "${BIN:?BIN must point at build/bin}"
MODELC_SCHEMA_DIR=$(pwd -P)/schemas
export MODELC_SCHEMA_DIR
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
cc=${CC:-cc}
command -v musl-gcc >/dev/null 2>&1 && cc="musl-gcc -static"
$cc -std=c11 -D_POSIX_C_SOURCE=200809L -Icommon -o "$work/print" tests/integration/table_print.c common/model_table.c common/model_table_serve.c common/model_table_place.c ||
	{ echo "FAIL: cannot build table_print"; exit 1; }
cp tests/golden/build_together_fits/models.yaml tests/golden/build_together_fits/models.lock "$work/"
# all_pairs adds the pair lightweight+tiny: the same two roles, flagged as a pair.
printf '%s\n' '  all_pairs: true' >>"$work/models.yaml"
"$BIN/modelc" build -o "$work/out" "$work/models.yaml" 2>/dev/null || { echo "FAIL: build"; exit 1; }
"$work/print" --serving "$work/out/switch.table" >"$work/serving" || { echo "FAIL: the serving sections do not read"; exit 1; }
cat "$work/serving"
status=0
want() { grep -q -- "$1" "$work/serving" || { echo "FAIL: no line matching '$1'"; status=1; }; }
want '^role lightweight ttl=600 sleep=1 .* aliases=phi,phi-3.5-mini$'
want '^role tiny ttl=0 sleep=2 .* host=0 '
want '^group assist pairs=0 '
want '^group lightweight+tiny pairs=1 '
. "$work/out/.env"
want "^  member lightweight start=0 util=$GROUP_ASSIST_LIGHTWEIGHT_GPU_MEMORY_UTILIZATION len=$GROUP_ASSIST_LIGHTWEIGHT_MAX_MODEL_LEN "
want "^  member tiny start=1 util=$GROUP_ASSIST_TINY_GPU_MEMORY_UTILIZATION len=$GROUP_ASSIST_TINY_MAX_MODEL_LEN "
# Each member's peak fits the group's; each start finds what it needs (free_at_start).
awk '/^group/ { split($4, g, "="); total = g[2] } /^  member/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	if (v["gpu"] + 0 > total + 0 || v["asleep"] + 0 > v["gpu"] + 0) { print "FAIL: " $0; bad = 1 } } END { exit bad }' "$work/serving" || status=1
[ $status -eq 0 ] && echo "switch.table: groups and serving records read back as planned"
exit $status
