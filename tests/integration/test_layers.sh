#!/bin/sh
# The layer rule (docs/architecture.md) is enforced by the build: the tree passes the check,
# an include from a folder a layer may not see fails both the check and the compiler, and an
# include by relative path fails the check.
set -u
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
layers=$(make -s --no-print-directory print-layers)

# The real tree passes.
eval "sh scripts/check-layers.sh $layers" >"$T/ok" 2>&1 || { cat "$T/ok"; fail "the tree breaks the layer rule"; }

# A copy of the tree with a switch file that includes the compiler's lock.h.
mkdir -p "$T/tree"
for d in common hub sign compiler runtime; do cp -R "$d" "$T/tree/"; done
printf '#include "lock.h"\n' >"$T/tree/runtime/switch/probe.c"
printf '#include "../../compiler/lock.h"\n' >"$T/tree/runtime/fetch/probe.c"
printf '#include "hub.h"\n' >"$T/tree/common/probe.c"
(cd "$T/tree" && eval "sh $OLDPWD/scripts/check-layers.sh $layers") >"$T/bad" 2>&1
[ $? -eq 1 ] || fail "check-layers accepted a broken tree"
cat >"$T/want" <<'X'
common/probe.c:1: error: hub.h belongs to hub/, which common/ may not include (common sees nothing but itself)
runtime/switch/probe.c:1: error: lock.h belongs to compiler/, which runtime/switch/ may not include (runtime/switch sees common runtime/http)
runtime/fetch/probe.c:1: error: #include "../../compiler/lock.h" names a path; name the header alone (folders are given by the layer rule: runtime/fetch sees common hub sign)
X
diff -u "$T/want" "$T/bad" || fail "check-layers messages"

# The compiler itself refuses it with the include paths the Makefile gives runtime/switch.
flags=$(make -s --no-print-directory print-layer-flags DIR=runtime/switch)
[ "$flags" = "-Iruntime/switch -Icommon -Iruntime/http" ] || fail "runtime/switch flags: '$flags'"
cc -std=c11 $flags -fsyntax-only "$T/tree/runtime/switch/probe.c" -iquote "$T/none" >"$T/cc" 2>&1 &&
	fail "runtime/switch compiled an include of lock.h"
grep -q 'lock.h: No such file' "$T/cc" || { cat "$T/cc"; fail "the compiler did not name lock.h"; }
# ... and a file the layer may include compiles with the same flags.
printf '#include "activefile.h"\n#include "health.h"\nint probe(void);\nint probe(void) { return 0; }\n' >"$T/tree/runtime/switch/fine.c"
cc -std=c11 -D_POSIX_C_SOURCE=200809L $flags -fsyntax-only "$T/tree/runtime/switch/fine.c" >"$T/cc2" 2>&1 ||
	{ cat "$T/cc2"; fail "runtime/switch cannot include common/ and runtime/http/"; }

[ $failures -eq 0 ] && echo ok
exit $((failures > 0))
