#!/bin/sh
# Every docs/*.1 renders with groff's man/mdoc macros without a warning (-ww: all of them), its
# .Dt names the file, and docs/modelc.1 documents every command `modelc --help` lists and
# every key `modelc fit` prints. Skipped (77) without groff (Debian: groff-base).
set -u
: "${BIN:?BIN must point at build/bin}"
command -v groff >/dev/null 2>&1 || { echo "groff is missing (groff-base, scripts/deps.sh)"; exit 77; }
MODELC_SCHEMA_DIR=${MODELC_SCHEMA_DIR:-$(pwd -P)/schemas}
export MODELC_SCHEMA_DIR LC_ALL=C.UTF-8
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
fail=0

render() { # PAGE: its warnings on stdout, none when clean
	groff -mandoc -Tutf8 -ww -z "$1" 2>&1
}

# The check itself must be able to fail: a page with an unknown macro and a bad .Bl warns.
printf '.Dd November 26, 2026\n.Dt BROKEN 1\n.Os\n.Sh NAME\n.Nm broken\n.Nd test\n.Sh DESCRIPTION\n.Bl -tag\n.It x\n.Xyzzy y\n' >"$work/broken.1"
[ -n "$(render "$work/broken.1")" ] || { echo "FAIL: groff -ww printed no warning for a broken page"; fail=1; }

n=0
for page in docs/*.1; do
	n=$((n + 1))
	out=$(render "$page")
	[ -z "$out" ] || { echo "FAIL: $page renders with warnings:"; echo "$out"; fail=1; }
	name=$(basename "$page" .1 | tr 'a-z' 'A-Z')
	grep -qx "\.Dt $name 1" "$page" || grep -q "^\.TH $name 1" "$page" ||
		{ echo "FAIL: $page does not declare '$name 1' in .Dt or .TH"; fail=1; }
done
[ $n -ge 4 ] || { echo "FAIL: expected docs/modelc.1, switch.1, fetch.1 and bench.1; found $n pages"; fail=1; }

# modelc.1 against the program: the commands, and the keys of fit's JSON.
cmds=$("$BIN/modelc" --help | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p')
[ -n "$cmds" ] || { echo "FAIL: no commands in modelc --help"; fail=1; }
for c in $cmds; do
	grep -q "^\.It Cm $c\b" docs/modelc.1 || { echo "FAIL: docs/modelc.1 has no entry for 'modelc $c'"; fail=1; }
done
printf '{"num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "hidden_size": 256}\n' >"$work/config.json"
"$BIN/modelc" fit --config "$work/config.json" --weights-bytes 1000000 --gpu-memory 8GiB --utilization 0.9 \
	--max-model-len 1024 >"$work/fit.json" || { echo "FAIL: modelc fit"; fail=1; }
/usr/bin/python3 - "$work/fit.json" docs/modelc.1 <<'PY' || fail=1
import json, re, sys
keys = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
missing = [k for k in list(keys) + list(keys["sources"]) if not re.search(r"\b%s\b" % re.escape(k), text)]
if missing:
    print("FAIL: docs/modelc.1 does not name fit's keys: " + ", ".join(missing))
    sys.exit(1)
PY
[ $fail -eq 0 ] && echo "$n man pages render without warnings; modelc.1 names every command and fit key"
exit $fail
