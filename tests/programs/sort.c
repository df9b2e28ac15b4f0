/* sort [-r] [-n] [FILE...]: sorts the lines of the files (or stdin) by byte
 * order, or numerically with -n, reversed with -r. Lines may be any length. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reverse, numeric;

static int cmp(const void *a, const void *b) {
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int r;
    if (numeric) {
        double dx = atof(x), dy = atof(y);
        r = dx < dy ? -1 : dx > dy ? 1 : strcmp(x, y);
    } else {
        r = strcmp(x, y);
    }
    return reverse ? -r : r;
}

static char **lines;
static size_t nlines, cap;

static void slurp(FILE *f) {
    char *line = NULL;
    size_t n = 0;
    ssize_t len;
    while ((len = getline(&line, &n, f)) >= 0) {
        if (len > 0 && line[len - 1] == '\n') line[len - 1] = 0;
        if (nlines == cap) {
            cap = cap ? cap * 2 : 64;
            lines = realloc(lines, cap * sizeof *lines);
            if (!lines) { perror("realloc"); exit(2); }
        }
        lines[nlines++] = strdup(line);
    }
    free(line);
}

int main(int argc, char **argv) {
    int i = 1, files = 0;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (!strcmp(argv[i], "-r")) reverse = 1;
        else if (!strcmp(argv[i], "-n")) numeric = 1;
        else { fprintf(stderr, "sort: unknown option %s\n", argv[i]); return 2; }
    }
    for (; i < argc; i++, files++) {
        FILE *f = fopen(argv[i], "r");
        if (!f) { perror(argv[i]); return 2; }
        slurp(f);
        fclose(f);
    }
    if (!files) slurp(stdin);
    qsort(lines, nlines, sizeof *lines, cmp);
    for (size_t k = 0; k < nlines; k++) puts(lines[k]);
    return 0;
}
