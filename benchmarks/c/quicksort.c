/* Quicksort (hand-written, median of three, insertion sort for short runs)
 * of pseudo-random 32-bit ints. Size: element count. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void isort(int32_t *a, long lo, long hi) {
    for (long i = lo + 1; i <= hi; i++) {
        int32_t v = a[i];
        long j = i - 1;
        while (j >= lo && a[j] > v) { a[j + 1] = a[j]; j--; }
        a[j + 1] = v;
    }
}

static void qsort_rec(int32_t *a, long lo, long hi) {
    while (hi - lo > 16) {
        long mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) { int32_t t = a[mid]; a[mid] = a[lo]; a[lo] = t; }
        if (a[hi] < a[lo]) { int32_t t = a[hi]; a[hi] = a[lo]; a[lo] = t; }
        if (a[hi] < a[mid]) { int32_t t = a[hi]; a[hi] = a[mid]; a[mid] = t; }
        int32_t pivot = a[mid];
        long i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) { int32_t t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
        }
        if (j - lo < hi - i) { qsort_rec(a, lo, j); lo = i; }
        else { qsort_rec(a, i, hi); hi = j; }
    }
    isort(a, lo, hi);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 5000000;
    int32_t *a = malloc(n * sizeof *a);
    uint64_t x = 88172645463325252ull;
    uint64_t check = 0;
    for (int round = 0; round < 2; round++) {
        for (long i = 0; i < n; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            a[i] = (int32_t)(x >> 32);
        }
        qsort_rec(a, 0, n - 1);
        for (long i = 1; i < n; i++)
            if (a[i - 1] > a[i]) { printf("NOT SORTED at %ld\n", i); return 1; }
        for (long i = 0; i < n; i += 97) check = check * 31 + (uint32_t)a[i];
    }
    printf("sorted %ld, checksum %llu\n", n, (unsigned long long)check);
    free(a);
    return 0;
}
