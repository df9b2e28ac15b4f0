/* Exits with the status given as argv[1] (default 3), through exit() so that
 * proc_exit carries it; prints first so the harness sees stdout is flushed. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int code = argc > 1 ? atoi(argv[1]) : 3;
    printf("exiting with %d\n", code);
    exit(code);
}
