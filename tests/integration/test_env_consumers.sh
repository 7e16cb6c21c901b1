#!/bin/sh
# generated/.env must read back byte for byte the same in bash, dash, python-dotenv (Debian's,
# under /usr/bin/python3) and node dotenv (node_modules), for every key, and sourcing it must
# run nothing. Checked on a hand-built plan full of awkward paths, role names and comments
# (tests/integration/emit_demo.c, which also covers repo roles and U+2028, which the YAML front
# end refuses), on an awkward catalog through `modelc build` (awkward_catalog.py), and on the
# generated/.env of the shipped catalog.
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
for tool in bash dash node; do
	command -v $tool >/dev/null 2>&1 || { echo "$tool is missing (scripts/deps.sh installs it)"; exit 77; }
done
/usr/bin/python3 -c 'import dotenv' 2>/dev/null || { echo "python3-dotenv is missing (scripts/deps.sh)"; exit 77; }
[ -d node_modules/dotenv ] || { echo "npm dotenv is missing (npm ci)"; exit 77; }
. tests/integration/emit_demo.sh

# Each reader prints KEY=HEX(value) for the keys in $2, or KEY unset; readers of a parser also
# list keys the file defines beyond those (a line the parser misread as an assignment).
read_shell() { # shell envfile keys
	env -i PATH=/usr/bin:/bin "$1" -c '
		cd "$(dirname "$1")" || exit 1
		set -a; . "./$(basename "$1")"; set +a
		while read -r k; do
			eval "isset=\${$k+y}"
			if [ "$isset" = y ]; then
				eval "v=\${$k}"
				printf "%s=" "$k"; printf "%s" "$v" | od -An -v -tx1 | tr -d " \n"; echo
			else
				echo "$k unset"
			fi
		done < "$2"' sh "$2" "$3"
}
read_python() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import sys
from dotenv import dotenv_values
vals = dotenv_values(sys.argv[1])
keys = [k.rstrip("\n") for k in open(sys.argv[2])]
for k in keys:
    v = vals.get(k)
    print(k + " unset" if v is None else k + "=" + v.encode("utf-8").hex())
for k in sorted(set(vals) - set(keys)):
    print("EXTRA " + k)
PY
}
read_node() {
	node -e '
		const fs = require("fs");
		const vals = require("dotenv").parse(fs.readFileSync(process.argv[1]));
		const keys = fs.readFileSync(process.argv[2], "utf8").split("\n").filter(Boolean);
		let out = "";
		for (const k of keys)
			out += k in vals ? k + "=" + Buffer.from(vals[k], "utf8").toString("hex") + "\n" : k + " unset\n";
		for (const k of Object.keys(vals).filter(k => !keys.includes(k)).sort())
			out += "EXTRA " + k + "\n";
		process.stdout.write(out);
	' "$1" "$2"
}

# compare FILE KEYS: all four readers agree; prints the agreed reading into $work/agreed
compare() {
	read_shell bash "$1" "$2" >"$work/bash.out" || return 1
	read_shell dash "$1" "$2" >"$work/dash.out" || return 1
	read_python "$1" "$2" >"$work/python.out" || return 1
	read_node "$1" "$2" >"$work/node.out" || return 1
	same=0
	for r in dash python node; do
		if ! diff -u "$work/bash.out" "$work/$r.out"; then
			echo "FAIL: $1: bash and $r read different values"
			same=1
		fi
	done
	cp "$work/bash.out" "$work/agreed"
	return $same
}

status=0
mkdir -p "$work/run"
(cd "$work/run" && "$work/emit_demo" awkward "$work/run/out" >"$work/expected") || { echo "FAIL: emit_demo awkward"; exit 1; }
"$work/emit_demo" keys >"$work/keys"
for f in .env .env.example; do
	compare "$work/run/out/$f" "$work/keys" || status=1
	if grep -q ' unset$' "$work/agreed"; then
		echo "FAIL: $f: keys missing:"; grep ' unset$' "$work/agreed"; status=1
	fi
	# The values the plan set, byte for byte.
	while read -r line; do
		grep -qxF "$line" "$work/agreed" || { echo "FAIL: $f: expected $line"; status=1; }
	done <"$work/expected"
done
# The same kind of catalog through the real pipeline: models.yaml -> modelc build.
/usr/bin/python3 tests/integration/awkward_catalog.py "$work/real" || { echo "FAIL: awkward_catalog.py"; exit 1; }
if (cd "$work/real" && "$BIN/modelc" build -o out) >"$work/real.log" 2>&1; then
	for f in .env .env.example; do
		compare "$work/real/out/$f" "$work/real/keys" || status=1
		if grep -q ' unset$' "$work/agreed"; then
			echo "FAIL: modelc build: $f: keys missing:"; grep ' unset$' "$work/agreed"; status=1
		fi
		while read -r line; do
			grep -qxF "$line" "$work/agreed" || { echo "FAIL: modelc build: $f: expected $line"; status=1; }
		done <"$work/real/expected"
	done
	echo "awkward catalog through modelc build: $(wc -l <"$work/real/keys") keys read identically"
else
	echo "FAIL: modelc build on the awkward catalog:"; cat "$work/real.log"; status=1
fi

# Nothing ran: the shell bait in the values created no files.
for bait in pwned1 pwned2; do
	for d in "$work/run/out" "$work/run" "$work/real" "$work/real/out"; do
		if [ -e "$d/$bait" ]; then
			echo "FAIL: sourcing .env ran a command ($d/$bait exists)"; status=1
		fi
	done
done
# A comment with a line break in the catalog stays a comment everywhere.
grep -q '^EVIL\|^OTHER\|EXTRA' "$work/python.out" "$work/node.out" && { echo "FAIL: comment text became a key"; status=1; }

# The shipped catalog, through the real pipeline.
if "$BIN/modelc" build models.yaml -o "$work/shipped" >"$work/build.log" 2>&1; then
	grep -o '^[A-Za-z_][A-Za-z0-9_]*=' "$work/shipped/.env" | tr -d = | sort -u >"$work/shipped.keys"
	[ -s "$work/shipped.keys" ] || { echo "FAIL: shipped .env has no keys"; status=1; }
	for f in .env .env.example; do
		compare "$work/shipped/$f" "$work/shipped.keys" || status=1
		grep -q 'unset$\|^EXTRA' "$work/agreed" "$work/python.out" "$work/node.out" &&
			{ echo "FAIL: shipped $f: a key is missing or extra"; status=1; }
	done
	echo "shipped catalog: $(wc -l <"$work/shipped.keys") keys read identically"
else
	echo "FAIL: modelc build on the shipped catalog:"; cat "$work/build.log"; status=1
fi
[ $status -eq 0 ] && echo "awkward plan: $(wc -l <"$work/keys") keys read identically by bash, dash, python-dotenv, node dotenv"
exit $status
