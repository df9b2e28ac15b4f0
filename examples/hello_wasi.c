// A WASI command for the API tests: prints its arguments and an environment
// variable, reads stdin, exits with the number of arguments.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    for (int i = 0; i < argc; i++) printf("arg %d: %s\n", i, argv[i]);
    const char *who = getenv("WHO");
    printf("hello, %s\n", who ? who : "nobody");
    char line[128];
    if (fgets(line, sizeof line, stdin)) printf("read: %s", line);
    return argc;
}
