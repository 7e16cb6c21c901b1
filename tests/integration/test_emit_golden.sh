#!/bin/sh
# The emitters' outputs for the seed-like plan of tests/unit/emit_fixture.h, byte for byte
# against tests/fixtures/emit/seed/ (regenerate with: sh tests/integration/test_emit_golden.sh
# --update, then review the diff), and every budget.svg is well-formed XML (xmllint --noout).
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
command -v xmllint >/dev/null 2>&1 || { echo "xmllint is missing (libxml2-utils, scripts/deps.sh)"; exit 77; }
. tests/integration/emit_demo.sh
status=0
(cd "$work" && ./emit_demo seed "$work/seed" && ./emit_demo awkward "$work/awkward" >/dev/null) ||
	{ echo "FAIL: emit_demo"; exit 1; }
if [ "${1:-}" = --update ]; then
	rm -rf tests/fixtures/emit/seed && mkdir -p tests/fixtures/emit &&
		cp -R "$work/seed" tests/fixtures/emit/seed && echo "updated tests/fixtures/emit/seed"
	exit $?
fi
diff -ru tests/fixtures/emit/seed "$work/seed" || { echo "FAIL: outputs differ from tests/fixtures/emit/seed"; status=1; }
for svg in "$work/seed/budget.svg" "$work/awkward/budget.svg"; do
	xmllint --noout "$svg" || { echo "FAIL: $svg is not well-formed XML"; status=1; }
done
# Written twice, the same bytes (nothing depends on time or the order of directory listings).
(cd "$work" && ./emit_demo seed "$work/seed") || status=1
diff -ru tests/fixtures/emit/seed "$work/seed" >/dev/null || { echo "FAIL: a second run differs"; status=1; }
[ $status -eq 0 ] && echo "seed outputs match tests/fixtures/emit/seed; budget.svg is well-formed"
exit $status
