#!/bin/sh
# Install the Debian packages modelc needs; do nothing when all of them are present.
#
#   sh scripts/deps.sh          what the tools need to build and run (make config)
#   sh scripts/deps.sh --test   that, plus what only the tests need, and the npm packages
#                               of package-lock.json (make test)
#
# Not root: uses sudo when there is one, else prints the command a root user would run and
# exits 3. Uses only sh, dpkg-query and apt-get, so it runs before anything is built.
set -eu
cd "$(dirname "$0")/.."

# Build and run: the C toolchain, the libraries fetch/bench/modelc link, and musl for the
# static switch.
BUILD_PKGS="build-essential pkg-config libyaml-dev libcurl4-openssl-dev libsodium-dev
libssl-dev libjansson-dev musl-tools"

# Tests only: CUnit (unit tests); clang, llvm and the clang runtime (make fuzz, llvm-cov);
# valgrind (scripts/valgrind-check.sh); xmllint (budget.svg checks); python3 with dotenv and
# yaml (the fake Hub, the stand-in vLLM, the .env consumer test, scripts/bench-switch); groff
# (man page test); curl and time (make bench compares fetch with curl, /usr/bin/time for RSS);
# iproute2 (ip, ss); mount (not essential: test_fetch_diskfull mounts a small tmpfs, and without
# it the free-space message goes unprinted and tests/check-diagnostics.py fails); nodejs and npm
# for the real consumers (ajv, yaml, dotenv, @huggingface/hub); minisign (it verifies our
# signatures, and we verify its own); yamllint (generated YAML: llama-swap.yaml, deploy files).
TEST_PKGS="libcunit1-dev clang llvm libclang-rt-14-dev valgrind libxml2-utils python3
python3-dotenv python3-yaml groff-base curl iproute2 time mount minisign docker-compose yamllint"

usage() {
	echo "usage: sh scripts/deps.sh [--test]" >&2
	exit 2
}
test=0
case $# in
0) ;;
1) if [ "$1" = --test ]; then test=1; else usage; fi ;;
*) usage ;;
esac

pkgs=$BUILD_PKGS
[ $test -eq 1 ] && pkgs="$pkgs $TEST_PKGS"
if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: no dpkg-query, so not Debian; install the equivalents of:" $pkgs \
		"$([ $test -eq 1 ] && echo nodejs npm)" >&2
	exit 3
fi
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ $test -eq 1 ]; then
	# node and npm may come from outside Debian (NodeSource bundles npm with its nodejs, and
	# Debian's npm conflicts with it): Debian's own nodejs (18.x) and npm only when absent.
	command -v node >/dev/null 2>&1 || missing="$missing nodejs"
	command -v npm >/dev/null 2>&1 || missing="$missing npm"
fi

if [ -n "$missing" ]; then
	what=$([ $test -eq 1 ] && echo "build and test" || echo "build")
	cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$missing"
	if [ "$(id -u)" -eq 0 ]; then
		echo "deps.sh: installing ($what):$missing" >&2
		sh -c "$cmd" >&2 || { echo "deps.sh: apt-get failed (exit $?): $cmd" >&2; exit 1; }
	elif command -v sudo >/dev/null 2>&1; then
		echo "deps.sh: installing ($what) with sudo:$missing" >&2
		sudo sh -c "$cmd" >&2 || { echo "deps.sh: sudo failed (exit $?); run as root: $cmd" >&2; exit 3; }
	else
		echo "deps.sh: missing packages ($what):$missing" >&2
		echo "deps.sh: run as root: $cmd" >&2
		exit 3
	fi
	echo "deps.sh: installed:$missing" >&2
fi

# npm packages (ajv, yaml, dotenv, @huggingface/hub) from the committed lock file, when
# node_modules is missing or older than package-lock.json.
if [ $test -eq 1 ] && [ -f package-lock.json ]; then
	if [ ! -d node_modules ]; then
		why="node_modules is missing"
	elif [ package-lock.json -nt node_modules/.package-lock.json ]; then
		why="node_modules is older than package-lock.json"
	else
		why=""
	fi
	if [ -n "$why" ]; then
		echo "deps.sh: npm ci ($why)" >&2
		npm ci --no-audit --no-fund >&2 || { echo "deps.sh: npm ci failed (exit $?)" >&2; exit 1; }
		echo "deps.sh: installed node_modules from package-lock.json" >&2
	fi
fi
