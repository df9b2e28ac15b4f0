/* grep [-i] [-n] [-c] PATTERN FILE...: prints the lines containing PATTERN
 * (a plain substring), prefixed by the file name when several files are given.
 * Exits 0 when a line matched, 1 when none did, 2 on error, as POSIX grep. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int icase, numbers, counting;

static int contains(const char *line, const char *pat) {
    if (!icase) return strstr(line, pat) != NULL;
    size_t n = strlen(pat);
    for (; *line; line++) {
        size_t k = 0;
        while (k < n && line[k] && tolower((unsigned char)line[k]) == tolower((unsigned char)pat[k])) k++;
        if (k == n) return 1;
    }
    return n == 0;
}

static int grep(FILE *f, const char *name, const char *pat, int show_name) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0, hits = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n') line[len - 1] = 0;
        if (!contains(line, pat)) continue;
        hits++;
        if (counting) continue;
        if (show_name) printf("%s:", name);
        if (numbers) printf("%ld:", lineno);
        printf("%s\n", line);
    }
    free(line);
    if (counting) {
        if (show_name) printf("%s:", name);
        printf("%ld\n", hits);
    }
    return hits > 0;
}

int main(int argc, char **argv) {
    int i = 1, matched = 0, err = 0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-i")) icase = 1;
        else if (!strcmp(argv[i], "-n")) numbers = 1;
        else if (!strcmp(argv[i], "-c")) counting = 1;
        else { fprintf(stderr, "grep: unknown option %s\n", argv[i]); return 2; }
    }
    if (i >= argc) { fprintf(stderr, "usage: grep [-i] [-n] [-c] PATTERN [FILE...]\n"); return 2; }
    const char *pat = argv[i++];
    int nfiles = argc - i;
    if (!nfiles) return grep(stdin, "(stdin)", pat, 0) ? 0 : 1;
    for (; i < argc; i++) {
        FILE *f = fopen(argv[i], "r");
        if (!f) { perror(argv[i]); err = 1; continue; }
        matched |= grep(f, argv[i], pat, nfiles > 1);
        fclose(f);
    }
    return err ? 2 : matched ? 0 : 1;
}
