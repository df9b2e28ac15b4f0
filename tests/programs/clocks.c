/* Clocks: monotonic never goes back, realtime is after 2020, every clock has
 * a resolution in (0, 1 s], a 20 ms sleep (poll_oneoff on a clock) lasts at
 * least 20 ms, CPU time advances under load. Prints only verdicts, so the
 * output is deterministic. */
#include <stdio.h>
#include <time.h>
#include <wasi/api.h>

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(void) {
    struct timespec a, b;
    int ok = 1;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 1000; i++) {
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (ns(b) < ns(a)) ok = 0;
        a = b;
    }
    printf("monotonic non-decreasing: %s\n", ok ? "yes" : "NO");

    clock_gettime(CLOCK_REALTIME, &a);
    printf("realtime after 2020: %s\n", a.tv_sec > 1577836800LL ? "yes" : "NO");

    const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
    const char *names[] = {"realtime", "monotonic", "process", "thread"};
    for (int i = 0; i < 4; i++) {
        struct timespec r;
        int rc = clock_getres(ids[i], &r);
        printf("resolution %s: %s\n", names[i], rc == 0 && ns(r) > 0 && ns(r) <= 1000000000LL ? "ok" : "BAD");
        __wasi_timestamp_t raw = 0, now = 0;
        __wasi_errno_t re = __wasi_clock_res_get((__wasi_clockid_t)i, &raw);
        __wasi_errno_t te = __wasi_clock_time_get((__wasi_clockid_t)i, 1, &now);
        printf("  raw %s: res errno %d, time errno %d, res %s\n", names[i], re, te,
               re ? "-" : raw > 0 && raw <= 1000000000ULL ? "in (0, 1s]" : "OUT OF RANGE");
    }

    clock_gettime(CLOCK_MONOTONIC, &a);
    struct timespec req = {0, 20 * 1000000};
    nanosleep(&req, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("slept at least 20ms: %s\n", ns(b) - ns(a) >= 20000000LL ? "yes" : "NO");

    __wasi_timestamp_t t0, t1, res;
    __wasi_errno_t e = __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t0);
    printf("raw monotonic errno %d\n", e);
    e = __wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &res);
    printf("raw res errno %d\n", e);
    e = __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t1);
    printf("raw monotonic again errno %d, later: %s\n", e, t1 >= t0 ? "yes" : "NO");

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < 30000000UL; i++) x += i ^ (x >> 3);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    printf("cpu time advanced: %s\n", ns(b) > ns(a) ? "yes" : "NO");
    return 0;
}
