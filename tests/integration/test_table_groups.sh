#!/bin/sh
# The serving sections of generated/switch.table read back through the reader the proxy uses
# (table_print --serving, built with musl-gcc when there is one, as switch is): every group
# that fits with its members' limits, the same as the .env's GROUP_* values; the roles' TTL,
# sleep level and aliases as the catalog gives them; a pair from all_pairs flagged as one.
# Each utilization is one fact written in several places: a member's share has the same digits
# in .env, budget.txt, modelc explain and llama-swap.yaml's command, and the table holds the
# very number .env prints; a role's own utilization (lowered here, on a 6 GiB card) has the
# same digits in .env, llama-swap.yaml and the argv switch serve builds.
set -u
: "${BIN:?BIN must point at build/bin}"
MODELC_SCHEMA_DIR=$(pwd -P)/schemas
export MODELC_SCHEMA_DIR
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
cc=${CC:-cc}
command -v musl-gcc >/dev/null 2>&1 && cc="musl-gcc -static"
$cc -std=c11 -D_POSIX_C_SOURCE=200809L -Icommon -o "$work/print" tests/integration/table_print.c common/model_table.c ||
	{ echo "FAIL: cannot build table_print"; exit 1; }
cp tests/golden/build_together_fits/models.yaml tests/golden/build_together_fits/models.lock "$work/"
# tiny at 4096 tokens: its share, 0.226, has fewer than 4 decimals.
sed -i 's/max_model_len: 8192/max_model_len: 4096/' "$work/models.yaml"
# all_pairs adds the pair lightweight+tiny: the same two roles, flagged as a pair.
printf '%s\n' '  all_pairs: true' >>"$work/models.yaml"
"$BIN/modelc" build -o "$work/out" "$work/models.yaml" 2>/dev/null || { echo "FAIL: build"; exit 1; }
"$work/print" --serving "$work/out/switch.table" >"$work/serving" || { echo "FAIL: the serving sections do not read"; exit 1; }
cat "$work/serving"
status=0
fail() { echo "FAIL: $*"; status=1; }
want() { grep -q -- "$1" "$work/serving" || fail "no line matching '$1'"; }
want '^role lightweight ttl=600 sleep=1 .* aliases=phi,phi-3.5-mini$'
want '^role tiny ttl=0 sleep=2 .* host=0 '
want '^group assist pairs=0 '
want '^group lightweight+tiny pairs=1 '
. "$work/out/.env"
[ "$GROUP_ASSIST_TINY_GPU_MEMORY_UTILIZATION" = 0.226 ] ||
	fail "tiny's share is '$GROUP_ASSIST_TINY_GPU_MEMORY_UTILIZATION', not the 0.226 this test is about"
want "^  member lightweight start=0 util=[0-9.]* len=$GROUP_ASSIST_LIGHTWEIGHT_MAX_MODEL_LEN "
want "^  member tiny start=1 util=[0-9.]* len=$GROUP_ASSIST_TINY_MAX_MODEL_LEN "

# table_print prints the table's double as %.4f: it must be the number .env prints, as a number.
same_number() { awk -v a="$2" -v b="$3" 'BEGIN { exit !(a + 0 == b + 0 && a != "") }' || fail "$1: '$2' is not '$3'"; }
# The first share in the table for role $1 (group assist comes first), as table_print wrote it.
table_util() { sed -n "s/^  member $1 start=[0-9]* util=\([0-9.]*\) .*/\1/p" "$work/serving" | head -n 1; }
# The --gpu-memory-utilization of model $2 in llama-swap.yaml $1, as the shell reads the word.
swap_util() { awk -v m="  $2:" '$0 == m { on = 1; next } /^  [^ ]/ { on = 0 }
	on && $1 == "--gpu-memory-utilization" { print $2; exit }' "$1" | tr -d "'"; }
# The utilization modelc explain GROUP (and budget.txt) gives member $2.
told_util() { sed -n "s/^  [0-9]*\. $2: gpu_memory_utilization \([0-9.]*\),.*/\1/p" "$1" | head -n 1; }
"$BIN/modelc" explain assist "$work/models.yaml" >"$work/explain" 2>/dev/null || fail "modelc explain assist"
for role in lightweight tiny; do
	key=GROUP_ASSIST_$(echo "$role" | tr a-z A-Z)_GPU_MEMORY_UTILIZATION
	eval "env_util=\$$key"
	same_number "switch.table's share of $role" "$(table_util "$role")" "$env_util"
	got=$(swap_util "$work/out/llama-swap.yaml" "$role")
	[ "$got" = "$env_util" ] || fail "llama-swap.yaml runs $role at '$got', .env says $key='$env_util'"
	got=$(told_util "$work/out/budget.txt" "$role")
	[ "$got" = "$env_util" ] || fail "budget.txt gives $role '$got', .env says $key='$env_util'"
	got=$(told_util "$work/explain" "$role")
	[ "$got" = "$env_util" ] || fail "modelc explain assist gives $role '$got', .env says $key='$env_util'"
done
# Each member's peak fits the group's; each start finds what it needs (free_at_start).
awk '/^group/ { split($4, g, "="); total = g[2] } /^  member/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	if (v["gpu"] + 0 > total + 0 || v["asleep"] + 0 > v["gpu"] + 0) { print "FAIL: " $0; bad = 1 } } END { exit bad }' "$work/serving" || status=1

# A role alone, its utilization lowered so that the CUDA context fits beside it on a 6 GiB card.
mkdir "$work/alone" "$work/bin"
sed -e 's/^  profile: rtx3070-8gb$/  memory: 6 GiB/' -e '/^together:$/,$d' tests/golden/build_together_fits/models.yaml \
	>"$work/alone/models.yaml"
cp tests/golden/build_together_fits/models.lock "$work/alone/"
"$BIN/modelc" build -o "$work/alone/out" "$work/alone/models.yaml" 2>/dev/null || fail "build of the 6 GiB catalog"
. "$work/alone/out/.env"
[ "$LIGHTWEIGHT_GPU_MEMORY_UTILIZATION" != 0.9 ] || fail "the 6 GiB catalog's utilization was not lowered"
# switch with an nvidia-smi that fails: the compiled limits, unchecked, as the table holds them.
printf '#!/bin/sh\nexit 1\n' >"$work/bin/nvidia-smi"
chmod +x "$work/bin/nvidia-smi"
PATH="$work/bin:$PATH" "$BIN/switch" --table "$work/alone/out/switch.table" serve lightweight --dry-run \
	>"$work/argv" 2>/dev/null || fail "switch serve lightweight --dry-run"
got=$(tr ' ' '\n' <"$work/argv" | sed -n '/^--gpu-memory-utilization$/{n;p;}')
[ "$got" = "$LIGHTWEIGHT_GPU_MEMORY_UTILIZATION" ] ||
	fail "switch serve passes '$got', .env says LIGHTWEIGHT_GPU_MEMORY_UTILIZATION='$LIGHTWEIGHT_GPU_MEMORY_UTILIZATION'"
got=$(swap_util "$work/alone/out/llama-swap.yaml" lightweight)
[ "$got" = "$LIGHTWEIGHT_GPU_MEMORY_UTILIZATION" ] ||
	fail "llama-swap.yaml runs lightweight at '$got', .env says '$LIGHTWEIGHT_GPU_MEMORY_UTILIZATION'"
[ $status -eq 0 ] && echo "switch.table: groups and serving records read back as planned; each utilization has one spelling"
exit $status
