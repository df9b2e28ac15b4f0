/* The smallest WASI command: one line on stdout, one on stderr. */
#include <stdio.h>

int main(void) {
    printf("Hello, world!\n");
    fprintf(stderr, "hello on stderr\n");
    return 0;
}
