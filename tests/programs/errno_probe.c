/* Calls WASI functions directly with edge-case arguments and prints each
 * errno, so that pywinch's answers can be compared with Wasmtime's line by
 * line: bad and closed descriptors, wild pointers, wrong descriptor kinds,
 * directory and file operations on the wrong type, seek/tell on stdio,
 * readdir cookies, renumber, rights, prestat, sockets, trailing slashes.
 * Runs in a preopen (argv[1], default /data) that it leaves empty. */
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

#define P(what, expr) printf("%-40s %d\n", what, (int)(expr))

static __wasi_fd_t root = 3;

static __wasi_fd_t open_file(const char *path, __wasi_oflags_t of, __wasi_rights_t r, __wasi_fdflags_t ff) {
    __wasi_fd_t fd = (__wasi_fd_t)-1;
    __wasi_errno_t e = __wasi_path_open(root, 0, path, of, r, r, ff, &fd);
    return e ? (__wasi_fd_t)-1 : fd;
}

int main(void) {
    const __wasi_rights_t RW = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK |
        __WASI_RIGHTS_FD_TELL | __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE |
        __WASI_RIGHTS_FD_SYNC | __WASI_RIGHTS_FD_DATASYNC | __WASI_RIGHTS_FD_ADVISE | __WASI_RIGHTS_FD_READDIR;
    const __wasi_rights_t DR = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_PATH_OPEN |
        __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL;
    char buf[256];
    __wasi_size_t n = 0;
    __wasi_fd_t nfd = 0;
    __wasi_filesize_t pos = 0;
    __wasi_fdstat_t fst;
    __wasi_filestat_t st;
    __wasi_prestat_t ps;
    __wasi_ciovec_t civ = {(const uint8_t *)"hello\n", 6};
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf};

    printf("-- bad descriptors\n");
    P("fd_write bad fd", __wasi_fd_write(99, &civ, 1, &n));
    P("fd_read bad fd", __wasi_fd_read(99, &iov, 1, &n));
    P("fd_close bad fd", __wasi_fd_close(99));
    P("fd_seek bad fd", __wasi_fd_seek(99, 0, __WASI_WHENCE_SET, &pos));
    P("fd_fdstat_get bad fd", __wasi_fd_fdstat_get(99, &fst));
    P("fd_filestat_get bad fd", __wasi_fd_filestat_get(99, &st));
    P("fd_prestat_get bad fd", __wasi_fd_prestat_get(99, &ps));
    P("fd_prestat_get stdin", __wasi_fd_prestat_get(0, &ps));
    P("path_open bad dirfd", __wasi_path_open(99, 0, "x", 0, RW, RW, 0, &nfd));
    P("sock_shutdown bad fd", __wasi_sock_shutdown(99, __WASI_SDFLAGS_WR));
    P("sock_shutdown stdout", __wasi_sock_shutdown(1, __WASI_SDFLAGS_WR));
    P("sock_accept stdin", __wasi_sock_accept(0, 0, &nfd));

    printf("-- stdio\n");
    P("fd_seek stdout", __wasi_fd_seek(1, 0, __WASI_WHENCE_CUR, &pos));
    P("fd_fdstat_get stdout", __wasi_fd_fdstat_get(1, &fst));
    printf("%-40s %d %d seek:%d tell:%d\n", "  filetype flags rights", fst.fs_filetype, fst.fs_flags,
           !!(fst.fs_rights_base & __WASI_RIGHTS_FD_SEEK), !!(fst.fs_rights_base & __WASI_RIGHTS_FD_TELL));
    P("fd_tell stdout", __wasi_fd_tell(1, &pos));
    P("fd_write zero iovecs", __wasi_fd_write(1, &civ, 0, &n));
    P("fd_filestat_get stdout", __wasi_fd_filestat_get(1, &st));
    printf("%-40s %d\n", "  filetype", st.filetype);
    P("fd_write stdin", __wasi_fd_write(0, &civ, 1, &n));
    P("fd_read stdout", __wasi_fd_read(1, &iov, 1, &n));
    P("fd_pread stdin", __wasi_fd_pread(0, &iov, 1, 0, &n));
    P("fd_sync stdout", __wasi_fd_sync(1));
    P("fd_datasync stdout", __wasi_fd_datasync(1));
    P("fd_filestat_set_size stdout", __wasi_fd_filestat_set_size(1, 0));
    P("fd_fdstat_get stdin", __wasi_fd_fdstat_get(0, &fst));
    printf("%-40s %d %d\n", "  filetype flags", fst.fs_filetype, fst.fs_flags);
    P("path_open relative to stdout", __wasi_path_open(1, 0, "x", 0, 0, 0, 0, &nfd));
    P("fd_readdir stdout", __wasi_fd_readdir(1, (uint8_t *)buf, sizeof buf, 0, &n));
    printf("%-40s %d\n", "  nwritten", (int)n);

    printf("-- files\n");
    __wasi_fd_t f = open_file("probe.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, RW, 0);
    P("create probe.txt ok", f != (__wasi_fd_t)-1);
    P("fd_write file", __wasi_fd_write(f, &civ, 1, &n));
    P("fd_tell", __wasi_fd_tell(f, &pos));
    printf("%-40s %d\n", "  pos", (int)pos);
    P("fd_seek negative", __wasi_fd_seek(f, -100, __WASI_WHENCE_CUR, &pos));
    P("fd_seek end -2", __wasi_fd_seek(f, -2, __WASI_WHENCE_END, &pos));
    printf("%-40s %d\n", "  pos", (int)pos);
    P("fd_pread", __wasi_fd_pread(f, &iov, 1, 1, &n));
    printf("%-40s %d\n", "  nread", (int)n);
    P("fd_pwrite", __wasi_fd_pwrite(f, &civ, 1, 100, &n));
    P("fd_filestat_get", __wasi_fd_filestat_get(f, &st));
    printf("%-40s %d %d\n", "  size filetype", (int)st.size, st.filetype);
    P("fd_filestat_set_size", __wasi_fd_filestat_set_size(f, 3));
    P("fd_filestat_get", __wasi_fd_filestat_get(f, &st));
    printf("%-40s %d\n", "  size", (int)st.size);
    P("fd_sync", __wasi_fd_sync(f));
    P("fd_datasync", __wasi_fd_datasync(f));
    P("fd_advise", __wasi_fd_advise(f, 0, 100, __WASI_ADVICE_SEQUENTIAL));
    P("fd_fdstat_get file", __wasi_fd_fdstat_get(f, &fst));
    printf("%-40s %d %d\n", "  filetype flags", fst.fs_filetype, fst.fs_flags);
    P("fd_fdstat_set_flags append", __wasi_fd_fdstat_set_flags(f, __WASI_FDFLAGS_APPEND));
    P("fd_fdstat_set_flags nonblock", __wasi_fd_fdstat_set_flags(f, __WASI_FDFLAGS_NONBLOCK | __WASI_FDFLAGS_APPEND));
    P("fd_fdstat_get file", __wasi_fd_fdstat_get(f, &fst));
    printf("%-40s %d\n", "  flags", fst.fs_flags);
    P("fd_readdir on a file", __wasi_fd_readdir(f, (uint8_t *)buf, sizeof buf, 0, &n));
    P("path_open relative to a file", __wasi_path_open(f, 0, "x", 0, RW, RW, 0, &nfd));
    P("fd_renumber to bad", __wasi_fd_renumber(f, 77));
    __wasi_fd_t g = open_file("probe.txt", 0, __WASI_RIGHTS_FD_READ, 0);
    P("fd_renumber f -> g", __wasi_fd_renumber(f, g));
    P("fd_close old f", __wasi_fd_close(f));
    P("fd_filestat_get g", __wasi_fd_filestat_get(g, &st));
    printf("%-40s %d\n", "  size", (int)st.size);
    P("fd_close g", __wasi_fd_close(g));
    P("fd_close g again", __wasi_fd_close(g));
    P("fd_write closed", __wasi_fd_write(g, &civ, 1, &n));

    printf("-- paths\n");
    P("open O_EXCL existing", __wasi_path_open(root, 0, "probe.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, RW, RW, 0, &nfd));
    P("open missing", __wasi_path_open(root, 0, "nope.txt", 0, RW, RW, 0, &nfd));
    P("open file as directory", __wasi_path_open(root, 0, "probe.txt", __WASI_OFLAGS_DIRECTORY, 0, 0, 0, &nfd));
    P("open file with trailing slash", __wasi_path_open(root, 0, "probe.txt/", 0, 0, 0, 0, &nfd));
    P("open missing/child", __wasi_path_open(root, 0, "missing/child", 0, 0, 0, 0, &nfd));
    P("open probe.txt/child", __wasi_path_open(root, 0, "probe.txt/child", 0, 0, 0, 0, &nfd));
    P("open empty path", __wasi_path_open(root, 0, "", 0, 0, 0, 0, &nfd));
    P("mkdir d", __wasi_path_create_directory(root, "d"));
    P("mkdir d again", __wasi_path_create_directory(root, "d"));
    P("mkdir d/e/f (missing parent)", __wasi_path_create_directory(root, "d/e/f"));
    P("open dir for writing", __wasi_path_open(root, 0, "d", 0, __WASI_RIGHTS_FD_WRITE, 0, 0, &nfd));
    __wasi_fd_t d = (__wasi_fd_t)-1;
    P("open dir with write rights", __wasi_path_open(root, 0, "d", __WASI_OFLAGS_DIRECTORY, RW, RW, 0, &nfd));
    P("open dir", __wasi_path_open(root, 0, "d", __WASI_OFLAGS_DIRECTORY, DR, DR | RW, 0, &d));
    P("fd_read on dir", __wasi_fd_read(d, &iov, 1, &n));
    P("fd_write on dir", __wasi_fd_write(d, &civ, 1, &n));
    P("fd_seek on dir", __wasi_fd_seek(d, 0, __WASI_WHENCE_SET, &pos));
    P("fd_filestat_get dir", __wasi_fd_filestat_get(d, &st));
    printf("%-40s %d\n", "  filetype", st.filetype);
    P("fd_readdir dir", __wasi_fd_readdir(d, (uint8_t *)buf, sizeof buf, 0, &n));
    printf("%-40s %d\n", "  used (., ..)", (int)n);
    P("fd_readdir cookie past end", __wasi_fd_readdir(d, (uint8_t *)buf, sizeof buf, 99, &n));
    printf("%-40s %d\n", "  used", (int)n);
    P("fd_prestat_get non-preopen dir", __wasi_fd_prestat_get(d, &ps));
    P("fd_close dir", __wasi_fd_close(d));
    P("unlink a directory", __wasi_path_unlink_file(root, "d"));
    P("rmdir a file", __wasi_path_remove_directory(root, "probe.txt"));
    P("rmdir missing", __wasi_path_remove_directory(root, "missing"));
    P("unlink missing", __wasi_path_unlink_file(root, "missing"));
    P("rename missing", __wasi_path_rename(root, "missing", root, "x"));
    P("rename file over dir", __wasi_path_rename(root, "probe.txt", root, "d"));
    P("rename dir over file", __wasi_path_rename(root, "d", root, "probe.txt"));
    P("link", __wasi_path_link(root, 0, "probe.txt", root, "hard.txt"));
    P("link existing target", __wasi_path_link(root, 0, "probe.txt", root, "hard.txt"));
    P("stat hard.txt", __wasi_path_filestat_get(root, 0, "hard.txt", &st));
    printf("%-40s %d\n", "  nlink", (int)st.nlink);
    P("symlink", __wasi_path_symlink("probe.txt", root, "sym"));
    P("symlink existing", __wasi_path_symlink("probe.txt", root, "sym"));
    P("symlink absolute target", __wasi_path_symlink("/etc/passwd", root, "abslink"));
    P("unlink abslink", __wasi_path_unlink_file(root, "abslink"));
    P("symlink dangling ../ target", __wasi_path_symlink("../nowhere", root, "dangling"));
    P("open dangling O_CREAT", __wasi_path_open(root, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "dangling", __WASI_OFLAGS_CREAT, RW, RW, 0, &nfd));
    P("unlink dangling", __wasi_path_unlink_file(root, "dangling"));
    P("readlink", __wasi_path_readlink(root, "sym", (uint8_t *)buf, sizeof buf, &n));
    printf("%-40s %.*s\n", "  target", (int)n, buf);
    P("readlink a file", __wasi_path_readlink(root, "probe.txt", (uint8_t *)buf, sizeof buf, &n));
    P("stat sym nofollow", __wasi_path_filestat_get(root, 0, "sym", &st));
    printf("%-40s %d\n", "  filetype", st.filetype);
    P("stat sym follow", __wasi_path_filestat_get(root, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "sym", &st));
    printf("%-40s %d\n", "  filetype", st.filetype);
    P("set_times", __wasi_path_filestat_set_times(root, 0, "probe.txt", 1000000000ull, 2000000000ull,
                                                 __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    P("stat", __wasi_path_filestat_get(root, 0, "probe.txt", &st));
    printf("%-40s %llu %llu\n", "  atim mtim", (unsigned long long)st.atim, (unsigned long long)st.mtim);
    P("set_times atim+atim_now", __wasi_path_filestat_set_times(root, 0, "probe.txt", 0, 0,
                                                 __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW));
    P("unlink sym", __wasi_path_unlink_file(root, "sym"));
    P("unlink hard.txt", __wasi_path_unlink_file(root, "hard.txt"));
    P("unlink probe.txt", __wasi_path_unlink_file(root, "probe.txt"));
    P("mkdir x/", __wasi_path_create_directory(root, "x/"));
    P("rmdir x/.", __wasi_path_remove_directory(root, "x/."));
    P("rmdir x/", __wasi_path_remove_directory(root, "x/"));
    P("rmdir x", __wasi_path_remove_directory(root, "x"));
    P("rmdir d", __wasi_path_remove_directory(root, "d"));
    P("rmdir d/", __wasi_path_remove_directory(root, "d/"));
    P("rmdir .", __wasi_path_remove_directory(root, "."));
    P("rmdir d", __wasi_path_remove_directory(root, "d"));
    f = open_file("t.txt", __WASI_OFLAGS_CREAT, RW, 0);
    P("unlink t.txt/", __wasi_path_unlink_file(root, "t.txt/"));
    P("stat t.txt/", __wasi_path_filestat_get(root, 0, "t.txt/", &st));
    P("fd_fdstat_set_rights drop write", __wasi_fd_fdstat_set_rights(f, __WASI_RIGHTS_FD_READ, 0));
    P("fd_fdstat_get", __wasi_fd_fdstat_get(f, &fst));
    printf("%-40s %d\n", "  has write right", !!(fst.fs_rights_base & __WASI_RIGHTS_FD_WRITE));
    P("fd_write after dropping write", __wasi_fd_write(f, &civ, 1, &n));
    P("fd_fdstat_set_rights regain write", __wasi_fd_fdstat_set_rights(f, RW, 0));
    P("fd_allocate", __wasi_fd_allocate(f, 0, 4096));
    P("fd_filestat_get", __wasi_fd_filestat_get(f, &st));
    printf("%-40s %d\n", "  size", (int)st.size);
    P("fd_close", __wasi_fd_close(f));
    f = open_file("t.txt", 0, __WASI_RIGHTS_FD_READ, 0);
    P("fd_write on read-only fd", __wasi_fd_write(f, &civ, 1, &n));
    P("fd_close", __wasi_fd_close(f));
    f = open_file("t.txt", 0, __WASI_RIGHTS_FD_WRITE, __WASI_FDFLAGS_APPEND);
    P("fd_pwrite on append fd", __wasi_fd_pwrite(f, &civ, 1, 0, &n));
    P("fd_read on write-only fd", __wasi_fd_read(f, &iov, 1, &n));
    P("fd_close", __wasi_fd_close(f));
    P("unlink t.txt", __wasi_path_unlink_file(root, "t.txt"));

    printf("-- readdir\n");
    {
        static const char *names[] = {"r1", "r22", "r333"};
        __wasi_fd_t rd = 0;
        (void)__wasi_path_create_directory(root, "rd");
        for (int i = 0; i < 3; i++) {
            char p[32];
            snprintf(p, sizeof p, "rd/%s", names[i]);
            __wasi_fd_t t = open_file(p, __WASI_OFLAGS_CREAT, RW, 0);
            (void)__wasi_fd_close(t);
        }
        (void)__wasi_path_create_directory(root, "rd/sd");
        P("open rd", __wasi_path_open(root, 0, "rd", __WASI_OFLAGS_DIRECTORY, DR, DR, 0, &rd));
        static uint8_t big[4096];
        P("fd_readdir all", __wasi_fd_readdir(rd, big, sizeof big, 0, &n));
        int count = 0, types = 0;
        unsigned long long last = 0, order_ok = 1;
        for (size_t at = 0; at + sizeof(__wasi_dirent_t) <= n;) {
            __wasi_dirent_t de;
            memcpy(&de, big + at, sizeof de);
            if (de.d_next <= last) order_ok = 0;
            last = de.d_next;
            types += de.d_type;
            count++;
            at += sizeof de + de.d_namlen;
        }
        printf("%-40s %d %d %llu\n", "  entries, type sum, cookies increase", count, types, order_ok);
        /* cut the buffer inside the second entry: used == buf_len tells "more" */
        P("fd_readdir 30 bytes", __wasi_fd_readdir(rd, big, 30, 0, &n));
        printf("%-40s %d\n", "  used", (int)n);
        P("fd_readdir from cookie 1", __wasi_fd_readdir(rd, big, sizeof big, 1, &n));
        int rest = 0;
        for (size_t at = 0; at + sizeof(__wasi_dirent_t) <= n; rest++) {
            __wasi_dirent_t de;
            memcpy(&de, big + at, sizeof de);
            at += sizeof de + de.d_namlen;
        }
        printf("%-40s %d\n", "  entries after the first", rest);
        P("fd_readdir zero buffer", __wasi_fd_readdir(rd, big, 0, 0, &n));
        printf("%-40s %d\n", "  used", (int)n);
        (void)__wasi_fd_close(rd);
        for (int i = 0; i < 3; i++) {
            char p[32];
            snprintf(p, sizeof p, "rd/%s", names[i]);
            (void)__wasi_path_unlink_file(root, p);
        }
        (void)__wasi_path_remove_directory(root, "rd/sd");
        P("rmdir rd", __wasi_path_remove_directory(root, "rd"));
    }

    printf("-- flags\n");
    P("open CREAT|DIRECTORY", __wasi_path_open(root, 0, "cd", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_DIRECTORY, 0, 0, 0, &nfd));
    P("mkdir sub", __wasi_path_create_directory(root, "sub"));
    P("open TRUNC|DIRECTORY", __wasi_path_open(root, 0, "sub", __WASI_OFLAGS_TRUNC | __WASI_OFLAGS_DIRECTORY, 0, 0, 0, &nfd));
    P("open sub/ as file rights read", __wasi_path_open(root, 0, "sub/", 0, __WASI_RIGHTS_FD_READ, 0, 0, &nfd));
    if (nfd > 2) (void)__wasi_fd_close(nfd);
    P("set_times on dir (mtim_now)", __wasi_path_filestat_set_times(root, 0, "sub", 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    P("rmdir sub", __wasi_path_remove_directory(root, "sub"));
    static const __wasi_fdflags_t fl[] = {__WASI_FDFLAGS_APPEND, __WASI_FDFLAGS_NONBLOCK, __WASI_FDFLAGS_DSYNC,
                                          __WASI_FDFLAGS_SYNC, __WASI_FDFLAGS_RSYNC};
    static const char *fln[] = {"append", "nonblock", "dsync", "sync", "rsync"};
    for (int i = 0; i < 5; i++) {
        char label[64];
        nfd = 0;
        __wasi_errno_t e = __wasi_path_open(root, 0, "fl.txt", __WASI_OFLAGS_CREAT, RW, RW, fl[i], &nfd);
        snprintf(label, sizeof label, "open fdflags %s", fln[i]);
        P(label, e);
        if (!e) {
            P("  fdstat", __wasi_fd_fdstat_get(nfd, &fst));
            printf("%-40s %d\n", "  flags", fst.fs_flags);
            P("  set_flags 0", __wasi_fd_fdstat_set_flags(nfd, 0));
            (void)__wasi_fd_close(nfd);
        }
    }
    P("unlink fl.txt", __wasi_path_unlink_file(root, "fl.txt"));

    printf("-- preopen\n");
    P("path_filestat_get .", __wasi_path_filestat_get(root, 0, ".", &st));
    printf("%-40s %d\n", "  filetype", st.filetype);
    P("fd_fdstat_get preopen", __wasi_fd_fdstat_get(root, &fst));
    printf("%-40s %d\n", "  filetype", fst.fs_filetype);
    P("fd_seek preopen", __wasi_fd_seek(root, 0, __WASI_WHENCE_CUR, &pos));
    P("fd_renumber preopen to 10", __wasi_fd_renumber(root, 10));
    P("fd_prestat_get 10", __wasi_fd_prestat_get(10, &ps));
    P("path_open via 10", __wasi_path_open(root, 0, ".", __WASI_OFLAGS_DIRECTORY, 0, 0, 0, &nfd));
    P("fd_close preopen", __wasi_fd_close(root));
    P("path_open after close", __wasi_path_open(root, 0, ".", 0, 0, 0, 0, &nfd));

    printf("-- misc\n");
    P("sched_yield", __wasi_sched_yield());
    P("random_get 0", __wasi_random_get((uint8_t *)buf, 0));
    P("fd_prestat_dir_name short buffer", __wasi_fd_prestat_dir_name(root, (uint8_t *)buf, 1));
    P("poll_oneoff zero", __wasi_poll_oneoff((void *)buf, (void *)buf, 0, &n));
    return 0;
}
