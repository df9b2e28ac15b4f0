/* Binary trees (the Benchmarks Game): malloc/free-heavy allocation of
 * short-lived trees beside one long-lived tree. Size: max depth. */
#include <stdio.h>
#include <stdlib.h>

struct node { struct node *l, *r; };

static struct node *make(int d) {
    struct node *n = malloc(sizeof *n);
    if (!n) { puts("out of memory"); exit(1); }
    if (d > 0) { n->l = make(d - 1); n->r = make(d - 1); }
    else n->l = n->r = NULL;
    return n;
}

static long check(const struct node *n) { return 1 + (n->l ? check(n->l) + check(n->r) : 0); }

static void drop(struct node *n) {
    if (n->l) { drop(n->l); drop(n->r); }
    free(n);
}

int main(int argc, char **argv) {
    int max_depth = argc > 1 ? atoi(argv[1]) : 18, min_depth = 4;
    if (max_depth < min_depth + 2) max_depth = min_depth + 2;
    struct node *stretch = make(max_depth + 1);
    printf("stretch tree of depth %d\t check: %ld\n", max_depth + 1, check(stretch));
    drop(stretch);
    struct node *longlived = make(max_depth);
    for (int d = min_depth; d <= max_depth; d += 2) {
        long iters = 1L << (max_depth - d + min_depth), sum = 0;
        for (long i = 0; i < iters; i++) {
            struct node *t = make(d);
            sum += check(t);
            drop(t);
        }
        printf("%ld\t trees of depth %d\t check: %ld\n", iters, d, sum);
    }
    printf("long lived tree of depth %d\t check: %ld\n", max_depth, check(longlived));
    drop(longlived);
    return 0;
}
