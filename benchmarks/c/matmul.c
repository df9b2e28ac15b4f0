/* Dense f64 matrix multiply (i-k-j order), integer-valued inputs so the
 * checksum is exact. Size: n for n x n matrices. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 800;
    double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n);
    double *c = calloc((size_t)n * n, sizeof(double));
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            a[i * n + j] = (i * 7 + j * 3) % 13 - 6;
            b[i * n + j] = (i * 5 + j * 11) % 17 - 8;
        }
    for (int rep = 0; rep < 3; rep++)
        for (int i = 0; i < n; i++)
            for (int k = 0; k < n; k++) {
                double aik = a[i * n + k];
                for (int j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
            }
    double trace = 0, sum = 0;
    for (int i = 0; i < n; i++) trace += c[i * n + i];
    for (long i = 0; i < (long)n * n; i++) sum += c[i] * ((i % 5) + 1);
    printf("trace=%.0f weighted=%.0f\n", trace, sum);
    free(a); free(b); free(c);
    return 0;
}
