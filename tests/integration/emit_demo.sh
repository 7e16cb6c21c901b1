# Sourced by the emitter integration tests: builds tests/integration/emit_demo.c against
# the compiler's and common's archives into $work/emit_demo. Needs $work (a scratch directory).
BUILD=${BUILD:-$(pwd)/build}
[ -f "$BUILD/lib/libcompiler.a" ] || { echo "no $BUILD/lib/libcompiler.a; run make first" >&2; exit 77; }
libs=$(pkg-config --libs yaml-0.1 libcurl libsodium libcrypto jansson 2>/dev/null) || libs="-ljansson"
${CC:-cc} -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Icommon -Ihub -Icompiler -Itests/unit \
	-o "$work/emit_demo" tests/integration/emit_demo.c "$BUILD/lib/libcompiler.a" "$BUILD/lib/libhub.a" "$BUILD/lib/libsign.a" \
	"$BUILD/lib/libcommon.a" $libs -lm || exit 1
