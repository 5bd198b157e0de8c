/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Check helpers shared by the suites of tests/check_ijepa: assertions with
 * descriptive failure messages, config building, tensor-table access, the
 * layout and init checks every model's table gets, and the encoder fixture.
 * (Unlike ref.h these use Check and the library.)
 *
 * Except add_tcase(), these assert or call the library: call them only
 * inside START_TEST bodies (the forked child), never from a suite
 * constructor (see check_ijepa.h).
 *
 * Assertions in loops over elements test with a plain `if` and call Check
 * once (or only on failure): every passing ck_assert writes to the pipe to
 * the parent process in fork mode.
 */
#ifndef IJEPA_TESTS_HELPERS_H
#define IJEPA_TESTS_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "ijepa/ijepa.h"
#include "ref.h"

#define COUNT_OF(a) (sizeof (a) / sizeof (a)[0])

/* --- assertions -------------------------------------------------------------- */

/* Fail with the comparison summary unless c passed; the label is printf-style.
 * IJEPA_TEST_VERBOSE=1 prints every comparison (how close it came to its
 * tolerance). */
void expect_close(const ref_cmp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* rc must be `code`, and msg (the message the call left) must be non-empty
 * and name func. `what` names the case in the failure message. */
void expect_err(int rc, int code, const char *msg, const char *func, const char *what);

/* Index of the first p[i] != v, or -1. */
int64_t first_not(const float *p, int64_t n, float v);

int ends_with(const char *s, const char *suffix);

/* n floats U(lo, hi) from a generator seeded with seed (non-NULL, free()). */
float *rand_floats(int64_t n, uint64_t seed, double lo, double hi);

/* --- a scratch directory ----------------------------------------------------------- */

/* Make a fresh directory /tmp/ijepa-TAG-XXXXXX for the calling test (each
 * test runs in its own forked process, so one per process). */
void tmp_init(const char *tag);
/* That directory. */
const char *tmp_dir(void);
/* TMPDIR/name; the last 32 results stay valid. */
const char *tmp_path(const char *name);
/* Entries of the directory whose names start with prefix ("": all). */
int tmp_count(const char *prefix);
/* Remove the directory with its files and empty subdirectories. */
void tmp_cleanup(void);

/* --- configs ------------------------------------------------------------------- */

typedef struct cfg_int { int32_t key; int64_t v; } cfg_int;
typedef struct cfg_float { int32_t key; double v; } cfg_float;

/* A new config with the ni integer and nf float keys set (fv may be NULL if
 * nf is 0). Each set must succeed; a failure names the key. */
ijepa_config *config_with(const cfg_int *iv, size_t ni, const cfg_float *fv, size_t nf);

/* --- tensor tables --------------------------------------------------------------- */

typedef struct tinfo {
    const char *name;
    int64_t off, numel, dims[IJEPA_TENSOR_MAX_DIMS];
    int32_t ndim, flags;
} tinfo;

/* Tensor i (which must exist), every field filled. */
tinfo tensor_at(const ijepa_tensor_table *tab, int64_t i);
/* The tensor called name (which must exist). */
tinfo tensor_named(const ijepa_tensor_table *tab, const char *name);

/* Floats of buf [count] outside every tensor of tab that are not zero. */
int64_t padding_nonzero(const ijepa_tensor_table *tab, const float *buf, int64_t count);

/*
 * Random parameters of unit scale over any tensor table: weights (ndim >= 2)
 * U(-a, a), a = sqrt(3 / fan_in) (unit output variance); mask_token
 * U(-1, 1) (it is added to unit-scale sin-cos embeddings); LayerNorm gains
 * U(0.5, 1.5); biases U(-0.3, 0.3). Frozen tensors are left alone.
 */
void randomize_table(const ijepa_tensor_table *tab, float *params, uint64_t seed);

/* Parameters a and b [count] of two models created with seed `seed` are
 * bit-identical; c, created with seed + 1, shares less than 1% of its
 * weights (tab) with a. */
void expect_seeded(const ijepa_tensor_table *tab, const float *a, const float *b, const float *c,
                   int64_t count, uint64_t seed);

/* After init_params(seed) on a used model: its parameters c equal a (created
 * with that seed) bit for bit, and its gradients c_grads are all 0. */
void expect_reinit(const float *a, const float *c, const float *c_grads, int64_t count,
                   uint64_t seed);

/* --- table layout ------------------------------------------------------------------ */

/* The expected state-dict of a model, in order. */
typedef struct want_tensor {
    char name[96];
    int32_t ndim;
    int64_t dims[IJEPA_TENSOR_MAX_DIMS]; /* unused dims 1 */
} want_tensor;

typedef struct want_table {
    want_tensor t[128];
    int n;
} want_table;

/* Append a tensor of ndim dims d0..d3 (unused ones 1), name printf-style. */
void want_add(want_table *w, int32_t ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3,
              const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* depth timm ViT blocks "<prefix>.<i>.norm1.weight", ..., of width D and MLP
 * width hidden; "attn.qkv.bias" only with qkv_bias. */
void want_vit_blocks(want_table *w, const char *prefix, int64_t depth, int64_t D,
                     int64_t hidden, int qkv_bias);

/*
 * tab holds exactly the tensors of w in that order: names, ndim, dims and
 * numel; offsets 16-float aligned, in order, not overlapping, with less than
 * 16 floats of padding before each tensor and after the last, inside the
 * buffer of count floats (= the table's buffer_size); NO_DECAY exactly on
 * names containing "bias" and on 1-D tensors (the official rule); FROZEN
 * exactly on the tensor called `frozen`; no other flag; find() returns each
 * tensor's index.
 */
void expect_tensor_table(const ijepa_tensor_table *tab, int64_t count, const want_table *w,
                         const char *frozen);

/* --- init and gradients of a whole table ----------------------------------------- */

/*
 * The default init of the non-frozen tensors of tab in params. Weights
 * (ndim >= 2): truncated normal N(0, std^2) on [-2, 2], by 5-sigma sampling
 * bounds for n samples: |mean| <= 5 std / sqrt(n); |s / std - 1| <= 5 /
 * sqrt(2n); no value outside [-2, 2]; and, for n >= frac_min_n, the fraction
 * with |w| <= std within 5 sqrt(p (1 - p) / n) of p = 0.682689 (a uniform of
 * the same std gives 0.577). 1-D tensors: ".weight" 1, the others 0.
 * Returns the number of weight tensors.
 */
int expect_init_stats(const ijepa_tensor_table *tab, const float *params, double std,
                      int64_t frac_min_n);

/*
 * p [G*G, D] equals the official 2-D sin-cos embedding computed in double
 * (ref_vit_sincos), cast to float: a 1-ulp difference in a double
 * intermediate may flip one rounding, so tolerance 2 u |want|, and exact
 * zeros must be zero. Plus a spot check of the layout with independent
 * arithmetic: token (r, c) = (1, 2): channel 0 = sin(2), D/4 = cos(2),
 * D/2 = sin(1), 3D/4 = cos(1) (k = 0 has w = 1). label names the tensor.
 */
void expect_sincos_embed(const float *p, int64_t G, int64_t D, const char *label);

/* Result of expect_table_grads(). */
typedef struct table_grads {
    ref_cmp worst;          /* the non-frozen tensor closest to (or over) its tolerance */
    const char *worst_name;
    int64_t frozen;         /* frozen tensors seen */
    int64_t covered;        /* floats in tensors */
} table_grads;

/*
 * Every non-frozen tensor t of tab: central differences (h = 1e-6) of
 * L = sum_j y_j R_j, y = fwd(ctx) [ny], with respect to the double copy pd of
 * the parameters, into fd (both laid out as tab), against grads with
 * tol = rtol |fd| + afloor max|fd over t|. Frozen tensors must have an
 * all-zero gradient. The worst tensor is returned for the caller to assert
 * on (with its own case label); label prefixes the IJEPA_TEST_VERBOSE lines.
 */
table_grads expect_table_grads(const ijepa_tensor_table *tab, const float *grads, double *pd,
                               double *fd, ref_fwd_fn fwd, void *ctx, int64_t ny,
                               const double *R, double rtol, double afloor, const char *label);

/* --- encoder fixture --------------------------------------------------------------- */

/* An encoder with its own context and its borrowed buffers; check_optim.c
 * also hangs an optimizer over the buffers on it (freed by enc_fx_close). */
typedef struct enc_fx {
    ijepa_context *ctx;
    ijepa_config *cfg;             /* owned */
    ijepa_encoder *enc;
    const ijepa_tensor_table *tab;
    float *params, *grads;         /* borrowed, count floats each */
    int64_t count, N, D;           /* floats per buffer, patches, width */
    ijepa_optimizer *opt;          /* NULL unless the test sets it */
} enc_fx;

/* Create the encoder from cfg, which f takes over. */
void enc_fx_open(enc_fx *f, ijepa_config *cfg);

/* The result of borrowing a model's gradients (rc, *grads, n): the whole
 * buffer of count floats, or, for a handle of a cfg with trainable = 0,
 * IJEPA_ERR_STATE with NULL and 0 (it has none). */
void expect_grads_borrowed(const ijepa_config *cfg, int rc, const float *grads, int64_t n,
                           int64_t count);
void enc_fx_close(enc_fx *f);

/* --- suites -------------------------------------------------------------------- */

/* A TCase called name added to s, with timeout seconds (0: Check's default).
 * Builds only: callable from suite constructors. */
TCase *add_tcase(Suite *s, const char *name, int timeout);

#endif /* IJEPA_TESTS_HELPERS_H */
