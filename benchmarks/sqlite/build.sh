#!/bin/sh
# Builds benchmarks/wasm/sqlite.wasm: SQLite 3.50.4 (the amalgamation shipped
# in the sqlean-py 3.50.4.5 source distribution on PyPI) with a small SQL
# workload (main.c), for wasm32-wasi.  A real program of about 1.3 MB, 1 MB of
# it code: the input of benchmarks/bench_decode.py.
#   benchmarks/sqlite/build.sh [-f]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../wasm/sqlite.wasm"
# Committed: rebuilt only when missing or forced (the build fetches the source).
if [ "${1:-}" != "-f" ] && [ -e "$out" ]; then exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python -m pip download --quiet --no-deps --no-binary :all: -d "$work" "sqlean-py==3.50.4.5"
tar -xzf "$work"/sqlean_py-3.50.4.5.tar.gz -C "$work"
src="$work/sqlean_py-3.50.4.5/sqlite"
# sqlean appends its extension loader after the amalgamation proper: drop it.
sed '/^#include "init.h"/,$d' "$src/sqlite3.c" > "$work/sqlite3.c"
cp "$src/sqlite3.h" "$work/"
echo "  CC  wasm/sqlite.wasm"
${CC:-clang} --target=wasm32-wasi --sysroot="${WASI_SYSROOT:-/usr}" -O2 -w \
    -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_GETPID \
    -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_WAL -DSQLITE_OMIT_SHARED_CACHE \
    -DSQLITE_DEFAULT_MEMSTATUS=0 -I"$work" -o "$out" "$here/main.c" "$work/sqlite3.c" \
    -lwasi-emulated-mman -lwasi-emulated-signal -lwasi-emulated-process-clocks -lwasi-emulated-getpid
