#!/bin/sh
# generated/switch.table reads back through common/model_table.c, built with the Makefile's
# strict flags (plus -Werror) under cc and musl-gcc, into entries that match the manifests. Run
# on the seed-like plan and on one full of awkward strings (tests/integration/emit_demo.c), on an
# awkward catalog through modelc build (awkward_catalog.py), and on the shipped catalog.
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
. tests/integration/emit_demo.sh
WARN="-Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror"
FLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L $WARN -Icommon"
status=0

# The manifests in table order, printed the way table_print.c prints the table.
from_manifests() { # DIR
	/usr/bin/python3 - "$1" <<'PY'
import json, re, sys
d = sys.argv[1]
# the order of entries is the catalog's; read it from the .env's role comments
roles = [m for m in re.findall(r"^# role (\S+?):", open(d + "/.env", encoding="utf-8").read(), re.M)]
def h(s):
    return "null" if s is None else s.encode("utf-8").hex()
print("count=%d" % len(roles))
for r in roles:
    m = json.load(open("%s/manifests/%s.json" % (d, r), encoding="utf-8"))
    print("role=" + h(m["role"]))
    for k in ("repo", "revision", "commit", "local_dir"):
        print(k + "=" + h(m[k]))
    for f in m["files"]:
        print("path=" + h(f["path"]))
        print("size=%d" % (f["size"] or 0))
    print("total=%d" % m["total_bytes"])
PY
}

check_dir() { # NAME DIR
	for cc in "${CC:-cc}" musl-gcc; do
		if ! command -v "$cc" >/dev/null 2>&1; then
			echo "FAIL: $cc is missing (scripts/deps.sh installs musl-tools)"; status=1; continue
		fi
		static=""
		[ "$cc" = musl-gcc ] && static=-static
		if ! $cc $FLAGS $static -o "$work/print" tests/integration/table_print.c common/model_table.c common/model_table_serve.c common/model_table_place.c 2>"$work/cc.log"; then
			echo "FAIL: $1: the reader does not compile cleanly with $cc:"; cat "$work/cc.log"; status=1; continue
		fi
		[ -s "$work/cc.log" ] && { echo "FAIL: $1: $cc printed:"; cat "$work/cc.log"; status=1; }
		"$work/print" "$2/switch.table" >"$work/table.out" || { echo "FAIL: $1: the table does not read"; status=1; continue; }
		from_manifests "$2" >"$work/manifest.out" || { echo "FAIL: $1: reading the manifests"; status=1; continue; }
		if ! diff -u "$work/manifest.out" "$work/table.out"; then
			echo "FAIL: $1: the table ($cc) and the manifests disagree"; status=1
		fi
	done
	# Its budget.svg must be well-formed XML too.
	if command -v xmllint >/dev/null 2>&1 && ! xmllint --noout "$2/budget.svg"; then
		echo "FAIL: $1: budget.svg is not well-formed XML"; status=1
	fi
	echo "$1: switch.table reads with cc and musl-gcc; $(grep -c '^role=' "$work/table.out") entries match the manifests"
}

(cd "$work" && ./emit_demo seed "$work/seed" && ./emit_demo awkward "$work/awkward" >/dev/null) ||
	{ echo "FAIL: emit_demo"; exit 1; }
check_dir seed "$work/seed"
check_dir awkward "$work/awkward"
/usr/bin/python3 tests/integration/awkward_catalog.py "$work/real" || { echo "FAIL: awkward_catalog.py"; exit 1; }
if (cd "$work/real" && "$BIN/modelc" build -o out) >"$work/real.log" 2>&1; then
	check_dir "awkward catalog (modelc build)" "$work/real/out"
else
	echo "FAIL: modelc build on the awkward catalog:"; cat "$work/real.log"; status=1
fi
if "$BIN/modelc" build models.yaml -o "$work/shipped" >"$work/build.log" 2>&1; then
	check_dir shipped "$work/shipped"
else
	echo "FAIL: modelc build on the shipped catalog:"; cat "$work/build.log"; status=1
fi
exit $status
