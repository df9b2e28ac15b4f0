/* Mandelbrot set (the Benchmarks Game's bitmap), f64 inner loop. Size: the
 * image width and height; prints a checksum of the bitmap (FNV-1a). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int w = argc > 1 ? atoi(argv[1]) : 3200, h = w;
    uint32_t hash = 2166136261u;
    long inside = 0;
    for (int y = 0; y < h; y++) {
        double ci = 2.0 * y / h - 1.0;
        unsigned bits = 0;
        for (int x = 0; x < w; x++) {
            double cr = 2.0 * x / w - 1.5, zr = 0, zi = 0, tr = 0, ti = 0;
            int i = 0;
            for (; i < 50 && tr + ti <= 4.0; i++) {
                zi = 2.0 * zr * zi + ci;
                zr = tr - ti + cr;
                tr = zr * zr;
                ti = zi * zi;
            }
            bits = (bits << 1) | (tr + ti <= 4.0);
            inside += tr + ti <= 4.0;
            if ((x & 7) == 7 || x == w - 1) {
                hash = (hash ^ (bits & 0xFF)) * 16777619u;
                bits = 0;
            }
        }
    }
    printf("inside=%ld hash=%08x\n", inside, hash);
    return 0;
}
