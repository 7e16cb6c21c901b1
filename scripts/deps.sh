#!/bin/sh
# Install what modelc's build and tests need; do nothing when all of it is present.
# When not root, print the command a root user would run instead.
set -eu
cd "$(dirname "$0")/.."

# Debian packages: build libraries, the musl toolchain for the static switch,
# and the real consumers that tests check our output against.
PKGS="build-essential pkg-config libyaml-dev libcurl4-openssl-dev libsodium-dev
libcunit1-dev libjansson-dev libssl-dev musl-tools libxml2-utils python3-dotenv
clang llvm libclang-rt-14-dev valgrind curl coreutils iproute2 python3-yaml groff-base"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
# nodejs and npm may come from outside Debian; Debian's npm conflicts with that nodejs.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -n "$missing" ]; then
	cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$missing"
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: missing packages:$missing" >&2
		echo "deps.sh: run as root: $cmd" >&2
		exit 3
	fi
	echo "deps.sh: installing$missing" >&2
	sh -c "$cmd" >&2
fi

# npm packages (ajv, yaml, dotenv, @huggingface/hub) from the committed lock file.
if [ -f package-lock.json ]; then
	if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
		npm ci --no-audit --no-fund >&2
	fi
fi
