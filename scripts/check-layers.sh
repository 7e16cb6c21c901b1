#!/bin/sh
# Check every quoted #include of each layer against the layer rule (docs/architecture.md).
# Arguments: one 'FOLDER:SEEN FOLDERS' per layer, as the Makefile's SEES_ variables say.
# A header must be named by file name alone and live in the folder itself or in one it sees;
# a relative path ("../x/y.h") would bypass the per-folder include paths, so it is refused too.
# Prints FILE:LINE: error lines and exits 1 when anything breaks the rule.
set -u
bad=0
for spec in "$@"; do
	dir=${spec%%:*}
	sees=${spec#*:}
	for f in "$dir"/*.c "$dir"/*.h; do
		[ -f "$f" ] || continue
		# "LINE NAME" for each #include "NAME"
		grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
			sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/' >"${TMPDIR:-/tmp}/layers.$$"
		while read -r line name; do
			case "$name" in
			*/*)
				echo >&2 "$f:$line: error: #include \"$name\" names a path; name the header alone" \
				    "(folders are given by the layer rule: $dir sees ${sees:-nothing but itself})"
				bad=1
				continue
				;;
			esac
			found=""
			for d in "$dir" $sees; do
				[ -f "$d/$name" ] && { found=$d; break; }
			done
			[ -n "$found" ] && continue
			owner=""
			for other in "$@"; do
				o=${other%%:*}
				[ -f "$o/$name" ] && { owner=$o; break; }
			done
			if [ -n "$owner" ]; then
				echo >&2 "$f:$line: error: $name belongs to $owner/, which $dir/ may not include" \
				    "($dir sees ${sees:-nothing but itself})"
			else
				echo >&2 "$f:$line: error: $name is in no folder that $dir/ sees (${sees:-nothing but itself})"
			fi
			bad=1
		done <"${TMPDIR:-/tmp}/layers.$$"
		rm -f "${TMPDIR:-/tmp}/layers.$$"
	done
done
exit $bad
