/* File I/O inside a preopened directory (argv[1], default /data): write, read
 * back, append, seek, pread/pwrite, truncate, stat, rename, unlink, mkdir and
 * rmdir. Each step prints what it observed; the files left behind (out.txt,
 * kept/ and kept/moved.txt) are checked by the harness too. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char path[512];
static const char *dir;

static const char *at(const char *name) {
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

#define CHECK(cond, what) do { if (!(cond)) { printf("FAIL %s: %s\n", what, strerror(errno)); return 1; } } while (0)

int main(int argc, char **argv) {
    dir = argc > 1 ? argv[1] : "/data";
    char buf[256];

    /* stdio write then read back */
    FILE *f = fopen(at("out.txt"), "w");
    CHECK(f, "fopen w");
    for (int i = 1; i <= 5; i++) fprintf(f, "line %d\n", i);
    CHECK(fclose(f) == 0, "fclose");
    f = fopen(at("out.txt"), "r");
    CHECK(f, "fopen r");
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    printf("read %zu bytes: [%s]\n", n, buf);

    /* append */
    f = fopen(at("out.txt"), "a");
    CHECK(f, "fopen a");
    fputs("appended\n", f);
    fclose(f);
    struct stat st;
    CHECK(stat(at("out.txt"), &st) == 0, "stat");
    printf("size after append: %lld, regular: %d\n", (long long)st.st_size, S_ISREG(st.st_mode));

    /* POSIX fd: seek, read, pread, pwrite, lseek SEEK_END, ftruncate */
    int fd = open(at("out.txt"), O_RDWR);
    CHECK(fd >= 0, "open rdwr");
    off_t pos = lseek(fd, 7, SEEK_SET);
    ssize_t r = read(fd, buf, 6);
    buf[r > 0 ? r : 0] = 0;
    printf("seek %lld read [%s]\n", (long long)pos, buf);
    printf("tell %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    r = pread(fd, buf, 4, 35);
    buf[r > 0 ? r : 0] = 0;
    printf("pread@35 [%s] tell still %lld\n", buf, (long long)lseek(fd, 0, SEEK_CUR));
    CHECK(pwrite(fd, "LINE", 4, 0) == 4, "pwrite");
    printf("end at %lld\n", (long long)lseek(fd, 0, SEEK_END));
    CHECK(ftruncate(fd, 20) == 0, "ftruncate");
    CHECK(fstat(fd, &st) == 0, "fstat");
    printf("size after truncate: %lld\n", (long long)st.st_size);
    CHECK(fsync(fd) == 0, "fsync");
    CHECK(fdatasync(fd) == 0, "fdatasync");
    close(fd);

    /* exclusive create of an existing file fails with EEXIST */
    fd = open(at("out.txt"), O_WRONLY | O_CREAT | O_EXCL, 0644);
    printf("O_EXCL on existing: %s\n", fd < 0 && errno == EEXIST ? "EEXIST" : "unexpected");
    if (fd >= 0) close(fd);

    /* opening a missing file */
    fd = open(at("missing.txt"), O_RDONLY);
    printf("open missing: %s\n", fd < 0 && errno == ENOENT ? "ENOENT" : "unexpected");

    /* directories, rename, unlink */
    CHECK(mkdir(at("kept"), 0755) == 0, "mkdir kept");
    CHECK(mkdir(at("tmpdir"), 0755) == 0, "mkdir tmpdir");
    printf("mkdir existing: %s\n", mkdir(at("kept"), 0755) < 0 && errno == EEXIST ? "EEXIST" : "unexpected");
    f = fopen(at("scratch.txt"), "w");
    CHECK(f, "fopen scratch");
    fputs("moved content\n", f);
    fclose(f);
    char from[512];
    strcpy(from, at("scratch.txt"));
    CHECK(rename(from, at("kept/moved.txt")) == 0, "rename");
    printf("scratch after rename: %s\n", access(at("scratch.txt"), F_OK) < 0 ? "gone" : "still there");
    f = fopen(at("victim.txt"), "w");
    CHECK(f, "fopen victim");
    fclose(f);
    CHECK(unlink(at("victim.txt")) == 0, "unlink");
    printf("rmdir non-empty: %s\n", rmdir(at("kept")) < 0 && errno == ENOTEMPTY ? "ENOTEMPTY" : "unexpected");
    CHECK(rmdir(at("tmpdir")) == 0, "rmdir");
    printf("unlink a directory: %s\n", unlink(at("kept")) < 0 ? "refused" : "unexpected");
    printf("done\n");
    return 0;
}
