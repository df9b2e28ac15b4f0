/* SIMD kernels with wasm_simd128.h: a 3x3 box blur over an 8-bit grayscale
 * image (u8 widening adds, q15 multiply, narrowing), an i16 dot product
 * (dot, i64 widening) and an f32 saxpy with min/max clamping.
 * Arguments: image side n, repetitions r. The kernels carry the simd128
 * target attribute, so the file builds with or without -msimd128. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <wasm_simd128.h>

__attribute__((target("simd128"))) static void blur(const uint8_t *src, uint8_t *dst, int n) {
    for (int y = 1; y < n - 1; y++) {
        for (int x = 1; x + 16 <= n - 1; x += 16) {
            v128_t acc_lo = wasm_i16x8_splat(0), acc_hi = wasm_i16x8_splat(0);
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    v128_t p = wasm_v128_load(src + (y + dy) * n + x + dx);
                    acc_lo = wasm_i16x8_add(acc_lo, wasm_u16x8_extend_low_u8x16(p));
                    acc_hi = wasm_i16x8_add(acc_hi, wasm_u16x8_extend_high_u8x16(p));
                }
            /* divide by 9 with a q15 multiply: x * 3641 / 32768 */
            v128_t k = wasm_i16x8_splat(3641);
            acc_lo = wasm_i16x8_q15mulr_sat(acc_lo, k);
            acc_hi = wasm_i16x8_q15mulr_sat(acc_hi, k);
            wasm_v128_store(dst + y * n + x, wasm_u8x16_narrow_i16x8(acc_lo, acc_hi));
        }
    }
}

__attribute__((target("simd128"))) static int64_t dot(const int16_t *a, const int16_t *b, int n) {
    v128_t acc = wasm_i64x2_splat(0);
    for (int i = 0; i + 8 <= n; i += 8) {
        v128_t d = wasm_i32x4_dot_i16x8(wasm_v128_load(a + i), wasm_v128_load(b + i));
        acc = wasm_i64x2_add(acc, wasm_i64x2_extend_low_i32x4(d));
        acc = wasm_i64x2_add(acc, wasm_i64x2_extend_high_i32x4(d));
    }
    return wasm_i64x2_extract_lane(acc, 0) + wasm_i64x2_extract_lane(acc, 1);
}

__attribute__((target("simd128"))) static void saxpy(float *y, const float *x, float a, int n) {
    v128_t va = wasm_f32x4_splat(a), lo = wasm_f32x4_splat(-1000.0f), hi = wasm_f32x4_splat(1000.0f);
    for (int i = 0; i + 4 <= n; i += 4) {
        v128_t v = wasm_f32x4_add(wasm_f32x4_mul(va, wasm_v128_load(x + i)), wasm_v128_load(y + i));
        wasm_v128_store(y + i, wasm_f32x4_max(lo, wasm_f32x4_min(hi, v)));
    }
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1024;
    int reps = argc > 2 ? atoi(argv[2]) : 20;
    uint8_t *img = malloc((size_t)n * n), *out = calloc((size_t)n * n, 1);
    int16_t *a = malloc(sizeof(int16_t) * n * n), *b = malloc(sizeof(int16_t) * n * n);
    float *fx = malloc(sizeof(float) * n * n), *fy = malloc(sizeof(float) * n * n);
    uint32_t s = 12345;
    for (long i = 0; i < (long)n * n; i++) {
        s = s * 1103515245u + 12345u;
        img[i] = s >> 24;
        a[i] = (int16_t)(s >> 8);
        b[i] = (int16_t)(s >> 12);
        fx[i] = (float)((s >> 16) % 200) - 100.0f;
        fy[i] = (float)((s >> 20) % 50);
    }
    uint64_t check = 0;
    int64_t d = 0;
    for (int r = 0; r < reps; r++) {
        blur(img, out, n);
        uint8_t *t = img; img = out; out = t;
        d += dot(a, b, n * n);
        saxpy(fy, fx, 0.5f, n * n);
    }
    for (long i = 0; i < (long)n * n; i++) check = check * 31 + img[i];
    double fs = 0;
    for (long i = 0; i < (long)n * n; i++) fs += fy[i];
    printf("blur=%llu dot=%lld saxpy=%.1f\n", (unsigned long long)check, (long long)d, fs);
    return 0;
}
