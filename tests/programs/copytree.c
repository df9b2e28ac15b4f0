/* copytree SRC DST: copies a directory tree between two preopens (files in
 * 64 KiB chunks, subdirectories, symlinks as links), printing each relative
 * path with its size and CRC-32, sorted. Then tries to write into SRC, which
 * the host preopened read-only, and prints the errno of each refusal. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t crc_table[256];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int copy_file(const char *from, const char *to, long long *size, uint32_t *crc) {
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0) return -1;
    static unsigned char buf[65536];
    ssize_t n;
    uint32_t c = 0xFFFFFFFFu;
    *size = 0;
    while ((n = read(in, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) c = crc_table[(c ^ buf[i]) & 0xFF] ^ (c >> 8);
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, n - done);
            if (w <= 0) return -1;
            done += w;
        }
        *size += n;
    }
    *crc = ~c;
    close(in);
    return close(out) == 0 && n == 0 ? 0 : -1;
}

static int walk(const char *src, const char *dst, const char *rel) {
    DIR *d = opendir(src);
    if (!d) { printf("opendir %s: %s\n", src, strerror(errno)); return 1; }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    int status = 0;
    for (size_t i = 0; i < n; i++) {
        char s[1024], t[1024], r[1024];
        snprintf(s, sizeof s, "%s/%s", src, names[i]);
        snprintf(t, sizeof t, "%s/%s", dst, names[i]);
        snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", names[i]);
        struct stat st;
        if (lstat(s, &st) < 0) { printf("lstat %s: %s\n", r, strerror(errno)); status = 1; continue; }
        if (S_ISDIR(st.st_mode)) {
            if (mkdir(t, 0755) < 0) { printf("mkdir %s: %s\n", r, strerror(errno)); status = 1; continue; }
            printf("d %s\n", r);
            status |= walk(s, t, r);
        } else if (S_ISLNK(st.st_mode)) {
            char target[1024];
            ssize_t len = readlink(s, target, sizeof target - 1);
            if (len < 0) { printf("readlink %s: %s\n", r, strerror(errno)); status = 1; continue; }
            target[len] = 0;
            if (symlink(target, t) < 0) { printf("symlink %s: %s\n", r, strerror(errno)); status = 1; continue; }
            printf("l %s -> %s\n", r, target);
        } else {
            long long size;
            uint32_t crc;
            if (copy_file(s, t, &size, &crc) < 0) { printf("copy %s: %s\n", r, strerror(errno)); status = 1; continue; }
            printf("f %s %lld %08x\n", r, size, crc);
        }
        free(names[i]);
    }
    free(names);
    return status;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: copytree SRC DST\n"); return 2; }
    crc_init();
    int status = walk(argv[1], argv[2], "");
    char p[1024];
    snprintf(p, sizeof p, "%s/new.txt", argv[1]);
    int fd = open(p, O_WRONLY | O_CREAT, 0644);
    printf("create in read-only SRC: %s\n", fd < 0 ? strerror(errno) : "ALLOWED");
    snprintf(p, sizeof p, "%s/sub", argv[1]);
    printf("mkdir in read-only SRC: %s\n", mkdir(p, 0755) < 0 ? strerror(errno) : "ALLOWED");
    return status;
}
