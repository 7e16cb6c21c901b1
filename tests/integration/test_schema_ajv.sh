#!/bin/sh
# The schema is valid for ajv (draft 2020-12, strict), and ajv (fed by npm yaml in YAML 1.2
# core mode) and `modelc check --schema-only` agree on every document of tests/schema/.
set -u
: "${BIN:?BIN must point at build/bin}"
if ! command -v node >/dev/null 2>&1; then
	echo "node is not installed (scripts/deps.sh installs it)"
	exit 77
fi
if [ ! -d node_modules/ajv ] || [ ! -d node_modules/yaml ]; then
	echo "npm packages ajv and yaml are missing (run scripts/deps.sh)"
	exit 77
fi
exec node tests/schema/ajv_check.js "$BIN/modelc"
