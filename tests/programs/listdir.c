/* Lists a directory (argv[1], default /data) sorted by name, with a type
 * letter (d, f, l, ?) and for regular files their size. With a second
 * argument "-r" it recurses into subdirectories. Large directories exercise
 * fd_readdir cookies: wasi-libc refills its buffer from the last cookie. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list(const char *path, int recurse) {
    DIR *d = opendir(path);
    if (!d) { perror(path); return 1; }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (n == cap) { cap = cap ? 2 * cap : 64; names = realloc(names, cap * sizeof *names); }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    printf("%s: %zu entries\n", path, n);
    int status = 0;
    for (size_t i = 0; i < n; i++) {
        char full[1024];
        snprintf(full, sizeof full, "%s/%s", path, names[i]);
        struct stat st;
        if (lstat(full, &st) < 0) { perror(full); status = 1; continue; }
        char t = S_ISDIR(st.st_mode) ? 'd' : S_ISREG(st.st_mode) ? 'f' : S_ISLNK(st.st_mode) ? 'l' : '?';
        if (t == 'f') printf("%c %s %lld\n", t, names[i], (long long)st.st_size);
        else printf("%c %s\n", t, names[i]);
    }
    for (size_t i = 0; i < n && recurse; i++) {
        char full[1024];
        struct stat st;
        snprintf(full, sizeof full, "%s/%s", path, names[i]);
        if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) status |= list(full, 1);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return status;
}

int main(int argc, char **argv) {
    return list(argc > 1 ? argv[1] : "/data", argc > 2 && !strcmp(argv[2], "-r"));
}
