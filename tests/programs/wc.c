/* wc: lines, words and bytes of each file argument (or of stdin), and a total
 * line when there is more than one file, in the layout of POSIX wc. */
#include <ctype.h>
#include <stdio.h>

static int count(FILE *f, long *lines, long *words, long *bytes) {
    int c, inword = 0;
    *lines = *words = *bytes = 0;
    while ((c = getc(f)) != EOF) {
        (*bytes)++;
        if (c == '\n') (*lines)++;
        if (isspace(c)) inword = 0;
        else if (!inword) { inword = 1; (*words)++; }
    }
    return ferror(f) ? -1 : 0;
}

int main(int argc, char **argv) {
    long l, w, b, tl = 0, tw = 0, tb = 0;
    int status = 0;
    if (argc < 2) {
        if (count(stdin, &l, &w, &b) < 0) { perror("stdin"); return 1; }
        printf("%7ld %7ld %7ld\n", l, w, b);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "r");
        if (!f) { perror(argv[i]); status = 1; continue; }
        if (count(f, &l, &w, &b) < 0) { perror(argv[i]); status = 1; }
        fclose(f);
        printf("%7ld %7ld %7ld %s\n", l, w, b, argv[i]);
        tl += l; tw += w; tb += b;
    }
    if (argc > 2) printf("%7ld %7ld %7ld total\n", tl, tw, tb);
    return status;
}
