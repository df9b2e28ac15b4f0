/* Sieve of Eratosthenes over a byte array, repeated. Size: the limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    int limit = argc > 1 ? atoi(argv[1]) : 20000000;
    int rounds = 10;
    unsigned char *composite = malloc(limit + 1);
    long long count = 0, sum = 0;     /* long is 32-bit on wasm32 */
    for (int r = 0; r < rounds; r++) {
        memset(composite, 0, limit + 1);
        count = 0; sum = 0;
        for (long long i = 2; i <= limit; i++) {
            if (composite[i]) continue;
            count++;
            sum += i;
            for (long long j = i * i; j <= limit; j += i) composite[j] = 1;
        }
    }
    printf("primes below %d: %lld, sum %lld\n", limit, count, sum);
    free(composite);
    return 0;
}
