/* memcpy/memmove/memset-heavy: buffers are filled, copied in blocks of
 * varied sizes and alignments, shifted with overlapping memmove and compared
 * with memcmp; a checksum over the final buffers.
 * Sizes: rounds (default 240), buffer KiB (default 4096). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 240;
    size_t size = (argc > 2 ? (size_t)atol(argv[2]) : 4096) * 1024;
    if (size < 16 * 1024) { fprintf(stderr, "buffer must be at least 16 KiB\n"); return 2; }
    size_t maxblk = size / 64;
    uint8_t *a = malloc(size), *b = malloc(size);
    for (size_t i = 0; i < size; i++) a[i] = (uint8_t)(i * 2654435761u >> 13);
    uint32_t x = 1;
    long equal = 0;
    for (int r = 0; r < rounds; r++) {
        memset(b, r & 0xFF, size);
        for (size_t off = 0; off + maxblk + 32 < size;) {
            x = x * 1664525u + 1013904223u;
            size_t len = 1 + (x >> 16) % maxblk, src = (x >> 3) % (size - len);
            memcpy(b + off, a + src, len);
            off += len + (x & 31);
        }
        memmove(b + 1, b, size - 1);
        memmove(a, a + 3, size - 3);
        memset(a + size - 3, r, 3);
        for (size_t blk = 0; blk + 4096 <= size; blk += 4096) equal += memcmp(a + blk, b + blk, 4096) == 0;
        memcpy(a + ((size_t)r * 4099) % (size / 2), b + size / 2, size / 4);
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < size; i += 8) { uint64_t w; memcpy(&w, b + i, 8); sum = sum * 31 + w; }
    for (size_t i = 0; i < size; i += 8) { uint64_t w; memcpy(&w, a + i, 8); sum ^= w + (sum << 6); }
    printf("rounds %d, buffer %zu, equal blocks %ld, checksum %016llx\n", rounds, size, equal,
           (unsigned long long)sum);
    free(a); free(b);
    return 0;
}
