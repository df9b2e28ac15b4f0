/* Prints argc, each argv[i], then every environment variable in the order the
 * runtime hands them over, then a getenv() lookup of PYWINCH_SELECTED. */
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    int n = 0;
    for (char **e = environ; e && *e; e++, n++)
        printf("env[%d]=%s\n", n, *e);
    printf("envc=%d\n", n);
    const char *sel = getenv("PYWINCH_SELECTED");
    printf("PYWINCH_SELECTED=%s\n", sel ? sel : "(unset)");
    return 0;
}
