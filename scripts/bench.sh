#!/bin/sh
# make bench: every benchmark section in turn. Each prints numbers measured side by side in
# this one run, with ratios; nothing here asserts a time. $BIN is build/bin (absolute).
set -u
cd "$(dirname "$0")/.."
: "${BIN:=$(pwd)/build/bin}"
export BIN
section() { printf '\n== %s ==\n' "$1"; }

# Sections are added below, one per program.
