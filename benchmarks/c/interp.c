/* A switch-dispatch bytecode interpreter (a stack machine with registers)
 * running a program that counts primes below N by trial division and sums
 * Collatz chain lengths: indirect branches, unpredictable dispatch. Size: N. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, DIV, MOD, LT, LE, EQ, JMP, JZ, JNZ, DUP, POP, INC, HALT, SHR, AND };

static int64_t run(const int32_t *code, int64_t *reg) {
    int64_t stack[64];
    int sp = 0, pc = 0;
    for (;;) {
        int32_t op = code[pc++];
        switch (op) {
        case PUSH: stack[sp++] = code[pc++]; break;
        case LOAD: stack[sp++] = reg[code[pc++]]; break;
        case STORE: reg[code[pc++]] = stack[--sp]; break;
        case ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case DIV: sp--; stack[sp - 1] /= stack[sp]; break;
        case MOD: sp--; stack[sp - 1] %= stack[sp]; break;
        case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case LE: sp--; stack[sp - 1] = stack[sp - 1] <= stack[sp]; break;
        case EQ: sp--; stack[sp - 1] = stack[sp - 1] == stack[sp]; break;
        case SHR: sp--; stack[sp - 1] >>= stack[sp]; break;
        case AND: sp--; stack[sp - 1] &= stack[sp]; break;
        case JMP: pc = code[pc]; break;
        case JZ: pc = stack[--sp] ? pc + 1 : code[pc]; break;
        case JNZ: pc = stack[--sp] ? code[pc] : pc + 1; break;
        case DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case POP: sp--; break;
        case INC: reg[code[pc]]++; pc++; break;
        case HALT: return reg[0];
        default: printf("bad opcode %d\n", op); exit(1);
        }
    }
}

/* Registers: r0 prime count, r1 n, r2 d, r3 limit, r4 collatz sum, r5 x */
static const int32_t program[] = {
    /* 0 */ PUSH, 2, STORE, 1,                       /* n = 2 */
    /* 4 */ LOAD, 1, LOAD, 3, LT, JZ, 70,            /* while n < limit */
    /* 11 */ PUSH, 2, STORE, 2,                      /* d = 2 */
    /* 15 */ LOAD, 2, LOAD, 2, MUL, LOAD, 1, LE, JZ, 40, /* while d*d <= n */
    /* 25 */ LOAD, 1, LOAD, 2, MOD, JZ, 44,          /* if n % d == 0: not prime */
    /* 32 */ INC, 2, JMP, 15,
    /* 36 */ HALT, HALT, HALT, HALT,
    /* 40 */ INC, 0, JMP, 44,                        /* prime */
    /* 44 */ LOAD, 1, STORE, 5,                      /* collatz: x = n */
    /* 48 */ LOAD, 5, PUSH, 1, EQ, JNZ, 66,
    /* 55 */ INC, 4,
    /* 57 */ LOAD, 5, PUSH, 1, AND, JZ, 78,          /* even? */
    /* 64 */ JMP, 87,
    /* 66 */ INC, 1, JMP, 4,
    /* 70 */ HALT, HALT, HALT, HALT, HALT, HALT, HALT, HALT,
    /* 78 */ LOAD, 5, PUSH, 1, SHR, STORE, 5, JMP, 48, /* x >>= 1 */
    /* 87 */ LOAD, 5, PUSH, 3, MUL, PUSH, 1, ADD, STORE, 5, JMP, 48, /* x = 3x + 1 */
};

int main(int argc, char **argv) {
    int64_t limit = argc > 1 ? atoll(argv[1]) : 300000;
    int64_t reg[8] = {0};
    reg[3] = limit;
    run(program, reg);
    printf("primes below %lld: %lld, collatz steps: %lld\n", (long long)limit, (long long)reg[0], (long long)reg[4]);
    return 0;
}
