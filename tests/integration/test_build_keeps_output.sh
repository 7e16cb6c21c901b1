#!/bin/sh
# A failed build writes nothing: a previous output directory stays byte for byte the same,
# and no temporary file or directory is left next to it. A good build replaces it whole and
# is deterministic (two runs, the same bytes).
set -u
: "${BIN:?BIN must point at build/bin}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
case_dir=tests/golden/build_ok
cp "$case_dir/models.yaml" "$case_dir/models.lock" "$work/"
cd "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }

# The runtime table records the build time: fixed, as reproducible builds fix it.
export SOURCE_DATE_EPOCH=1700000000
"$BIN/modelc" build -o gen 2>err || { cat err; fail "the good catalog did not build"; }
cp -Rp gen before
"$BIN/modelc" build -o gen2 2>/dev/null || fail "second build failed"
diff -r gen gen2 >/dev/null || fail "two builds of the same catalog differ"

# Each kind of failure: YAML, lock, rule (does not fit).
sed 's/max_model_len: 8192/max_model_len: [8192]/' models.yaml >bad-schema.yaml
sed 's/max_model_len: 8192/max_model_len: 32768/' models.yaml >bad-fit.yaml
printf '{"lock_version": 1, "models": {,}}\n' >bad.lock
for args in "bad-schema.yaml" "bad-fit.yaml" "models.yaml --lock bad.lock"; do
	# shellcheck disable=SC2086
	"$BIN/modelc" build $args -o gen 2>err
	rc=$?
	[ $rc -eq 1 ] || { cat err; fail "build $args exited $rc, expected 1"; }
	tail -n 1 err | grep -q 'errors\{0,1\}; nothing written$' || { cat err; fail "build $args: no 'nothing written' line"; }
	diff -r before gen || fail "build $args changed the previous output"
	leftovers=$(ls -A . | grep -v -x -e gen -e gen2 -e before -e err -e models.yaml -e models.lock \
		-e bad-schema.yaml -e bad-fit.yaml -e bad.lock)
	[ -z "$leftovers" ] || fail "build $args left: $leftovers"
done
echo "a failed build leaves the previous output untouched; builds are deterministic"
