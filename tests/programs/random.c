/* random_get: two 64-byte draws differ, a large draw is filled (not all
 * zero, each byte value frequency plausible), a zero-length draw succeeds. */
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

int main(void) {
    unsigned char a[64], b[64];
    static unsigned char big[65536];
    __wasi_errno_t e1 = __wasi_random_get(a, sizeof a);
    __wasi_errno_t e2 = __wasi_random_get(b, sizeof b);
    printf("errnos %d %d\n", e1, e2);
    printf("two draws differ: %s\n", memcmp(a, b, sizeof a) ? "yes" : "NO");
    memset(big, 0, sizeof big);
    printf("big draw errno %d\n", __wasi_random_get(big, sizeof big));
    unsigned counts[256] = {0};
    for (size_t i = 0; i < sizeof big; i++) counts[big[i]]++;
    int plausible = 1;
    /* expected 256 per value; a fair source stays far inside [128, 400] */
    for (int v = 0; v < 256; v++)
        if (counts[v] < 128 || counts[v] > 400) plausible = 0;
    printf("distribution plausible: %s\n", plausible ? "yes" : "NO");
    printf("zero-length draw errno %d\n", __wasi_random_get(big, 0));
    printf("bytes drawn: %zu\n", sizeof a + sizeof b + sizeof big);
    return 0;
}
