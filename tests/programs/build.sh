#!/bin/sh
# Builds the WASI test programs (tests/programs/*.c -> tests/programs/*.wasm).
# The .wasm files are committed, so tests never need clang; rerun this after
# editing a source. Needs clang, lld and wasi-libc for wasm32-wasi.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-clang}
SYSROOT=${WASI_SYSROOT:-/usr}
CFLAGS="--target=wasm32-wasi --sysroot=$SYSROOT -O2 -Wall -Wextra -Wno-unused-parameter -Wl,--strip-debug"
for src in "$here"/*.c; do
    out="${src%.c}.wasm"
    if [ "${1:-}" != "-f" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$0" ]; then continue; fi
    echo "  CC  $(basename "$out")"
    $CC $CFLAGS -o "$out" "$src"
done
