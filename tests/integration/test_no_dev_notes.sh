#!/bin/sh
# No development notes in what users see (issue 12, item 4): the shipped catalog's generated/
# outputs, the shipped data files (models.yaml, models.lock, schemas/*.json) and the programs'
# strings must not name the project's reference files, its test fixtures or test machines, or
# carry notes such as "the test reduced ..." that only make sense to whoever wrote them. Every
# hit is listed (file:line or program, the marker, the text); any hit fails the test.
set -u
: "${BIN:?BIN must point at build/bin}"
command -v strings >/dev/null 2>&1 || { echo "strings is missing (binutils)" >&2; echo "strings is missing (binutils)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# Case-insensitive fixed strings, one a line.
cat >"$work/markers" <<'EOF'
shared/reference
seed-models.md
model-arch.csv
vllm-cases
tests/fixtures
the test reduced
sources conflict
measured here
the only card measured
H100 figure
test machine
EOF

hits="$work/hits"
: >"$hits"

# 1. The shipped catalog, built as a user builds it.
if ! "$BIN/modelc" build models.yaml -o "$work/generated" >"$work/build.log" 2>&1; then
	echo "FAIL: modelc build models.yaml"; cat "$work/build.log"; exit 1
fi
# What modelc build and check print is user-visible too.
"$BIN/modelc" check models.yaml >>"$work/build.log" 2>&1
# Each file under generated/ (relative names), the build's own messages, and the shipped data.
(cd "$work" && find generated -type f | LC_ALL=C sort) >"$work/files"
while IFS= read -r f; do
	grep -n -i -F -f "$work/markers" "$work/$f" 2>/dev/null | sed "s|^|$f:|" >>"$hits"
done <"$work/files"
grep -n -i -F -f "$work/markers" "$work/build.log" | sed 's|^|modelc build/check output:|' >>"$hits"
for f in models.yaml models.lock schemas/*.json; do
	[ -f "$f" ] || continue
	grep -n -i -F -f "$work/markers" "$f" | sed "s|^|$f:|" >>"$hits"
done

# 2. The programs' strings: messages, help texts and comments they write.
for prog in modelc fetch bench switch; do
	[ -x "$BIN/$prog" ] || continue
	strings -n 6 "$BIN/$prog" | grep -i -F -f "$work/markers" | LC_ALL=C sort -u |
		sed "s|^|$prog (program string): |" >>"$hits"
done

if [ -s "$hits" ]; then
	n=$(wc -l <"$hits" | tr -d ' ')
	echo "FAIL: $n development note(s) in what users see (markers: $(tr '\n' ';' <"$work/markers" | sed 's/;$//; s/;/, /g')):"
	sed 's/^/  /' "$hits"
	exit 1
fi
echo "no development notes in generated/, the shipped data or the programs' strings"
