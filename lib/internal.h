/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Internal definitions shared by the files of lib/: error reporting, the tensor
 * table, small helpers. Nothing here is exported (-fvisibility=hidden, and the
 * version script lists public symbols only). Cross-file internal names are
 * ijepa__name (double underscore).
 */
#ifndef IJEPA_INTERNAL_H
#define IJEPA_INTERNAL_H

#define IJEPA_BUILDING 1
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "ijepa/ijepa.h"

#define IJEPA__ERRLEN 256

/*
 * Errors have one channel: the calling thread's message, read with
 * ijepa_last_error() (error.c). What a failure needs to know is which public
 * function is running, so that the message reads "<func>(): <cause>":
 *
 *   - a public function without a handle names itself:
 *         return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
 *   - a handle keeps an ijepa__err; its public functions call
 *         ijepa__enter(&h->err, __func__);
 *     on entry and hand &h->err to the internal functions they call (the
 *     compute kernels keep the pointer in their ops object), which report with
 *         return ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot allocate %lld rows", n);
 *   - code without a public function above it (a dataset worker) uses a
 *     local ijepa__err with func NULL: the message is the cause alone.
 *
 * Handles hold no message: nothing but the thread record is written, so a
 * const handle (a config) is never written by a failing call on it.
 */
typedef struct ijepa__err {
    const char *func;          /* public function being run, or NULL */
} ijepa__err;

static inline void ijepa__enter(ijepa__err *e, const char *func) { e->func = func; }

/* Record "<e->func>(): <cause>" (just the cause if e or e->func is NULL) as
 * the calling thread's message and return code. The arguments may point
 * into the thread's current message (ijepa_last_error()). */
int ijepa__fail(ijepa__err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, naming func explicitly (before a handle exists, or without one). */
int ijepa__fail_func(const char *func, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* --- tensor tables --------------------------------------------------------- */

typedef struct ijepa__tensor {
    char name[64];
    int64_t offset;                       /* in floats, multiple of 16 */
    int64_t numel;
    int32_t ndim;
    int32_t flags;                        /* IJEPA_TENSOR_* */
    int64_t dims[IJEPA_TENSOR_MAX_DIMS];  /* unused dims are 1 */
} ijepa__tensor;

struct ijepa_tensor_table {
    ijepa__tensor *t;
    int64_t count, cap;
    int64_t total;                        /* floats in the buffer, padded */
};

/* Append a tensor of ndim dims (dims[0..ndim-1]); returns its index or
 * IJEPA_ERR_NOMEM. Offsets are assigned in call order, 16-float aligned. */
int64_t ijepa__table_add(struct ijepa_tensor_table *tab, const char *name,
                         int32_t flags, int32_t ndim, const int64_t *dims);
void ijepa__table_clear(struct ijepa_tensor_table *tab);

/* --- deterministic random numbers (init, masks) ---------------------------- */

/* xoshiro256** seeded through splitmix64: the same stream on every machine. */
typedef struct ijepa__rng { uint64_t s[4]; } ijepa__rng;
void ijepa__rng_seed(ijepa__rng *r, uint64_t seed);
uint64_t ijepa__rng_u64(ijepa__rng *r);
/* uniform double in [0, 1) with 53 random bits */
double ijepa__rng_uniform(ijepa__rng *r);
/* standard normal, computed with +,-,*,/ and sqrt only (bit-reproducible) */
double ijepa__rng_normal(ijepa__rng *r);
/* p[0..n) = float(x) for the first n draws x = ijepa__rng_normal(r) * std
 * inside [lo, hi] (the others skipped), r left as after the last one used:
 * the same bits, eight draws' arithmetic at a time where AVX-512 runs.
 * pd not NULL: the doubles x into pd instead (p unused; tests). */
void ijepa__rng_normals(ijepa__rng *r, int64_t n, double std, double lo, double hi, float *p,
                        double *pd);
/* For tests: whether ijepa__rng_normals computes eight draws at once (1,
 * where AVX-512 runs) or one by one (0); set 0 or 1 (1 only where AVX-512
 * runs), < 0 asks. Same values. Returns the setting before. Not
 * thread-safe against a running init. */
int ijepa__rng_normals_wide(int set);

/* --- memory ---------------------------------------------------------------- */

/* 64-byte aligned, zeroed allocation of n floats (NULL on failure or n<0);
 * large ones are mapped lazily, so untouched pages cost nothing. Free with
 * ijepa__ffree only. */
float *ijepa__falloc(int64_t n);
void ijepa__ffree(float *p);

#endif /* IJEPA_INTERNAL_H */
