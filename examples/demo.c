// A small real program for `make demo`: Python writes text into linear memory,
// Wasm computes over it and reports progress through an imported host function.
// Build: clang --target=wasm32-wasi --sysroot=/usr -O2 -nostdlib \
//        -Wl,--no-entry -Wl,--export-dynamic -o demo.wasm demo.c
#define EXPORT __attribute__((visibility("default")))
#define IMPORT(name) __attribute__((import_module("env"), import_name(name)))

IMPORT("progress") void progress(int done, int total);

static unsigned char buffer[1 << 16];
static unsigned char sieve[1 << 20];

EXPORT unsigned char *input_buffer(void) { return buffer; }
EXPORT int input_capacity(void) { return sizeof buffer; }

// CRC-32 (IEEE), bitwise: branchy integer code.
EXPORT unsigned crc32(unsigned len) {
    unsigned crc = 0xFFFFFFFFu;
    for (unsigned i = 0; i < len; i++) {
        crc ^= buffer[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1));
    }
    return ~crc;
}

// Words and lines of the text in the buffer.
EXPORT int count_words(unsigned len) {
    int words = 0, in_word = 0;
    for (unsigned i = 0; i < len; i++) {
        unsigned char c = buffer[i];
        int space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
        if (!space && !in_word) words++;
        in_word = !space;
    }
    return words;
}

// Sieve of Eratosthenes; calls back into Python every 2^16 numbers.
EXPORT int count_primes(int n) {
    if (n > (int)sizeof sieve) n = sizeof sieve;
    for (volatile int i = 0; i < n; i++) sieve[i] = 1;  // volatile: no memset call (no libc)
    int count = 0;
    for (int i = 2; i < n; i++) {
        if (sieve[i]) {
            count++;
            for (long long j = (long long)i * i; j < n; j += i) sieve[j] = 0;
        }
        if ((i & 0xFFFF) == 0) progress(i, n);
    }
    return count;
}

EXPORT long long fib(int n) {
    long long a = 0, b = 1;
    while (n-- > 0) { long long t = a + b; a = b; b = t; }
    return a;
}

EXPORT double mean(unsigned len) {
    if (!len) return 0.0;
    double s = 0;
    for (unsigned i = 0; i < len; i++) s += buffer[i];
    return s / len;
}
