/* Passes a pointer beyond linear memory to a WASI call (argv[1] chooses
 * which) and prints the errno. Wasmtime traps the guest ("pointer out of
 * bounds"); pywinch returns EFAULT (21), as preview1 defines it, so a
 * guest can report the error. Neither may crash the host. */
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

#define WILD ((void *)0xFFFFFF00u)

/* The raw import: wasi-libc's wrapper would strlen() the wild path itself. */
int32_t raw_path_open(int32_t fd, int32_t dirflags, int32_t path, int32_t path_len, int32_t oflags,
                      int64_t base, int64_t inheriting, int32_t fdflags, int32_t result)
    __attribute__((__import_module__("wasi_snapshot_preview1"), __import_name__("path_open")));

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "iovec";
    __wasi_size_t n = 0;
    __wasi_fd_t fd = 0;
    __wasi_ciovec_t civ = {(const uint8_t *)"x", 1}, wild = {WILD, 4096};
    __wasi_errno_t e;
    if (!strcmp(which, "iovec")) e = __wasi_fd_write(1, WILD, 1, &n);
    else if (!strcmp(which, "buffer")) e = __wasi_fd_write(1, &wild, 1, &n);
    else if (!strcmp(which, "result")) e = __wasi_fd_write(1, &civ, 1, WILD);
    else if (!strcmp(which, "read")) e = __wasi_fd_read(0, (__wasi_iovec_t *)&wild, 1, &n);
    else if (!strcmp(which, "args")) e = __wasi_args_sizes_get(WILD, &n);
    else if (!strcmp(which, "clock")) e = __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, WILD);
    else if (!strcmp(which, "random")) e = __wasi_random_get(WILD, 1024);
    else if (!strcmp(which, "path")) e = raw_path_open(3, 0, (int32_t)WILD, 64, 0, 0, 0, 0, (int32_t)&fd);
    else if (!strcmp(which, "poll")) e = __wasi_poll_oneoff(WILD, WILD, 1, &n);
    else { printf("unknown case %s\n", which); return 2; }
    printf("%s: errno %d\n", which, e);
    return 0;
}
