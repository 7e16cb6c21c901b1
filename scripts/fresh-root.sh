#!/bin/sh
# Run the README's two commands, `make config` then `make test`, in a pristine Debian 12 root
# (mmdebstrap --variant=apt: the essential packages, apt, ca-certificates, git and make) on a
# clone of this checkout's HEAD; fail when either fails. Uncommitted changes are not tested.
# Needs root (mmdebstrap, mount, chroot); installs mmdebstrap with apt-get when it is missing.
#
#   FRESH_ROOT_TAR=PATH   reuse this mmdebstrap tarball (made there when it does not exist yet)
#   FRESH_ROOT_DIR=DIR    where the root is unpacked (default /var/tmp; needs about 2 GB)
#   FRESH_ROOT_LOGS=DIR   where each step's log is kept (default: a new /tmp/fresh-root-logs.*)
#
# The root is unmounted and removed at the end, whatever happened; the logs stay.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd -P)
# Run as root on someone else's checkout (sudo), git would refuse it ("dubious ownership").
git() {
	command git -c safe.directory="$repo" -c safe.directory="$repo/.git" "$@"
}
start=$(date +%s)
say() {
	echo "fresh-root: $* (at $(($(date +%s) - start))s)"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "fresh-root: needs root (mmdebstrap, mount, chroot); run: sudo sh scripts/fresh-root.sh" >&2
	exit 3
fi
commit=$(git -C "$repo" rev-parse HEAD)
logs=${FRESH_ROOT_LOGS:-$(mktemp -d "${TMPDIR:-/tmp}/fresh-root-logs.XXXXXX")}
mkdir -p "$logs"
work=$(mktemp -d "${FRESH_ROOT_DIR:-/var/tmp}/fresh-root.XXXXXX")
root=$work/root
mkdir "$root"

# Mounts under the root, deepest first (the tests may add their own, e.g. a tmpfs).
mounts_under_root() {
	findmnt -rn -o TARGET | awk -v r="$root" 'index($0, r "/") == 1 || $0 == r' | sort -r
}

cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	set +e
	# Processes left running inside the root (a test's server) would keep the mounts busy;
	# only this run's chroot commands have this root.
	pids=""
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && pids="$pids ${p#/proc/}"
	done
	if [ -n "$pids" ]; then
		echo "fresh-root: stopping processes left in the root:$pids"
		kill $pids 2>/dev/null
		sleep 1
		kill -9 $pids 2>/dev/null
	fi
	for m in $(mounts_under_root); do
		umount "$m" 2>/dev/null || umount -l "$m" || echo "fresh-root: cannot unmount $m" >&2
	done
	[ -n "${part:-}" ] && rm -f "$part"
	left=$(mounts_under_root)
	if [ -n "$left" ]; then
		echo "fresh-root: still mounted, $work NOT removed:" $left >&2
		[ $rc -eq 0 ] && rc=1
	else
		say "nothing mounted in the root; removing $work"
		rm -rf --one-file-system "$work"
		say "removed $work"
	fi
	echo "fresh-root: logs in $logs"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# step ID TITLE COMMAND...: run COMMAND with its output in $logs/N-ID.log; stop on failure.
n=0
step() {
	n=$((n + 1))
	id=$1 title=$2
	shift 2
	log=$logs/$n-$id.log
	say "step $n: $title"
	t0=$(date +%s)
	if "$@" >"$log" 2>&1; then
		say "step $n ok in $(($(date +%s) - t0))s: $title"
	else
		src=$?
		say "step $n FAILED (exit $src) after $(($(date +%s) - t0))s: $title"
		echo "fresh-root: the last 60 lines of $log:"
		tail -n 60 "$log" | sed 's/^/    /'
		exit 1
	fi
}

# Run a command line as root inside the root with a clean environment.
in_root() {
	env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LANG=C.UTF-8 NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
		${CI+"CI=$CI"} ${http_proxy+"http_proxy=$http_proxy"} \
		${https_proxy+"https_proxy=$https_proxy"} ${no_proxy+"no_proxy=$no_proxy"} \
		chroot "$root" sh -c "$1" </dev/null
}

# "URI SUITE" for each enabled deb entry of the apt source files given (one-line or deb822).
apt_entries() {
	for f in "$@"; do
		[ -f "$f" ] || continue
		case $f in
		*.sources)
			awk 'function flush(  n, m, i, j, u, s, x) {
				if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no") {
					n = split(uris, u, " "); m = split(suites, s, " ")
					for (i = 1; i <= n; i++) { x = u[i]; sub(/\/+$/, "", x)
						for (j = 1; j <= m; j++) print x, s[j] }
				}
				types = uris = suites = ""; enabled = "yes"
			}
			BEGIN { enabled = "yes" }
			/^#/ { next }
			/^[ \t]*$/ { flush(); next }
			{ k = tolower($1); sub(/:$/, "", k); v = $0; sub(/^[^:]*:[ \t]*/, "", v)
			  if (k == "types") types = v; else if (k == "uris") uris = v
			  else if (k == "suites") suites = v; else if (k == "enabled") enabled = tolower(v) }
			END { flush() }' "$f" ;;
		*)
			awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
				x = $i; sub(/\/+$/, "", x); print x, $(i + 1) }' "$f" ;;
		esac
	done | sort -u
}

# The host's Debian 12 source files: those whose every suite is bookworm or bookworm-*
# (a third-party repository such as NodeSource's has its own suite names and is left out).
host_debian_sources() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		e=$(apt_entries "$f")
		[ -n "$e" ] || continue
		echo "$e" | awk '$2 !~ /^bookworm(-(updates|security|backports))?$/ { bad = 1 } END { exit bad }' &&
			echo "$f"
	done
}

make_tar() {
	if ! command -v mmdebstrap >/dev/null 2>&1; then
		echo "installing mmdebstrap on the host"
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mmdebstrap ||
			{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mmdebstrap; } ||
			return 1
	fi
	# Written beside the target and renamed, so that an interrupted run leaves no tarball that a
	# later FRESH_ROOT_TAR run would take for a whole one (the name keeps its format's suffix).
	mkdir -p "$(dirname "$1")" || return 1
	part=$(dirname "$1")/.partial-$$-$(basename "$1")
	mmdebstrap --variant=apt --include=ca-certificates,git,make bookworm "$part" &&
		mv "$part" "$1" || { rm -f "$part"; return 1; }
}

setup_root() {
	mount -t proc proc "$root/proc" &&
		mount -t sysfs sysfs "$root/sys" &&
		mount --rbind /dev "$root/dev" &&
		mount --make-rslave "$root/dev" || return 1
	# Name resolution as on the host (never write through a symlink into the host's /etc).
	if ! cmp -s /etc/resolv.conf "$root/etc/resolv.conf"; then
		echo "resolv.conf: the host's"
		rm -f "$root/etc/resolv.conf" && cp -L /etc/resolv.conf "$root/etc/resolv.conf" || return 1
	fi
	if [ ! -e "$root/etc/hosts" ]; then
		echo "hosts: written (mmdebstrap leaves none; an installed Debian has one)"
		printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts" || return 1
	fi
	# apt sources: the host's Debian ones when they differ from mmdebstrap's (a mirror or proxy
	# that this network needs).
	srcs=$(host_debian_sources)
	if [ -n "$srcs" ]; then
		host=$(apt_entries $srcs)
		mine=$(apt_entries "$root/etc/apt/sources.list" "$root"/etc/apt/sources.list.d/*.list \
			"$root"/etc/apt/sources.list.d/*.sources)
		echo "apt sources of the host ($(echo $srcs)):"
		echo "$host" | sed 's/^/    /'
		echo "apt sources of the root:"
		echo "$mine" | sed 's/^/    /'
		if [ "$host" != "$mine" ]; then
			echo "apt sources differ: the root gets the host's"
			rm -f "$root/etc/apt/sources.list" "$root"/etc/apt/sources.list.d/*.list \
				"$root"/etc/apt/sources.list.d/*.sources
			for f in $srcs; do
				cp "$f" "$root$f" || return 1
				for k in $(sed -n 's/.*[Ss]igned-[Bb]y[:=][ \t]*\([^] \t]*\).*/\1/p' "$f"); do
					case $k in /*) [ -e "$root$k" ] || { mkdir -p "$root${k%/*}" && cp "$k" "$root$k"; } || return 1 ;; esac
				done
			done
		fi
	fi
	# This network's proxy has its own certificate authority: trust it in the root too
	# (apt, curl, git; npm through NODE_EXTRA_CA_CERTS).
	set -- /usr/local/share/ca-certificates/*.crt
	if [ -e "$1" ]; then
		echo "certificate authorities of the host:" "$@"
		cp "$@" "$root/usr/local/share/ca-certificates/" || return 1
	fi
	in_root update-ca-certificates
}

clone() {
	git clone -q --no-local "$repo" "$root/src" \
		--upload-pack="git -c safe.directory='$repo' -c safe.directory='$repo/.git' upload-pack" &&
		git -C "$root/src" checkout -q --detach "$commit" &&
		git -C "$root/src" log -1 --format='%H %s'
}

say "testing $(git -C "$repo" log -1 --format='%h %<(60,trunc)%s' "$commit" | sed 's/ *$//') in $root; logs in $logs"
if [ -n "${FRESH_ROOT_TAR:-}" ]; then
	tarball=$FRESH_ROOT_TAR
	if [ -f "$tarball" ]; then
		say "reusing $tarball (FRESH_ROOT_TAR)"
	else
		step mmdebstrap "make the Debian 12 root tarball $tarball (mmdebstrap)" make_tar "$tarball"
	fi
else
	tarball=$work/root.tar
	step mmdebstrap "make the Debian 12 root tarball (mmdebstrap)" make_tar "$tarball"
fi
step extract "unpack it into $root" tar -C "$root" --numeric-owner -xf "$tarball"
[ -n "${FRESH_ROOT_TAR:-}" ] || rm -f "$tarball"
step setup "mount proc, sys, dev; resolv.conf, apt sources, certificate authorities" setup_root
step clone "git clone of HEAD into /src" clone
step config "make config" in_root 'cd /src && make config'
step test "make test" in_root 'cd /src && make test'
say "passed: make config and make test in a fresh Debian 12 root"
