#!/bin/sh
# Builds the benchmark programs.
#   benchmarks/build.sh            c/*.c -> wasm/*.wasm (clang -O2, wasm32-wasi; committed)
#   benchmarks/build.sh -f         rebuild even when up to date
#   benchmarks/build.sh --native DIR
#                                  c/*.c -> DIR/<name> with gcc -O2 (the native baseline;
#                                  built at benchmark time, never committed; sources
#                                  using wasm_simd128.h have no native build and are skipped)
# Other programs may be added below the marker by their owners (e.g. a large
# module for decode/compile benchmarks); keep their entries when editing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-clang}
SYSROOT=${WASI_SYSROOT:-/usr}
WASM_CFLAGS="--target=wasm32-wasi --sysroot=$SYSROOT -O2 -Wall -Wno-unused-result -Wl,--strip-debug"

if [ "${1:-}" = "--native" ]; then
    out=${2:?usage: build.sh --native DIR}
    mkdir -p "$out"
    for src in "$here"/c/*.c; do
        name=$(basename "${src%.c}")
        # Wasm SIMD intrinsics have no native meaning: run.py reports native n/a for these.
        if grep -q '<wasm_simd128.h>' "$src"; then echo "  skip native $name (wasm_simd128.h)"; continue; fi
        ${NATIVE_CC:-gcc} -O2 -w -o "$out/$name" "$src" -lm
    done
    exit 0
fi

mkdir -p "$here/wasm"
for src in "$here"/c/*.c; do
    out="$here/wasm/$(basename "${src%.c}").wasm"
    if [ "${1:-}" != "-f" ] && [ -e "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$0" ]; then continue; fi
    echo "  CC  wasm/$(basename "$out")"
    $CC $WASM_CFLAGS -o "$out" "$src"
done
# --- other programs (owners add their build lines below) ---
"$here/sqlite/build.sh" "$@"    # benchmarks/wasm/sqlite.wasm (bench_decode.py); fetches SQLite only when forced or missing
