/* poll_oneoff: a lone relative clock subscription (a sleep), an absolute
 * one, a clock racing stdin (stdin redirected from a file is readable at
 * once), fd_write readiness of stdout, and a subscription on a closed fd. */
#include <stdio.h>
#include <unistd.h>
#include <wasi/api.h>

static const char *kind(__wasi_eventtype_t t) {
    return t == __WASI_EVENTTYPE_CLOCK ? "clock" : t == __WASI_EVENTTYPE_FD_READ ? "fd_read" : "fd_write";
}

int main(void) {
    __wasi_subscription_t s[2];
    __wasi_event_t ev[2];
    __wasi_size_t n = 0;
    __wasi_timestamp_t t0, t1;

    s[0].userdata = 11;
    s[0].u.tag = __WASI_EVENTTYPE_CLOCK;
    s[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    s[0].u.u.clock.timeout = 15000000;
    s[0].u.u.clock.precision = 0;
    s[0].u.u.clock.flags = 0;
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t0);
    __wasi_errno_t e = __wasi_poll_oneoff(s, ev, 1, &n);
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t1);
    printf("sleep: errno=%d n=%lu userdata=%llu type=%s err=%d waited>=15ms=%s\n", e, n,
           (unsigned long long)ev[0].userdata, kind(ev[0].type), ev[0].error, t1 - t0 >= 15000000 ? "yes" : "NO");

    s[0].u.u.clock.timeout = t1 + 5000000;
    s[0].u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
    e = __wasi_poll_oneoff(s, ev, 1, &n);
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t0);
    printf("abstime: errno=%d n=%lu reached=%s\n", e, n, t0 >= t1 + 5000000 ? "yes" : "NO");

    s[0].u.u.clock.timeout = 2000000000ULL;
    s[0].u.u.clock.flags = 0;
    s[1].userdata = 22;
    s[1].u.tag = __WASI_EVENTTYPE_FD_READ;
    s[1].u.u.fd_read.file_descriptor = 0;
    e = __wasi_poll_oneoff(s, ev, 2, &n);
    printf("stdin vs 2s clock: errno=%d n=%lu first=%s userdata=%llu err=%d\n", e, n, kind(ev[0].type),
           (unsigned long long)ev[0].userdata, ev[0].error);

    s[1].u.tag = __WASI_EVENTTYPE_FD_WRITE;
    s[1].u.u.fd_write.file_descriptor = 1;
    e = __wasi_poll_oneoff(s + 1, ev, 1, &n);
    printf("stdout writable: errno=%d n=%lu type=%s err=%d\n", e, n, kind(ev[0].type), ev[0].error);

    s[1].u.tag = __WASI_EVENTTYPE_FD_READ;
    s[1].u.u.fd_read.file_descriptor = 77;
    n = 0;
    e = __wasi_poll_oneoff(s + 1, ev, 1, &n);
    printf("closed fd: errno=%d n=%lu err=%d\n", e, n, n ? ev[0].error : -1);

    e = __wasi_poll_oneoff(s, ev, 0, &n);
    printf("zero subscriptions: errno=%d\n", e);

    char buf[64];
    ssize_t r = read(0, buf, sizeof buf - 1);
    buf[r > 0 ? r : 0] = 0;
    printf("stdin said: %s", buf);
    return 0;
}
