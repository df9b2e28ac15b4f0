/* Hash table of strings: words generated from a seeded generator are
 * counted in an open-addressing table (FNV-1a, linear probing, growth by
 * rehash), then looked up again and the most frequent ones ranked: hashing,
 * strcmp, strdup/malloc, snprintf. Size: number of words. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot { char *key; uint32_t hash; long count; };

static struct slot *table;
static size_t cap, used;

static uint32_t fnv(const char *s) {
    uint32_t h = 2166136261u;
    while (*s) h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

static struct slot *find(const char *key, uint32_t h) {
    size_t i = h & (cap - 1);
    while (table[i].key && (table[i].hash != h || strcmp(table[i].key, key)))
        i = (i + 1) & (cap - 1);
    return &table[i];
}

static void grow(void) {
    struct slot *old = table;
    size_t oldcap = cap;
    cap = cap ? cap * 2 : 1024;
    table = calloc(cap, sizeof *table);
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].key) *find(old[i].key, old[i].hash) = old[i];
    free(old);
}

static int by_count(const void *a, const void *b) {
    const struct slot *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return strcmp(x->key, y->key);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    static const char *syll[] = {"ka", "lo", "mi", "ne", "so", "tu", "ra", "vi", "zen", "qua", "pe", "do"};
    uint64_t x = 0x9E3779B97F4A7C15ull;
    char word[64];
    grow();
    for (long i = 0; i < n; i++) {
        x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
        uint64_t r = x * 2685821657736338717ull;
        int len = 1 + (int)(r % 4);
        char *p = word;
        for (int k = 0; k < len; k++) {
            const char *s = syll[(r >> (8 + 5 * k)) % 12];
            while (*s) *p++ = *s++;
        }
        p += snprintf(p, 8, "%u", (unsigned)((r >> 40) % 50));
        *p = 0;
        uint32_t h = fnv(word);
        struct slot *s = find(word, h);
        if (s->key) { s->count++; continue; }
        s->key = strdup(word); s->hash = h; s->count = 1;
        if (++used * 2 > cap) grow();
    }
    long hits = 0;
    for (long i = 0; i < n / 10; i++) {
        snprintf(word, sizeof word, "%s%s%ld", syll[i % 12], syll[(i / 12) % 12], i % 50);
        struct slot *s = find(word, fnv(word));
        if (s->key) hits += s->count;
    }
    struct slot *all = malloc(used * sizeof *all);
    size_t k = 0;
    for (size_t i = 0; i < cap; i++) if (table[i].key) all[k++] = table[i];
    qsort(all, k, sizeof *all, by_count);
    printf("distinct %zu, lookup hits %ld, top:", used, hits);
    for (int i = 0; i < 3 && i < (int)k; i++) printf(" %s=%ld", all[i].key, all[i].count);
    printf("\n");
    return 0;
}
