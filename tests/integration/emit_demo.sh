# Sourced by the emitter integration tests: builds tests/integration/emit_demo.c against
# build/libmodelc.a into $work/emit_demo. Needs $work (a scratch directory).
BUILD=${BUILD:-$(pwd)/build}
[ -f "$BUILD/libmodelc.a" ] || { echo "no $BUILD/libmodelc.a; run make first" >&2; exit 77; }
libs=$(pkg-config --libs yaml-0.1 libcurl libsodium libcrypto jansson 2>/dev/null) || libs="-ljansson"
${CC:-cc} -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Icommon -Icompiler -Itests/unit \
	-o "$work/emit_demo" tests/integration/emit_demo.c "$BUILD/libmodelc.a" $libs -lm || exit 1
