/* Tries to leave the preopened directory (argv[1], default /data) in every
 * way a guest can: `..`, absolute paths, symlinks pointing out (relative and
 * absolute, created beforehand by the host or by the guest itself), and
 * renames, links, unlinks or mkdirs aimed outside. Raw WASI calls are used so
 * the runtime, not wasi-libc, has to refuse. Each line says ALLOWED or the
 * errno of the refusal; a few in-sandbox controls must be allowed.
 *
 * The host prepares, beside the preopen `box/`: `outside.txt`, and inside it:
 * inside.txt, sub/, link_out -> ../outside.txt, link_abs -> /<abs>/outside.txt,
 * link_dir -> .., link_in -> inside.txt, link_loop -> link_loop. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

static __wasi_fd_t root = 3;
static int allowed_escapes;

static void report(const char *what, __wasi_errno_t e, int should_escape_fail) {
    if (e == 0) {
        printf("%-34s ALLOWED\n", what);
        if (should_escape_fail) allowed_escapes++;
    } else {
        printf("%-34s refused errno=%d\n", what, e);
    }
}

static __wasi_errno_t try_open(const char *path, __wasi_lookupflags_t follow, __wasi_oflags_t oflags) {
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(root, follow, path, oflags,
                                        __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0, 0, &fd);
    if (e == 0) (void)__wasi_fd_close(fd);
    return e;
}

int main(int argc, char **argv) {
    const char *want = argc > 1 ? argv[1] : "/data";
    /* find the preopen named `want` */
    for (__wasi_fd_t fd = 3; fd < 64; fd++) {
        __wasi_prestat_t ps;
        if (__wasi_fd_prestat_get(fd, &ps) != 0) break;
        char name[256] = {0};
        if (ps.u.dir.pr_name_len < sizeof name &&
            __wasi_fd_prestat_dir_name(fd, (uint8_t *)name, ps.u.dir.pr_name_len) == 0 &&
            strcmp(name, want) == 0) { root = fd; break; }
    }
    const __wasi_lookupflags_t F = __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW;

    printf("-- controls (must be allowed)\n");
    report("open inside.txt", try_open("inside.txt", F, 0), 0);
    report("open sub/../inside.txt", try_open("sub/../inside.txt", F, 0), 0);
    report("open ./sub/./../inside.txt", try_open("./sub/./../inside.txt", F, 0), 0);
    report("open link_in (-> inside.txt)", try_open("link_in", F, 0), 0);
    report("open link_out nofollow as link", try_open("link_out", 0, 0), 0);
    char target[256] = {0};
    __wasi_size_t used = 0;
    __wasi_errno_t e = __wasi_path_readlink(root, "link_out", (uint8_t *)target, sizeof target - 1, &used);
    report("readlink link_out", e, 0);
    if (e == 0) printf("  link_out -> %.*s\n", (int)used, target);

    printf("-- escapes (must be refused)\n");
    report("open ../outside.txt", try_open("../outside.txt", F, 0), 1);
    report("open /etc/passwd", try_open("/etc/passwd", F, 0), 1);
    report("open sub/../../outside.txt", try_open("sub/../../outside.txt", F, 0), 1);
    report("open link_out (-> ../outside)", try_open("link_out", F, 0), 1);
    report("open link_abs (-> /abs path)", try_open("link_abs", F, 0), 1);
    report("open link_dir/outside.txt", try_open("link_dir/outside.txt", F, 0), 1);
    report("open link_dir/outside.txt nofollow", try_open("link_dir/outside.txt", 0, 0), 1);
    report("open link_loop", try_open("link_loop", F, 0), 0);
    report("create ../created.txt", try_open("../created.txt", F, __WASI_OFLAGS_CREAT), 1);
    report("create via link_dir/created.txt", try_open("link_dir/created.txt", F, __WASI_OFLAGS_CREAT), 1);
    report("symlink mylink -> ../outside.txt", __wasi_path_symlink("../outside.txt", root, "mylink"), 0);
    report("open mylink", try_open("mylink", F, 0), 1);
    report("mkdir ../escaped", __wasi_path_create_directory(root, "../escaped"), 1);
    report("rename inside.txt ../moved.txt", __wasi_path_rename(root, "inside.txt", root, "../moved.txt"), 1);
    report("link inside.txt ../hard.txt", __wasi_path_link(root, 0, "inside.txt", root, "../hard.txt"), 1);
    report("unlink ../outside.txt", __wasi_path_unlink_file(root, "../outside.txt"), 1);
    __wasi_filestat_t st;
    report("stat ../outside.txt", __wasi_path_filestat_get(root, F, "../outside.txt", &st), 1);
    report("stat link_out following", __wasi_path_filestat_get(root, F, "link_out", &st), 1);
    report("stat /", __wasi_path_filestat_get(root, F, "/", &st), 1);
    report("stat ..", __wasi_path_filestat_get(root, F, "..", &st), 1);
    report("opendir ..", try_open("..", F, __WASI_OFLAGS_DIRECTORY), 1);

    printf("-- through wasi-libc\n");
    FILE *f = fopen("/etc/passwd", "r");
    printf("%-34s %s\n", "fopen /etc/passwd", f ? "ALLOWED" : "refused");
    if (f) { allowed_escapes++; fclose(f); }
    char p[300];
    snprintf(p, sizeof p, "%s/../outside.txt", want);
    f = fopen(p, "r");
    printf("%-34s %s\n", "fopen <preopen>/../outside.txt", f ? "ALLOWED" : "refused");
    if (f) { allowed_escapes++; fclose(f); }

    printf("escapes allowed: %d\n", allowed_escapes);
    return allowed_escapes ? 1 : 0;
}
