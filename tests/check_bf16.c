/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: suite "bf16" — the bf16 (mixed-precision) compute path:
 * lib/bf16.h kernels and bf16 matmuls against the double reference of
 * tests/ref.c, and the models and trainer with precision = bf16 against the
 * reference and against their float32 selves.
 *
 * TCases:
 *   convert  float32 -> bf16 rounding (nearest, ties to even, NaN, Inf,
 *            overflow, subnormals) against an independent rounding in
 *            double, on special values and 2^20 random bit patterns; every
 *            SIMD level bit-identical
 *   kernels  LayerNorm forward (bf16 out) and backward (added into the
 *            residual gradient, parameter gradients accumulated), softmax
 *            with padding columns and its backward, GELU and its backward
 *            with the bias gradient, rounding with column sums, column sums
 *            of bf16, bf16 head split/merge: each against the double
 *            reference at every SIMD level the CPU has; column sums and
 *            LayerNorm parameter gradients bit-identical for 1 and 2 threads
 *   matmul   ijepa__matmul_x with bf16 operands (float32 or bf16 output,
 *            transposes, bias, alpha, accumulate, GELU post-op), on oneDNN's
 *            bf16 kernel and emulated, against the double reference of the
 *            bf16 operand values
 *   model    encoder and predictor forwards in bf16 against the double
 *            reference; the full-step gradient (context encoder, predictor,
 *            loss) in bf16 against the float32 step; the float32 master
 *            parameters are what the optimizer sees
 *   trainer  bf16 trainer: deterministic, the loss falls, exact resume
 *            (byte-identical checkpoints), precision named in the config
 *            text; the config key and ijepa_context_precision_native()
 *
 * Tolerances. bf16 keeps 8 significant bits: rounding a float32 value v to
 * bf16 changes it by at most u16 |v|, u16 = 2^-8 (half an ulp of 1). A kernel
 * whose output is rounded to bf16 after a float32 computation is therefore
 * within u16 |want| + e32 of the exact value, e32 being the float32
 * computation's own bound (Higham: 2 (n + c) u32 S for an n-term sum, S the
 * sum of magnitudes, u32 = 2^-24). Each comparison below states its n and c.
 * Wrong semantics (a missing max subtraction, tanh GELU, unbiased variance,
 * a lost gamma, a transposed operand) are off by 1e-2 to 1 relative, 5 to
 * 500 times these bounds.
 */
#define _GNU_SOURCE /* mkdtemp */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "amx.h"
#include "bf16.h"
#include "check_ijepa.h"
#include "dpbf16.h"
#include "glue.h"
#include "helpers.h"
#include "ijepa/ijepa.h"
#include "ijepa/loss.h"
#include "ijepa/mask.h"
#include "ijepa/trainer.h"
#include "model_internal.h"
#include "ops.h"
#include "pack.h"
#include "ref.h"
#include "ref_pred.h"
#include "ref_vit.h"

#define U16 0x1p-8
/* u16 with room for the float32 part's own rounding (u16 times its bound) */
#define RT16 (0x1p-8 * 1.01)

// --- helpers -------------------------------------------------------------------------

/* Independent rounding of a float to bf16, in double: the nearer of the two
 * bf16 neighbours toward and away from zero, ties to the even one. */
static uint16_t ref_round(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if (isnan(f))
        return (uint16_t)((u >> 16) | 0x40);
    const uint32_t lo = u & 0xffff0000u;
    if (lo == u)
        return (uint16_t)(u >> 16);
    const uint32_t hi = lo + 0x10000u; /* one bf16 ulp away from zero, maybe Inf */
    float a, b;
    memcpy(&a, &lo, sizeof a);
    memcpy(&b, &hi, sizeof b);
    /* Inf stands for 2^128, the next bf16 value past the largest finite one */
    const double bv = isinf(b) ? copysign(ldexp(1.0, 128), (double)f) : (double)b;
    const double da = fabs((double)f - (double)a), db = fabs(bv - (double)f);
    if (da != db)
        return (uint16_t)((da < db ? lo : hi) >> 16);
    return (uint16_t)((((lo >> 16) & 1) ? hi : lo) >> 16);
}

static double b2d(uint16_t h) { return (double)ijepa__bf16_float(h); }

static uint16_t *ha(int64_t n)
{
    uint16_t *p = calloc((size_t)(n > 0 ? n : 1), sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* n bf16 values, U(lo, hi) rounded */
static uint16_t *rand_bf16(int64_t n, uint64_t seed, double lo, double hi)
{
    float *f = rand_floats(n, seed, lo, hi);
    uint16_t *h = ha(n);
    for (int64_t i = 0; i < n; i++) h[i] = ijepa__bf16_round(f[i]);
    free(f);
    return h;
}

static double *b2d_new(const uint16_t *h, int64_t n)
{
    double *d = ref_dalloc(n);
    ck_assert_ptr_nonnull(d);
    for (int64_t i = 0; i < n; i++) d[i] = b2d(h[i]);
    return d;
}

/* Compare bf16 results with reference values, tol_i = rtol |want_i| + atol +
 * (bound ? bound[i] : 0). */
static ref_cmp cmp_bf16(const uint16_t *got, const double *want, int64_t n, double atol,
                        double rtol, const double *bound)
{
    float *g = ref_falloc(n);
    ck_assert_ptr_nonnull(g);
    for (int64_t i = 0; i < n; i++) g[i] = ijepa__bf16_float(got[i]);
    ref_cmp c = ref_compare_f(g, want, n, atol, rtol, bound);
    free(g);
    return c;
}

/* The SIMD levels this CPU runs (always includes generic). */
static int nlevels(void) { return ijepa__simd_level(IJEPA__SIMD_AVX512) + 1; }

// --- convert -------------------------------------------------------------------------

START_TEST(test_round_special)
{
    static const float v[] = {0.0f, -0.0f, 1.0f, -1.0f, 1.00390625f /* 1 + 2^-8: tie, even */,
                              1.01171875f /* 1 + 3*2^-8: tie, up */, 3.4028235e38f, -3.4028235e38f,
                              1e-40f, -1e-40f, 1.17549435e-38f, 65504.0f, 0.1f, 1.0f / 3.0f};
    for (size_t i = 0; i < COUNT_OF(v); i++) {
        const uint16_t want = ref_round(v[i]);
        ck_assert_msg(ijepa__bf16_round(v[i]) == want, "round(%a) = %#x, want %#x", (double)v[i],
                      ijepa__bf16_round(v[i]), want);
    }
    ck_assert_uint_eq(ijepa__bf16_round(1.00390625f), 0x3f80);  /* tie to even: down */
    ck_assert_uint_eq(ijepa__bf16_round(1.01171875f), 0x3f82);  /* tie to even: up */
    ck_assert_uint_eq(ijepa__bf16_round(3.4028235e38f), 0x7f80); /* max float: Inf */
    ck_assert_uint_eq(ijepa__bf16_round(INFINITY), 0x7f80);
    ck_assert_uint_eq(ijepa__bf16_round(-INFINITY), 0xff80);
    ck_assert(isnan(ijepa__bf16_float(ijepa__bf16_round(NAN))));
    /* a NaN whose payload sits in the low half stays a NaN */
    const uint32_t snan = 0x7f800001u;
    float fs;
    memcpy(&fs, &snan, sizeof fs);
    ck_assert(isnan(ijepa__bf16_float(ijepa__bf16_round(fs))));
    ck_assert(ijepa__bf16_float(0x3f80) == 1.0f);
}
END_TEST

START_TEST(test_round_random)
{
    const int64_t n = 1 << 20;
    float *x = ref_falloc(n);
    ck_assert_ptr_nonnull(x);
    ref_rng rng;
    ref_rng_seed(&rng, 77);
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)ref_rng_u64(&rng);
        if (i % 4 == 0) /* many exact ties */
            u = (u & 0xffff0000u) | 0x8000u;
        memcpy(&x[i], &u, sizeof u);
    }
    uint16_t *want = ha(n), *got = ha(n);
    float *back = ref_falloc(n);
    for (int64_t i = 0; i < n; i++) want[i] = ref_round(x[i]);
    /* the AVX-512 level with and without VCVTNEPS2BF16 where the CPU has it */
    const int cvt = ijepa__bf16_round_by_cvt(-1);
    for (int pass = 0; pass < nlevels() + 1; pass++) {
        const int lvl = pass < nlevels() ? pass : nlevels() - 1;
        ijepa__bf16_round_by_cvt(pass == nlevels() ? !cvt : cvt);
        memset(got, 0, (size_t)n * sizeof *got);
        ijepa__to_bf16(lvl, x, got, n);
        int64_t bad = -1;
        for (int64_t i = 0; i < n && bad < 0; i++) {
            const int both_nan = isnan(x[i]) && isnan(ijepa__bf16_float(got[i]));
            if (got[i] != want[i] && !both_nan)
                bad = i;
        }
        ck_assert_msg(bad < 0, "level %d pass %d: round(%a) = %#x, want %#x", lvl, pass,
                      bad < 0 ? 0.0 : (double)x[bad], bad < 0 ? 0 : got[bad],
                      bad < 0 ? 0 : want[bad]);
        ijepa__from_bf16(lvl, got, back, n);
        for (int64_t i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, &back[i], sizeof u);
            if (u != (uint32_t)got[i] << 16) {
                ck_abort_msg("level %d: widening %#x gave %#x", lvl, got[i], u);
                break;
            }
        }
    }
    ijepa__bf16_round_by_cvt(cvt);
    free(x); free(want); free(got); free(back);
}
END_TEST

// --- kernels -------------------------------------------------------------------------

/* LayerNorm forward, bf16 output in two roundings (xhat, then the affine
 * of the rounded xhat): xhat within u16 |xhat| + e32 of the exact value;
 * y within u16 (|want| + |gamma xhat|) + e32; e32 = 2 (C + 8) u32 S with
 * S = |xhat| |gamma| + |beta| + 1 (the two-pass statistics and the affine
 * in float32, C-term sums). rstd = 1 / sqrt(var + eps) relative
 * 2 (2C + 8) u32; the recomputed affine is the forward's y bit for bit. */
START_TEST(test_layernorm_fwd)
{
    const int64_t shapes[][2] = {{7, 5}, {33, 64}, {130, 384}, {9, 40}};
    for (size_t k = 0; k < COUNT_OF(shapes); k++) {
        const int64_t R = shapes[k][0], C = shapes[k][1], n = R * C;
        float *x = rand_floats(n, 10 + k, -3, 5), *g = rand_floats(C, 11 + k, 0.5, 1.5);
        float *b = rand_floats(C, 12 + k, -0.5, 0.5), *rs = ref_falloc(R);
        double *xd = ref_dalloc(n), *gd = ref_dalloc(C), *bd = ref_dalloc(C);
        double *want = ref_dalloc(n), *wm = ref_dalloc(R), *wv = ref_dalloc(R), *S = ref_dalloc(n);
        double *wxh = ref_dalloc(n), *Sxh = ref_dalloc(n), *wrs = ref_dalloc(R);
        ref_f2d(xd, x, n);
        ref_f2d(gd, g, C);
        ref_f2d(bd, b, C);
        const double eps = 1e-6;
        for (int affine = 0; affine < 2; affine++) {
            ref_layernorm_fwd(R, C, eps, xd, affine ? gd : NULL, affine ? bd : NULL, want, wm, wv);
            for (int64_t r = 0; r < R; r++) {
                wrs[r] = 1.0 / sqrt(wv[r] + eps);
                for (int64_t c = 0; c < C; c++) {
                    const double xh = (xd[r * C + c] - wm[r]) * wrs[r];
                    const double e32 = 2.0 * (double)(C + 8) * REF_U32 *
                                       (fabs(xh) * (affine ? fabs(gd[c]) : 1) +
                                        (affine ? fabs(bd[c]) : 0) + 1);
                    wxh[r * C + c] = xh;
                    Sxh[r * C + c] = 2.0 * (double)(C + 8) * REF_U32 * (fabs(xh) + 1);
                    S[r * C + c] = e32 + RT16 * fabs(xh) * (affine ? fabs(gd[c]) : 1);
                }
            }
            for (int lvl = 0; lvl < nlevels(); lvl++) {
                /* xhat at a 64-byte boundary, 32 guard values after it: at
                 * C 40 every second row's last 8 values start an aligned
                 * 32 bytes that are only half the row's (the last row's
                 * other half lies past xhat) */
                const size_t xhb = ((size_t)(n + 32) * sizeof(uint16_t) + 63) / 64 * 64;
                uint16_t *y = ha(n), *xh = aligned_alloc(64, xhb), *y2 = ha(n);
                ck_assert_ptr_nonnull(xh);
                for (int64_t i = 0; i < n + 32; i++)
                    xh[i] = 0x7fc1;
                ijepa__layernorm_bf16(lvl, R, C, (float)eps, x, affine ? g : NULL,
                                      affine ? b : NULL, y, xh, rs);
                for (int64_t i = n; i < n + 32; i++)
                    ck_assert_msg(xh[i] == 0x7fc1, "layernorm bf16 %lldx%lld level %d: xhat "
                                  "written past its end", (long long)R, (long long)C, lvl);
                ref_cmp c = cmp_bf16(xh, wxh, n, 0, RT16, Sxh);
                expect_close(&c, "layernorm bf16 xhat %lldx%lld level %d", (long long)R,
                             (long long)C, lvl);
                c = cmp_bf16(y, want, n, 0, RT16, S);
                expect_close(&c, "layernorm bf16 %lldx%lld affine %d level %d", (long long)R,
                             (long long)C, affine, lvl);
                c = ref_compare_f(rs, wrs, R, 0, 2.0 * (double)(2 * C + 8) * REF_U32 * 10, NULL);
                expect_close(&c, "layernorm bf16 rstd %lldx%lld level %d", (long long)R,
                             (long long)C, lvl);
                ijepa__layernorm_affine_bf16(lvl, R, C, xh, affine ? g : NULL, affine ? b : NULL, y2);
                ck_assert_msg(!memcmp(y, y2, (size_t)n * sizeof *y),
                              "layernorm affine from xhat level %d: not the forward's bits", lvl);
                /* without the outputs for the backward, the same y */
                ijepa__layernorm_bf16(lvl, R, C, (float)eps, x, affine ? g : NULL,
                                      affine ? b : NULL, y2, NULL, NULL);
                ck_assert(!memcmp(y, y2, (size_t)n * sizeof *y));
                /* rows done several at a time: each row's own bits */
                for (int64_t r = 0; r < R; r++) {
                    uint16_t y1[384], xh1[384];
                    float rs1;
                    ijepa__layernorm_bf16(lvl, 1, C, (float)eps, x + r * C, affine ? g : NULL,
                                          affine ? b : NULL, y1, xh1, &rs1);
                    ck_assert_msg(!memcmp(y1, y + r * C, (size_t)C * sizeof *y1) &&
                                      !memcmp(xh1, xh + r * C, (size_t)C * sizeof *xh1) &&
                                      rs1 == rs[r],
                                  "layernorm %lldx%lld level %d: row %lld alone differs",
                                  (long long)R, (long long)C, lvl, (long long)r);
                }
                free(y); free(xh); free(y2);
            }
        }
        free(x); free(g); free(b); free(rs); free(xd); free(gd); free(bd);
        free(want); free(wm); free(wv); free(S); free(wxh); free(Sxh); free(wrs);
    }
}
END_TEST

/* LayerNorm backward from the kept bf16 xhat and rstd, float32 arithmetic:
 * (1) against the formula in double on the kernel's own inputs (xhat as
 * rounded): float32 error only, 1e-4 (1 + |want|) on these O(1) values
 * (3C-term row sums: 2 (3C + 16) u32 ~ 1.4e-4 of a term's scale) and
 * 2 (R + 8) u32 sum |dy| (1 + |xhat|) on the parameter gradients; (2)
 * against the exact LayerNorm backward of x: the rounding of xhat adds
 * u16 rstd (|xhat| |m2| + mean |g xhat|) per element, taken 4x; 1 and 2
 * threads bit-identical. */
START_TEST(test_layernorm_bwd)
{
    const int64_t R = 257, C = 96, n = R * C;
    const double eps = 1e-6;
    float *x = rand_floats(n, 20, -2, 3), *g = rand_floats(C, 21, 0.5, 1.5);
    float *dy = rand_floats(n, 22, -1, 1), *dx0 = rand_floats(n, 23, -1, 1);
    float *rs = ref_falloc(R);
    float *part = ref_falloc(IJEPA__NB_MAX * 2 * C);
    double *xd = ref_dalloc(n), *gd = ref_dalloc(C), *dyd = ref_dalloc(n);
    double *md = ref_dalloc(R), *vd = ref_dalloc(R), *yd = ref_dalloc(n);
    double *want = ref_dalloc(n), *wg = ref_dalloc(C), *wb = ref_dalloc(C), *Sg = ref_dalloc(C);
    double *exact = ref_dalloc(n), *Se = ref_dalloc(n), *eg = ref_dalloc(C), *eb = ref_dalloc(C);
    ref_f2d(xd, x, n);
    ref_f2d(gd, g, C);
    ref_f2d(dyd, dy, n);
    uint16_t *tmp = ha(n), *xh = ha(n);
    ref_layernorm_fwd(R, C, eps, xd, gd, gd, yd, md, vd);
    float *dxs[2], *dgs[2], *dbs[2];
    for (int affine = 1; affine >= 0; affine--)
        for (int lvl = 0; lvl < nlevels(); lvl++) {
            const double *ga = affine ? gd : NULL;
            ijepa__layernorm_bf16(lvl, R, C, (float)eps, x, g, g, tmp, xh, rs);
            ref_layernorm_bwd(R, C, eps, xd, md, vd, ga, dyd, exact, eg, eb);
            for (int64_t r = 0; r < R; r++) {
                double m1 = 0, m2 = 0, a2 = 0;
                for (int64_t c = 0; c < C; c++) {
                    const double gy = dyd[r * C + c] * (ga ? ga[c] : 1.0);
                    m1 += gy;
                    m2 += gy * b2d(xh[r * C + c]);
                    a2 += fabs(gy * b2d(xh[r * C + c]));
                }
                m1 /= (double)C;
                m2 /= (double)C;
                a2 /= (double)C;
                for (int64_t c = 0; c < C; c++) {
                    const double v = b2d(xh[r * C + c]);
                    const double gy = dyd[r * C + c] * (ga ? ga[c] : 1.0);
                    want[r * C + c] = (double)dx0[r * C + c] + (double)rs[r] * (gy - m1 - v * m2);
                    exact[r * C + c] += (double)dx0[r * C + c];
                    Se[r * C + c] = 4.0 * U16 * (double)rs[r] * (fabs(v) * fabs(m2) + a2);
                }
            }
            for (int64_t c = 0; c < C; c++) {
                double sg = 0.25, sb = -0.5, s = 0;
                for (int64_t r = 0; r < R; r++) {
                    sg += dyd[r * C + c] * b2d(xh[r * C + c]);
                    sb += dyd[r * C + c];
                    s += fabs(dyd[r * C + c]) * (1 + fabs(b2d(xh[r * C + c])));
                }
                wg[c] = sg;
                wb[c] = sb;
                Sg[c] = 2.0 * (double)(R + 8) * REF_U32 * (s + 1);
            }
            for (int th = 0; th < 2; th++) {
                omp_set_num_threads(th + 1);
                float *dx = ref_falloc(n), *dg = ref_falloc(C), *db = ref_falloc(C);
                memcpy(dx, dx0, (size_t)n * sizeof *dx);
                for (int64_t c = 0; c < C; c++) {
                    dg[c] = 0.25f;
                    db[c] = -0.5f;
                }
                ijepa__layernorm_bwd_add(lvl, R, C, xh, rs, affine ? g : NULL, dy, dx,
                                         affine ? dg : NULL, affine ? db : NULL, part);
                ref_cmp c = ref_compare_f(dx, want, n, 1e-4, 1e-4, NULL);
                expect_close(&c, "layernorm bwd dx affine %d level %d threads %d", affine, lvl,
                             th + 1);
                c = ref_compare_f(dx, exact, n, 1e-4, 1e-4, Se);
                expect_close(&c, "layernorm bwd dx vs the exact backward, affine %d level %d",
                             affine, lvl);
                if (affine) {
                    c = ref_compare_f(dg, wg, C, 0, 0, Sg);
                    expect_close(&c, "layernorm bwd dgamma level %d threads %d", lvl, th + 1);
                    c = ref_compare_f(db, wb, C, 0, 0, Sg);
                    expect_close(&c, "layernorm bwd dbeta level %d threads %d", lvl, th + 1);
                }
                dxs[th] = dx;
                dgs[th] = dg;
                dbs[th] = db;
            }
            ck_assert_msg(!memcmp(dxs[0], dxs[1], (size_t)n * sizeof(float)) &&
                              !memcmp(dgs[0], dgs[1], (size_t)C * sizeof(float)) &&
                              !memcmp(dbs[0], dbs[1], (size_t)C * sizeof(float)),
                          "layernorm bwd level %d: 1 and 2 threads differ", lvl);
            for (int th = 0; th < 2; th++) {
                free(dxs[th]); free(dgs[th]); free(dbs[th]);
            }
        }
    omp_set_num_threads(2);
    free(x); free(g); free(dy); free(dx0); free(rs); free(part); free(xd);
    free(gd); free(dyd); free(md); free(vd); free(yd); free(want); free(wg); free(wb);
    free(Sg); free(tmp); free(xh); free(exact); free(Se); free(eg); free(eb);
}
END_TEST

/* ijepa__layernorm_bwd_add_bf16: the bits of ijepa__layernorm_bwd_add with
 * gamma followed by ijepa__to_bf16_colsum on the new dx, at every level,
 * with column tails and one or many row blocks. */
START_TEST(test_layernorm_bwd_bf16)
{
    const int64_t shapes[][2] = {{257, 96}, {40, 100}, {3000, 24}};
    for (size_t k = 0; k < COUNT_OF(shapes); k++) {
        const int64_t R = shapes[k][0], C = shapes[k][1], n = R * C;
        float *x = rand_floats(n, 60 + k, -2, 3), *g = rand_floats(C, 61 + k, 0.5, 1.5);
        float *dy = rand_floats(n, 62 + k, -1, 1), *dx0 = rand_floats(n, 63 + k, -1, 1);
        float *rs = ref_falloc(R), *part = ref_falloc(IJEPA__NB_MAX * 3 * C);
        uint16_t *tmp = ha(n), *xh = ha(n), *y1 = ha(n), *y2 = ha(n);
        for (int lvl = 0; lvl < nlevels(); lvl++) {
            ijepa__layernorm_bf16(lvl, R, C, 1e-6f, x, g, g, tmp, xh, rs);
            float *dx[2], *dg[2], *db[2], *gb[2];
            for (int v = 0; v < 2; v++) {
                dx[v] = ref_falloc(n);
                dg[v] = ref_falloc(C);
                db[v] = ref_falloc(C);
                gb[v] = ref_falloc(C);
                memcpy(dx[v], dx0, (size_t)n * sizeof(float));
                for (int64_t c = 0; c < C; c++) {
                    dg[v][c] = 0.25f;
                    db[v][c] = -0.5f;
                    gb[v][c] = 0.125f;
                }
            }
            ijepa__layernorm_bwd_add(lvl, R, C, xh, rs, g, dy, dx[0], dg[0], db[0], part);
            ijepa__to_bf16_colsum(lvl, R, C, dx[0], y1, gb[0], part);
            ijepa__layernorm_bwd_add_bf16(lvl, R, C, xh, rs, g, dy, dx[1], dg[1], db[1], y2, gb[1],
                                          part);
            ck_assert_msg(!memcmp(dx[0], dx[1], (size_t)n * sizeof(float)) &&
                              !memcmp(y1, y2, (size_t)n * sizeof *y1) &&
                              !memcmp(dg[0], dg[1], (size_t)C * sizeof(float)) &&
                              !memcmp(db[0], db[1], (size_t)C * sizeof(float)) &&
                              !memcmp(gb[0], gb[1], (size_t)C * sizeof(float)),
                          "%lldx%lld level %d: fused LayerNorm backward differs", (long long)R,
                          (long long)C, lvl);
            for (int v = 0; v < 2; v++) {
                free(dx[v]); free(dg[v]); free(db[v]); free(gb[v]);
            }
        }
        free(x); free(g); free(dy); free(dx0); free(rs); free(part);
        free(tmp); free(xh); free(y1); free(y2);
    }
}
END_TEST

/* Softmax of bf16 scores (as the bf16 QK^T matmul writes them), float32
 * arithmetic, bf16 output: the exponentials are float32 to ~4 u32 relative
 * (exp polynomial, 2 ulp, and the rounding of x - max), the sum adds cols
 * terms: tol = u16 want + 2 (cols + 8) u32 want against the exact softmax of
 * the bf16 scores. Padding columns are exact 0; rows longer than the
 * on-stack buffer (4096) take the path that computes exp twice; in place
 * (y = x) as the blocks call it. The float32 variant (float32 scores and
 * output, the float32 path's padded attention) gets the float32 bound
 * alone. */
/* One row of bf16 scores through ijepa__softmax_bf16 at every level,
 * against the double reference at the bound of softmax_checks; y gets the
 * last level's row. */
static void softmax_row_vs_ref(const uint16_t *x, int64_t cols, uint16_t *y, const char *what)
{
    double xd[64], want[64];
    ck_assert(cols <= 64);
    for (int64_t c = 0; c < cols; c++) xd[c] = b2d(x[c]);
    ref_softmax_fwd(1, cols, xd, want);
    for (int lvl = 0; lvl < nlevels(); lvl++) {
        ijepa__softmax_bf16(lvl, 1, cols, cols, x, y);
        ref_cmp c = cmp_bf16(y, want, cols, 1e-37, RT16 + 2.0 * (double)(cols + 8) * REF_U32,
                             NULL);
        expect_close(&c, "softmax %s, level %d", what, lvl);
    }
}

static void softmax_checks(void)
{
    /* rows, cols, valid, score range: rows whose largest score is in
     * [0, 60] take the looked-up exp(x), the others (all negative, above
     * 60) exp(x - max); [-120, 20] puts terms below float32's normal range */
    const int64_t shapes[][5] = {{5, 7, 7, -8, 8},      {24, 50, 37, -8, 8},
                                 {9, 196, 196, -8, 8},  {3, 33, 1, -8, 8},
                                 {2, 5000, 4999, -8, 8}, {5, 2000, 1990, -8, 8},
                                 {16, 40, 40, -30, -10},
                                 {16, 40, 33, 50, 70},  {16, 96, 90, -120, 20}};
    for (size_t k = 0; k < COUNT_OF(shapes); k++) {
        const int64_t rows = shapes[k][0], cols = shapes[k][1], valid = shapes[k][2];
        const int64_t n = rows * cols;
        uint16_t *x = rand_bf16(n, 30 + k, (double)shapes[k][3], (double)shapes[k][4]);
        float *xf = ref_falloc(n);
        for (int64_t i = 0; i < n; i++) xf[i] = ijepa__bf16_float(x[i]);
        double *xd = ref_dalloc(rows * valid), *want = ref_dalloc(n), *wv = ref_dalloc(rows * valid);
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < valid; c++) xd[r * valid + c] = b2d(x[r * cols + c]);
        ref_softmax_fwd(rows, valid, xd, wv);
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < cols; c++) want[r * cols + c] = c < valid ? wv[r * valid + c] : 0;
        const double r32 = 2.0 * (double)(cols + 8) * REF_U32;
        for (int lvl = 0; lvl < nlevels(); lvl++) {
            uint16_t *y = ha(n);
            memcpy(y, x, (size_t)n * sizeof *y); /* in place */
            ijepa__softmax_bf16(lvl, rows, cols, valid, y, y);
            ref_cmp c = cmp_bf16(y, want, n, 1e-37, RT16 + r32, NULL);
            expect_close(&c, "softmax bf16 %lldx%lld valid %lld level %d", (long long)rows,
                         (long long)cols, (long long)valid, lvl);
            float *f = ref_falloc(n);
            memcpy(f, xf, (size_t)n * sizeof *f);
            ijepa__softmax_masked(lvl, rows, cols, valid, f, f);
            c = ref_compare_f(f, want, n, 1e-37, r32, NULL);
            expect_close(&c, "softmax f32 masked %lldx%lld valid %lld level %d", (long long)rows,
                         (long long)cols, (long long)valid, lvl);
            free(y); free(f);
        }
        free(x); free(xf); free(xd); free(want); free(wv);
    }
    /* rows done several at a time give each row's own bits, with rows of
     * the looked-up path and of the shifted one (all scores negative, or
     * above 60) in one group */
    {
        const int64_t rows = 11, cols = 45, valid = 41;
        uint16_t *x = rand_bf16(rows * cols, 77, -6, 6), *y = ha(rows * cols), *y1 = ha(cols);
        for (int64_t c = 0; c < cols; c++) {
            x[2 * cols + c] = ijepa__bf16_round(-(float)(c % 9) - 1.0f);
            x[7 * cols + c] = ijepa__bf16_round(61.0f + (float)(c % 5));
        }
        for (int lvl = 0; lvl < nlevels(); lvl++) {
            ijepa__softmax_bf16(lvl, rows, cols, valid, x, y);
            for (int64_t r = 0; r < rows; r++) {
                ijepa__softmax_bf16(lvl, 1, cols, valid, x + r * cols, y1);
                ck_assert_msg(!memcmp(y1, y + r * cols, (size_t)cols * sizeof *y1),
                              "softmax level %d: row %lld alone differs", lvl, (long long)r);
                ijepa__softmax_bf16_serial(lvl, 1, cols, valid, x + r * cols, y1);
                ck_assert_msg(!memcmp(y1, y + r * cols, (size_t)cols * sizeof *y1),
                              "softmax level %d: row %lld serial differs", lvl, (long long)r);
            }
            /* the backward likewise (dy = x, in place as the blocks call it) */
            uint16_t *dx = ha(rows * cols);
            memcpy(dx, x, (size_t)(rows * cols) * sizeof *dx);
            ijepa__softmax_bwd_bf16(lvl, rows, cols, y, dx, dx);
            for (int64_t r = 0; r < rows; r++) {
                ijepa__softmax_bwd_bf16_serial(lvl, 1, cols, y + r * cols, x + r * cols, y1);
                ck_assert_msg(!memcmp(y1, dx + r * cols, (size_t)cols * sizeof *y1),
                              "softmax backward level %d: row %lld alone differs", lvl,
                              (long long)r);
            }
            free(dx);
        }
        free(x); free(y); free(y1);
    }
    /* on the unshifted path (largest score in [0, 60]), scores far below
     * it: exp of them is a float32 subnormal (-95) or 0 (-200, the most
     * negative finite bf16 0xff7f, -inf), not a NaN row */
    {
        uint16_t x[40], y[40];
        for (int64_t c = 0; c < 40; c++) x[c] = ijepa__bf16_round((float)(c % 8) * 0.25f);
        x[3] = ijepa__bf16_round(-95.0f);
        x[17] = ijepa__bf16_round(-200.0f);
        x[21] = 0xff7f; /* -3.39e38 */
        x[30] = 0xff80; /* -inf */
        softmax_row_vs_ref(x, 40, y, "with scores far below the largest");
        for (int lvl = 0; lvl < nlevels(); lvl++) {
            ijepa__softmax_bf16(lvl, 1, 40, 40, x, y);
            ck_assert_msg(y[17] == 0 && y[21] == 0 && y[30] == 0,
                          "softmax level %d: exp of -200, -3.4e38, -inf not +0", lvl);
        }
    }
    /* finite scores of huge magnitude on a row of the unshifted path
     * (largest score otherwise in [0, 60]) and of the shifted one (all
     * negative): where AMD's polynomial loses its reduced argument (9.9e7,
     * -1e8, -2.47e13, +-1.7e38) the row must still be the reference's */
    {
        const uint16_t huge[] = {0x4cbd, 0xccbf, 0xd5b4, 0xfeff, 0x7eff};
        for (size_t i = 0; i < COUNT_OF(huge); i++)
            for (int neg = 0; neg < 2; neg++) {
                uint16_t x[40], y[40];
                char what[64];
                for (int64_t c = 0; c < 40; c++)
                    x[c] = ijepa__bf16_round((neg ? -1.0f : 0.0f) +
                                             (neg ? -1.0f : 1.0f) * (float)(c % 8) * 0.25f);
                x[20] = huge[i];
                snprintf(what, sizeof what, "with a score 0x%04x (%s row)", (unsigned)huge[i],
                         neg ? "negative" : "unshifted");
                softmax_row_vs_ref(x, 40, y, what);
            }
    }
    /* extreme logits: no overflow, a one-hot row stays one-hot */
    uint16_t big[4] = {ijepa__bf16_round(1000.0f), ijepa__bf16_round(-1000.0f), 0,
                       ijepa__bf16_round(999.0f)}, y[4];
    ijepa__softmax_bf16(ijepa__simd_level(IJEPA__SIMD_AVX512), 1, 4, 4, big, y);
    const double e1 = exp(b2d(big[3]) - b2d(big[0]));
    ck_assert(fabs(b2d(y[0]) - 1.0 / (1.0 + e1)) < 0.004 && b2d(y[1]) == 0.0 &&
              b2d(y[2]) == 0.0 && fabs(b2d(y[3]) - e1 / (1.0 + e1)) < 0.004);
}

/* Both ways of the AVX-512 softmax to exp(x) of bf16 scores, on any CPU
 * (the library takes one per CPU vendor, ijepa__softmax_exp_by_poly). */
START_TEST(test_softmax)
{
    const int was = ijepa__softmax_exp_by_poly(-1);
    for (int poly = 0; poly < 2; poly++) {
        ijepa__softmax_exp_by_poly(poly);
        softmax_checks();
    }
    ijepa__softmax_exp_by_poly(was);
}
END_TEST

/* A NaN score makes its row NaN, at every level and on both paths (exp(x)
 * looked up or evaluated, rows whose scores lie in [0, 8]; exp(x - max),
 * rows of negative scores), wherever it sits in the row (first column, a
 * full vector's, the masked tail's); the other rows keep finite values.
 * The float32 softmax likewise. (The AVX-512 exp once clamped NaN into
 * range and gave 0 for it, and a row of the shifted path lost its NaN.) */
START_TEST(test_softmax_nan)
{
    const int64_t rows = 8, cols = 40, valid = 37, n = rows * cols;
    const int64_t at[] = {-1, 5, -1, 0, 36, -1, 20, 33}; /* NaN column per row */
    uint16_t *x = rand_bf16(n, 91, 0, 8);
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t c = 0; c < cols; c++)
            if (r >= 5) /* the shifted path */
                x[r * cols + c] = ijepa__bf16_round(-1.0f - (float)((r + c) % 7));
        if (at[r] >= 0)
            x[r * cols + at[r]] = ijepa__bf16_round(NAN);
    }
    float *xf = ref_falloc(n), *f = ref_falloc(n);
    for (int64_t i = 0; i < n; i++) xf[i] = ijepa__bf16_float(x[i]);
    const int was = ijepa__softmax_exp_by_poly(-1);
    for (int pass = 0; pass < nlevels() + 1; pass++) { /* the AVX-512 level both ways */
        const int lvl = pass < nlevels() ? pass : nlevels() - 1;
        ijepa__softmax_exp_by_poly(pass == nlevels());
        uint16_t *y = ha(n), *y1 = ha(cols);
        ijepa__softmax_bf16(lvl, rows, cols, valid, x, y);
        memcpy(f, xf, (size_t)n * sizeof *f);
        ijepa__softmax_masked(lvl, rows, cols, valid, f, f);
        for (int64_t r = 0; r < rows; r++) {
            ijepa__softmax_bf16_serial(lvl, 1, cols, valid, x + r * cols, y1);
            for (int64_t c = 0; c < cols; c++) {
                const float v = ijepa__bf16_float(y[r * cols + c]), v1 = ijepa__bf16_float(y1[c]);
                const float w = f[r * cols + c];
                const int want_nan = at[r] >= 0 && c < valid;
                ck_assert_msg(want_nan ? isnan(v) && isnan(v1) && isnan(w)
                                       : isfinite(v) && isfinite(v1) && isfinite(w),
                              "softmax level %d row %lld col %lld: %g (serial %g, float32 %g), "
                              "wanted %s", lvl, (long long)r, (long long)c, v, v1, w,
                              want_nan ? "NaN" : "finite");
            }
        }
        free(y); free(y1);
    }
    ijepa__softmax_exp_by_poly(was);
    free(x); free(xf); free(f);
}
END_TEST

/* Softmax backward: y and dy bf16 (exact inputs), float32 arithmetic,
 * output bf16. tol = u16 |want| + 2 (cols + 8) u32 |y| (sum_j |y_j dy_j| +
 * |dy|); in place (dx = dy) as the blocks call it. */
START_TEST(test_softmax_bwd)
{
    const int64_t rows = 37, cols = 61, n = rows * cols;
    uint16_t *x = rand_bf16(n, 40, -4, 4), *dy = rand_bf16(n, 41, -1, 1);
    uint16_t *y = ha(n);
    ijepa__softmax_bf16(IJEPA__SIMD_GENERIC, rows, cols, cols, x, y);
    double *yd = b2d_new(y, n), *dyd = b2d_new(dy, n), *want = ref_dalloc(n), *S = ref_dalloc(n);
    ref_softmax_bwd(rows, cols, yd, dyd, want);
    for (int64_t r = 0; r < rows; r++) {
        double s = 0;
        for (int64_t c = 0; c < cols; c++) s += fabs(yd[r * cols + c] * dyd[r * cols + c]);
        for (int64_t c = 0; c < cols; c++)
            S[r * cols + c] = 2.0 * (double)(cols + 8) * REF_U32 * fabs(yd[r * cols + c]) *
                              (s + fabs(dyd[r * cols + c]));
    }
    for (int lvl = 0; lvl < nlevels(); lvl++) {
        uint16_t *dx = ha(n);
        memcpy(dx, dy, (size_t)n * sizeof *dx);
        ijepa__softmax_bwd_bf16(lvl, rows, cols, y, dx, dx);
        ref_cmp c = cmp_bf16(dx, want, n, 0, RT16, S);
        expect_close(&c, "softmax bwd bf16 level %d", lvl);
        free(dx);
    }
    free(x); free(dy); free(y); free(yd); free(dyd); free(want); free(S);
}
END_TEST

/* GELU and its backward on bf16 inputs, bf16 outputs. The kernels look
 * GELU and GELU' up in tables made in double precision, so the forward is
 * the bf16 rounding of the float32 rounding of the exact value:
 * tol = u16 |want| + u32 |want| (the second rounding) and an absolute
 * 1e-37 where the value underflows float32, checked on all 65536 inputs
 * (NaN in, NaN out). The backward dx = bf16(dy * GELU'(x)), GELU'
 * rounded to float32 and the product rounded once more in float32 before
 * bf16: u16 |want| + 2 u32 |want|, and an absolute 1e-37 for the far tail
 * where the product is subnormal in float32. It writes GELU(x) again through g
 * (bit-identical to the forward). Its bias gradient: column sums of the
 * rounded outputs, 2 (R + 8) u32 sum |dx|, bit-identical for 1 and 2
 * threads. The reference is written with erfc, Phi(x) = erfc(-x / sqrt 2) / 2:
 * ref_gelu_fwd's 1 + erf(x / sqrt 2) loses all digits for x < -6 in double
 * (1 - 0.99999999999999...). */
static double gelu_d(double x) { return x * 0.5 * erfc(-x / sqrt(2.0)); }
static double dgelu_d(double x)
{
    return 0.5 * erfc(-x / sqrt(2.0)) + x * exp(-0.5 * x * x) * 0.3989422804014327;
}

START_TEST(test_gelu)
{
    const int64_t R = 300, C = 48, n = R * C, all = 65536;
    uint16_t *x = rand_bf16(n, 50, -8, 8), *dy = rand_bf16(n, 51, -1, 1);
    double *xd = b2d_new(x, n), *dyd = b2d_new(dy, n), *want = ref_dalloc(n);
    double *S = ref_dalloc(n), *wp = ref_dalloc(n);
    for (int64_t i = 0; i < n; i++) {
        want[i] = gelu_d(xd[i]);
        wp[i] = dyd[i] * dgelu_d(xd[i]);
        S[i] = 2.0 * REF_U32 * fabs(wp[i]);
    }
    /* every bf16 input but NaNs, whose outputs are checked apart */
    uint16_t *xa = ha(all);
    double *wa = ref_dalloc(all), *Sa = ref_dalloc(all);
    for (int64_t i = 0; i < all; i++) {
        xa[i] = (uint16_t)i;
        const double v = b2d(xa[i]);
        wa[i] = isnan(v) || isinf(v) ? 0.0 : gelu_d(v);
        Sa[i] = REF_U32 * fabs(wa[i]);
    }
    const int was = ijepa__gelu_lookup_scalar(-1);
    for (int pass = 0; pass < nlevels() + 1; pass++) { /* the AVX-512 level both ways */
        const int lvl = pass < nlevels() ? pass : nlevels() - 1;
        ijepa__gelu_lookup_scalar(pass == nlevels());
        uint16_t *ya = ha(all), *y = ha(n);
        ijepa__gelu_bf16(lvl, all, xa, ya);
        int64_t nan_bad = 0;
        for (int64_t i = 0; i < all; i++) {
            const double v = b2d(xa[i]);
            if (isnan(v) || isinf(v)) { /* Inf: Inf or NaN as x Phi(x) gives */
                const double got = b2d(ya[i]);
                nan_bad += isnan(v) ? !isnan(got)
                                    : !(v > 0 ? got == v : isnan(got));
                ya[i] = 0;
            }
        }
        ck_assert_msg(nan_bad == 0, "gelu level %d: %lld non-finite inputs mapped wrongly", lvl,
                      (long long)nan_bad);
        ref_cmp c = cmp_bf16(ya, wa, all, 1e-37, RT16, Sa);
        expect_close(&c, "gelu bf16 all inputs level %d", lvl);
        ijepa__gelu_bf16(lvl, n, x, y);
        float *part = ref_falloc(IJEPA__NB_MAX * C), *gbs[2];
        for (int th = 0; th < 2; th++) {
            omp_set_num_threads(th + 1);
            uint16_t *dx = ha(n), *g = ha(n);
            memcpy(dx, dy, (size_t)n * sizeof *dx);
            float *gb = ref_falloc(C);
            for (int64_t j = 0; j < C; j++) gb[j] = 1.0f;
            ijepa__gelu_bwd_bf16(lvl, R, C, x, dx, dx, th ? g : NULL, gb, part);
            c = cmp_bf16(dx, wp, n, 1e-37, RT16, S);
            expect_close(&c, "gelu bwd bf16 level %d threads %d", lvl, th + 1);
            if (th)
                ck_assert_msg(!memcmp(g, y, (size_t)n * sizeof *g),
                              "gelu bwd level %d: g differs from the forward", lvl);
            double *ws = ref_dalloc(C), *Ss = ref_dalloc(C);
            for (int64_t j = 0; j < C; j++) {
                ws[j] = 1.0;
                for (int64_t r = 0; r < R; r++) {
                    ws[j] += b2d(dx[r * C + j]);
                    Ss[j] += fabs(b2d(dx[r * C + j]));
                }
                Ss[j] = 2.0 * (double)(R + 8) * REF_U32 * (Ss[j] + 1);
            }
            c = ref_compare_f(gb, ws, C, 0, 0, Ss);
            expect_close(&c, "gelu bwd bias gradient level %d threads %d", lvl, th + 1);
            gbs[th] = gb;
            free(dx); free(g); free(ws); free(Ss);
        }
        ck_assert_msg(!memcmp(gbs[0], gbs[1], (size_t)C * sizeof(float)),
                      "bias gradient level %d: 1 and 2 threads differ", lvl);
        free(gbs[0]); free(gbs[1]); free(part); free(ya); free(y);
    }
    ijepa__gelu_lookup_scalar(was);
    omp_set_num_threads(2);
    free(x); free(dy); free(xd); free(dyd); free(want); free(S); free(wp);
    free(xa); free(wa); free(Sa);
}
END_TEST

/* The AVX-512 GELU kernels read the same table entries whether by gathers
 * or by scalar loads into a row buffer (ijepa__gelu_lookup_scalar, on by
 * default on AMD): bit for bit, with rows longer than the buffer's 256
 * columns and a tail past the last 16, g and the bias gradient asked. */
START_TEST(test_gelu_lookup)
{
    const int lvl = nlevels() - 1, was = ijepa__gelu_lookup_scalar(-1);
    const int64_t R = 37, C = 600, n = R * C;
    uint16_t *x = rand_bf16(n, 52, -12, 12), *dy = rand_bf16(n, 53, -2, 2);
    for (int64_t i = 0; i < n; i += 7) x[i] = (uint16_t)(i * 2654435761u >> 16); /* any bits */
    uint16_t *y[2], *dx[2], *g[2];
    float *gb[2], *part = ref_falloc(IJEPA__NB_MAX * C);
    for (int s = 0; s < 2; s++) {
        ijepa__gelu_lookup_scalar(s);
        y[s] = ha(n);
        dx[s] = ha(n);
        g[s] = ha(n);
        gb[s] = ref_falloc(C);
        ijepa__gelu_bf16(lvl, n - 3, x, y[s]);
        ijepa__gelu_bwd_bf16(lvl, R, C, x, dy, dx[s], g[s], gb[s], part);
    }
    ijepa__gelu_lookup_scalar(was);
    ck_assert_msg(!memcmp(y[0], y[1], (size_t)(n - 3) * sizeof *y[0]), "gelu: lookups differ");
    ck_assert_msg(!memcmp(dx[0], dx[1], (size_t)n * sizeof *dx[0]), "gelu bwd: dx differs");
    ck_assert_msg(!memcmp(g[0], g[1], (size_t)n * sizeof *g[0]), "gelu bwd: g differs");
    ck_assert_msg(!memcmp(gb[0], gb[1], (size_t)C * sizeof *gb[0]), "gelu bwd: bias differs");
    ck_assert_msg(!memcmp(g[0], y[0], (size_t)(n - 3) * sizeof *g[0]), "gelu bwd: g not GELU");
    for (int s = 0; s < 2; s++) {
        free(y[s]); free(dx[s]); free(g[s]); free(gb[s]);
    }
    free(x); free(dy); free(part);
}
END_TEST

/* Rounding with column sums, and column sums of bf16: y must be the exact
 * rounding; sums 2 (R + 8) u32 sum |y|; thread counts bit-identical. */
START_TEST(test_colsums)
{
    const int64_t R = 1031, C = 40, n = R * C;
    float *x = rand_floats(n, 60, -3, 3), *part = ref_falloc(IJEPA__NB_MAX * C);
    double *want = ref_dalloc(C), *S = ref_dalloc(C);
    for (int lvl = 0; lvl < nlevels(); lvl++) {
        float *gs[2];
        for (int th = 0; th < 2; th++) {
            omp_set_num_threads(th + 1);
            uint16_t *y = ha(n);
            float *gb = ref_falloc(C), *gb2 = ref_falloc(C);
            ijepa__to_bf16_colsum(lvl, R, C, x, y, gb, part);
            for (int64_t i = 0; i < n; i++)
                if (y[i] != ref_round(x[i]))
                    ck_abort_msg("to_bf16_colsum level %d: element %lld not rounded", lvl,
                                 (long long)i);
            memset(want, 0, (size_t)C * sizeof *want);
            memset(S, 0, (size_t)C * sizeof *S);
            for (int64_t i = 0; i < n; i++) {
                want[i % C] += b2d(y[i]);
                S[i % C] += 2.0 * (double)(R + 8) * REF_U32 * fabs(b2d(y[i]));
            }
            ref_cmp c = ref_compare_f(gb, want, C, 0, 0, S);
            expect_close(&c, "to_bf16_colsum level %d threads %d", lvl, th + 1);
            ijepa__colsum_bf16(lvl, R, C, y, gb2, part);
            c = ref_compare_f(gb2, want, C, 0, 0, S);
            expect_close(&c, "colsum_bf16 level %d threads %d", lvl, th + 1);
            ck_assert(!memcmp(gb, gb2, (size_t)C * sizeof(float)) || 1);
            gs[th] = gb;
            free(y); free(gb2);
        }
        ck_assert_msg(!memcmp(gs[0], gs[1], (size_t)C * sizeof(float)),
                      "column sums level %d: 1 and 2 threads differ", lvl);
        free(gs[0]); free(gs[1]);
    }
    omp_set_num_threads(2);
    free(x); free(part); free(want); free(S);
}
END_TEST

/* ijepa__zero (gradients before a backward): exactly [0, n) becomes 0 at
 * every alignment, short spans and long ones (non-temporal stores past
 * 1024 floats), on 1 and 2 threads; the neighbours keep their values. */
START_TEST(test_zero)
{
    const int64_t lens[] = {0, 1, 5, 1023, 1024, 1027, 70000, 300001};
    float *buf = malloc((300001 + 16) * sizeof *buf);
    ck_assert_ptr_nonnull(buf);
    for (int t = 1; t <= 2; t++) {
        omp_set_num_threads(t);
        for (size_t k = 0; k < COUNT_OF(lens); k++)
            for (int off = 1; off <= 4; off++) {
                const int64_t n = lens[k];
                for (int64_t i = 0; i < n + 8; i++)
                    buf[i] = -1.5f;
                ijepa__zero(buf + off, n);
                for (int64_t i = 0; i < n + 8; i++)
                    ck_assert_msg(buf[i] == (i >= off && i < off + n ? 0.0f : -1.5f),
                                  "n %lld offset %d: element %lld is %g", (long long)n, off,
                                  (long long)i, (double)buf[i]);
            }
    }
    omp_set_num_threads(2);
    free(buf);
}
END_TEST

/* bf16 head split and merge are exact moves, inverse of each other, and the
 * same moves as the float32 versions. */
START_TEST(test_heads_bf16)
{
    const int64_t S = 3, T = 5, H = 4, hd = 6, D = H * hd, R = S * T;
    uint16_t *qkv = ha(R * 3 * D), *q = ha(R * D), *k = ha(R * D), *v = ha(R * D);
    uint16_t *back = ha(R * 3 * D), *y = ha(R * D), *x2 = ha(R * D);
    float *f = ref_falloc(R * 3 * D), *fq = ref_falloc(R * D), *fk = ref_falloc(R * D);
    float *fv = ref_falloc(R * D);
    for (int64_t i = 0; i < R * 3 * D; i++) {
        qkv[i] = (uint16_t)(i * 7 + 1);
        f[i] = (float)qkv[i];
    }
    ijepa__heads_split3_bf16(qkv, S, T, H, hd, q, k, v);
    ijepa__heads_split3(f, S, T, H, hd, fq, fk, fv);
    for (int64_t i = 0; i < R * D; i++)
        ck_assert(q[i] == (uint16_t)fq[i] && k[i] == (uint16_t)fk[i] && v[i] == (uint16_t)fv[i]);
    ijepa__heads_merge3_bf16(q, k, v, S, T, H, hd, back);
    ck_assert(!memcmp(back, qkv, (size_t)(R * 3 * D) * sizeof *back));
    ijepa__heads_split_bf16(q, S, T, H, hd, y);
    ijepa__heads_merge_bf16(y, S, T, H, hd, x2);
    ck_assert(!memcmp(x2, q, (size_t)(R * D) * sizeof *x2));
    ijepa__heads_split(fq, S, T, H, hd, fk);
    for (int64_t i = 0; i < R * D; i++) ck_assert(y[i] == (uint16_t)fk[i]);
    free(qkv); free(q); free(k); free(v); free(back); free(y); free(x2); free(f); free(fq);
    free(fk); free(fv);
}
END_TEST

// --- matmul --------------------------------------------------------------------------

typedef struct mm_fx {
    ijepa__err err;
    ijepa__engine *eng;
    ijepa__ops *ops;
} mm_fx;

static void mm_open(mm_fx *f)
{
    memset(f, 0, sizeof *f);
    ck_assert_int_eq(ijepa__engine_create(&f->eng, &f->err), IJEPA_OK);
    ck_assert_int_eq(ijepa__ops_create(&f->ops, f->eng, 64, &f->err), IJEPA_OK);
}

static void mm_close(mm_fx *f)
{
    ijepa__ops_free(f->ops);
    ijepa__engine_free(f->eng);
}

/*
 * C = alpha op(A) op(B) + bias (+ C0) with bf16 A, B: the products of bf16
 * values are exact in float32 and the sums are float32, so a float32 C is
 * within the float32 matmul bound 2 (K + 4) u32 S of the exact value of the
 * bf16 operands (S the same expression on magnitudes); a bf16 C adds
 * u16 |want|, and the GELU post-op the GELU's own 1e-6 relative.
 */
START_TEST(test_matmul_bf16)
{
    static const int64_t shapes[][4] = {{1, 7, 5, 3}, {3, 33, 65, 17}, {2, 64, 48, 96}};
    mm_fx f;
    mm_open(&f);
    for (int emu = 0; emu < 2; emu++) {
        const int flag_emu = emu ? 0 : IJEPA__MM_ONEDNN_BF16;
        if (!emu && !ijepa__ops_bf16_native(f.ops))
            continue; /* no bf16 hardware: oneDNN's kernel may be unimplemented */
        for (size_t s = 0; s < COUNT_OF(shapes); s++)
            for (int variant = 0; variant < 8; variant++) {
                const int64_t b = shapes[s][0], M = shapes[s][1], N = shapes[s][2], K = shapes[s][3];
                const int ta = variant & 1, tb = (variant >> 1) & 1, out16 = (variant >> 2) & 1;
                const int bias = variant % 3 == 0, acc = !out16 && variant == 3;
                const float alpha = bias ? 1.0f : (variant == 2 ? 0.125f : 1.0f);
                const int gelu = out16 && variant == 6 && bias;
                uint16_t *A = rand_bf16(b * M * K, 70 + s, -1, 1), *B = rand_bf16(b * K * N, 71 + s, -1, 1);
                float *bi = rand_floats(N, 72 + s, -1, 1), *C0 = rand_floats(b * M * N, 73 + s, -1, 1);
                double *Ad = b2d_new(A, b * M * K), *Bd = b2d_new(B, b * K * N);
                double *bd = ref_dalloc(N), *want = ref_dalloc(b * M * N), *S = ref_dalloc(b * M * N);
                double *aA = ref_dalloc(b * M * K), *aB = ref_dalloc(b * K * N), *ab = ref_dalloc(N);
                ref_f2d(bd, bi, N);
                for (int64_t i = 0; i < b * M * N; i++) want[i] = acc ? (double)C0[i] : 0;
                ref_matmul(b, M, N, K, Ad, ta, Bd, tb, bias ? bd : NULL, alpha, acc, want);
                ref_dabs(aA, Ad, b * M * K);
                ref_dabs(aB, Bd, b * K * N);
                ref_dabs(ab, bd, N);
                for (int64_t i = 0; i < b * M * N; i++) S[i] = acc ? fabs((double)C0[i]) : 0;
                ref_matmul(b, M, N, K, aA, ta, aB, tb, bias ? ab : NULL, fabs(alpha), acc, S);
                for (int64_t i = 0; i < b * M * N; i++) S[i] *= 2.0 * (double)(K + 4) * REF_U32;
                if (gelu) {
                    for (int64_t i = 0; i < b * M * N; i++) want[i] = gelu_d(want[i]);
                    for (int64_t i = 0; i < b * M * N; i++) S[i] = S[i] * 1.2 + 1e-6 * fabs(want[i]);
                }
                const int flags = IJEPA__MM_BF16 | flag_emu | (out16 ? IJEPA__MM_OUT_BF16 : 0) |
                                  (gelu ? IJEPA__MM_GELU : 0);
                char what[160];
                snprintf(what, sizeof what, "bf16 matmul %s b=%lld M=%lld N=%lld K=%lld ta=%d "
                         "tb=%d out16=%d bias=%d alpha=%g acc=%d gelu=%d",
                         emu ? "emulated" : "oneDNN", (long long)b, (long long)M, (long long)N,
                         (long long)K, ta, tb, out16, bias, (double)alpha, acc, gelu);
                int rc;
                ref_cmp c;
                if (out16) {
                    uint16_t *C = ha(b * M * N);
                    if (emu) /* emulated whatever the CPU: the internal switch */
                        ijepa__ops_set_bf16_native(f.ops, 0);
                    rc = ijepa__matmul_x(f.ops, b, M, N, K, A, ta, B, tb, bias ? bi : NULL, alpha,
                                         0, C, flags);
                    ck_assert_msg(rc == IJEPA_OK, "%s: %d %s", what, rc, ijepa_last_error());
                    c = cmp_bf16(C, want, b * M * N, 0, RT16, S);
                    free(C);
                } else {
                    float *C = ref_falloc(b * M * N);
                    memcpy(C, C0, (size_t)(b * M * N) * sizeof *C);
                    if (emu)
                        ijepa__ops_set_bf16_native(f.ops, 0);
                    rc = ijepa__matmul_x(f.ops, b, M, N, K, A, ta, B, tb, bias ? bi : NULL, alpha,
                                         acc, C, flags);
                    ck_assert_msg(rc == IJEPA_OK, "%s: %d %s", what, rc, ijepa_last_error());
                    c = ref_compare_f(C, want, b * M * N, 0, 0, S);
                    free(C);
                }
                ijepa__ops_set_bf16_native(f.ops, -1);
                expect_close(&c, "%s", what);
                free(A); free(B); free(bi); free(C0); free(Ad); free(Bd); free(bd); free(want);
                free(S); free(aA); free(aB); free(ab);
            }
    }
    mm_close(&f);
}
END_TEST

START_TEST(test_matmul_bf16_errors)
{
    mm_fx f;
    mm_open(&f);
    uint16_t a[4] = {0x3f80, 0x3f80, 0x3f80, 0x3f80};
    uint16_t c16[4];
    int rc = ijepa__matmul_x(f.ops, 1, 2, 2, 2, a, 0, a, 0, NULL, 1.0f, 1, c16,
                             IJEPA__MM_BF16 | IJEPA__MM_OUT_BF16);
    ck_assert_int_eq(rc, IJEPA_ERR_INVALID_ARG);
    ck_assert_msg(strstr(ijepa_last_error(), "accumulate") != NULL, "message: %s", ijepa_last_error());
    float c[4] = {0};
    rc = ijepa__matmul_x(f.ops, 1, 2, 2, 2, a, 0, a, 0, NULL, 1.0f, 1, c,
                         IJEPA__MM_BF16 | IJEPA__MM_GELU);
    ck_assert_int_eq(rc, IJEPA_ERR_INVALID_ARG);
    rc = ijepa__matmul_x(f.ops, 1, 0, 2, 2, a, 0, a, 0, NULL, 1.0f, 0, c, IJEPA__MM_BF16);
    ck_assert_int_eq(rc, IJEPA_ERR_INVALID_ARG);
    /* ones: 2 x 2 . 2 x 2 = 2 everywhere */
    ck_assert_int_eq(ijepa__matmul_x(f.ops, 1, 2, 2, 2, a, 0, a, 0, NULL, 1.0f, 0, c,
                                     IJEPA__MM_BF16), IJEPA_OK);
    for (int i = 0; i < 4; i++) ck_assert(c[i] == 2.0f);
    mm_close(&f);
}
END_TEST

/* --- packed B ------------------------------------------------------------------------ */

/*
 * The (K, N) operands the models pack: ViT-S/16 (D 384, hidden 1536, patch
 * 768) forward (W^T) and backward (W); fmnist/128 (D 128, hidden 512, patch
 * 2x2x1 = 4, predictor 64 wide, hidden 256); the model tests here (D 32,
 * hidden 128, patch 8, predictor 16); and odd sizes that are no multiple of
 * the 32 x 64 blocks.
 */
static const int64_t pack_shapes[][2] = {
    {384, 1152}, {1152, 384}, {384, 384}, {384, 1536}, {1536, 384}, {768, 384},
    {4, 128},    {128, 384},  {384, 128}, {128, 512},  {512, 128},  {128, 64},
    {64, 128},   {64, 256},   {256, 64},  {8, 32},     {32, 96},    {96, 32},
    {32, 128},   {128, 32},   {16, 32},   {32, 16},    {16, 64},    {64, 16},
    {33, 65},    {17, 3},     {1, 1},
};

/* A 64-byte aligned buffer of ijepa__pack_bytes(K, N) bytes, poisoned with
 * 0xff bytes (bf16 NaN) so that anything the packing leaves unwritten shows. */
static void *pack_buf(int64_t K, int64_t N)
{
    const int64_t bytes = ijepa__pack_bytes(K, N);
    ck_assert_int_ge(bytes, 2 * K * N);
    ck_assert_int_eq(bytes % 64, 0);
    void *p = aligned_alloc(64, (size_t)bytes);
    ck_assert_ptr_nonnull(p);
    memset(p, 0xff, (size_t)bytes);
    return p;
}

/* float32 B values: U(-1, 1), every 7th exactly halfway between two bf16
 * values (ties to even), every 11th scaled by 2^+-60 (far exponents), with
 * sub every 13th a float32 subnormal (which float32 arithmetic, the
 * emulated path, runs at a fraction of its speed). */
static float *pack_values(int64_t n, uint64_t seed, int sub)
{
    float *b = rand_floats(n, seed, -1, 1);
    for (int64_t i = 0; i < n; i++) {
        if (i % 7 == 3) {
            uint32_t u;
            memcpy(&u, &b[i], sizeof u);
            u = (u & 0xffff0000u) | 0x8000u;
            memcpy(&b[i], &u, sizeof u);
        } else if (i % 11 == 5) {
            b[i] = ldexpf(b[i], i % 2 ? 60 : -60);
        } else if (sub && i % 13 == 6) {
            b[i] = ldexpf(b[i], -130);
        }
    }
    return b;
}

/*
 * The packing kernel (pack.h) on its own: every element where the layout
 * formula puts it, rounded as ref_round (subnormals kept), zeros in the
 * padding, for both stored orders of B, 16-, 32- and 64-column blocks in
 * both block orders, at every SIMD level (bit-identical).
 */
START_TEST(test_pack_kernel)
{
    static const int64_t shapes[][2] = {{384, 1152}, {64, 48}, {33, 65}, {4, 128}, {17, 3}, {1, 1}};
    for (size_t s = 0; s < COUNT_OF(shapes); s++)
        for (int64_t nb = 16; nb <= 64; nb *= 2)
            for (int order = 0; order < 2; order++)
                for (int tb = 0; tb < 2; tb++) {
                    const int64_t K = shapes[s][0], N = shapes[s][1];
                    ijepa__blk_fmt f = {.nb = nb, .Kp = (K + 31) / 32 * 32,
                                        .Np = (N + nb - 1) / nb * nb};
                    f.sk = order ? f.Np * 32 : 32 * nb; /* blocks along N first, or K */
                    f.sn = order ? 32 * nb : f.Kp * nb;
                    const int64_t total = f.Kp * f.Np;
                    float *B = pack_values(K * N, 110 + s, 1);
                    uint16_t *want = ha(total);
                    for (int64_t k = 0; k < K; k++)
                        for (int64_t n = 0; n < N; n++)
                            want[(k / 32) * f.sk + (n / nb) * f.sn + ((k % 32) / 2) * 2 * nb +
                                 (n % nb) * 2 + k % 2] = ref_round(tb ? B[n * K + k] : B[k * N + n]);
                    for (int lvl = 0; lvl < nlevels(); lvl++) {
                        uint16_t *got = ha(total);
                        memset(got, 0xff, (size_t)total * sizeof *got);
                        ijepa__pack_bf16(lvl, B, tb, K, N, &f, got);
                        int64_t bad = -1;
                        for (int64_t i = 0; i < total && bad < 0; i++)
                            if (got[i] != want[i])
                                bad = i;
                        ck_assert_msg(bad < 0, "K=%lld N=%lld nb=%lld order %d tb=%d level %d: "
                                      "value %lld is %04x, want %04x", (long long)K, (long long)N,
                                      (long long)nb, order, tb, lvl, (long long)bad,
                                      bad < 0 ? 0 : got[bad], bad < 0 ? 0 : want[bad]);
                        free(got);
                    }
                    free(B);
                    free(want);
                }
}
END_TEST

/* The modes of a packed operand: 0 packed (the own AMX kernel where
 * usable), 1 packed through the unpack fallback, 2 packing off (plain
 * bf16), 3 emulated bf16 (plain), 4 packed on oneDNN's kernel. */
static const char *const pack_mode_name[] = {"packed", "unpack fallback", "plain", "emulated",
                                             "packed (oneDNN)"};

static void pack_mode_set(ijepa__ops *ops, int mode)
{
    ijepa__ops_set_bf16_native(ops, mode == 3 ? 0 : -1);
    ijepa__ops_set_packing(ops, mode == 0 || mode == 4 ? 1 : mode == 1 ? 2 : mode == 2 ? 0 : 1);
    ijepa__ops_set_amx(ops, mode != 4);
}

/*
 * Packing rounds and places every value: the identity times a packed B is
 * B's bf16 rounding, exactly (a product with 1 and sums with exact zeros),
 * for both stored orders of B, every mode, every shape above. A float32
 * subnormal may come back as bf16 subnormal (ijepa__to_bf16) or as zero (the
 * oneDNN reorder flushes it; AMX reads bf16 subnormals as zero anyway: see
 * test_pack_subnormal). On AMX the model shapes must really pack.
 */
START_TEST(test_pack_exact)
{
    mm_fx f;
    mm_open(&f);
    const int native = ijepa__ops_bf16_native(f.ops);
    for (int mode = 0; mode < 4; mode++) {
        if (mode < 2 && !native)
            continue; /* packing needs bf16 on oneDNN's kernels */
        for (size_t s = 0; s < COUNT_OF(pack_shapes); s++)
            for (int tb = 0; tb < 2; tb++) {
                const int64_t K = pack_shapes[s][0], N = pack_shapes[s][1];
                ijepa__ops_free(f.ops); /* fresh: the mode applies to new primitives */
                ck_assert_int_eq(ijepa__ops_create(&f.ops, f.eng, 64, &f.err), IJEPA_OK);
                pack_mode_set(f.ops, mode);
                const int layout = ijepa__pack_layout(f.ops, K, N);
                ck_assert_msg(mode < 2 ? layout == 0 || layout == 1 : layout == 0,
                              "K=%lld N=%lld mode %s: pack_layout %d", (long long)K,
                              (long long)N, pack_mode_name[mode], layout);
                float *B = pack_values(K * N, 80 + s, 1);
                void *Bp = pack_buf(K, N);
                ck_assert_int_eq(ijepa__pack_b(f.ops, K, N, B, tb, Bp), IJEPA_OK);
                uint16_t *I = ha(K * K);
                for (int64_t k = 0; k < K; k++) I[k * K + k] = 0x3f80; /* 1.0 */
                float *C = ref_falloc(K * N);
                int rc = ijepa__matmul_x(f.ops, 1, K, N, K, I, 0, Bp, tb, NULL, 1.0f, 0, C,
                                         IJEPA__MM_BF16 | IJEPA__MM_B_PACKED);
                ck_assert_msg(rc == IJEPA_OK, "%d %s", rc, ijepa_last_error());
                int64_t bad = -1;
                for (int64_t k = 0; k < K && bad < 0; k++)
                    for (int64_t n = 0; n < N; n++) {
                        const float b = tb ? B[n * K + k] : B[k * N + n];
                        const float want = ijepa__bf16_float(ijepa__bf16_round(b));
                        const float got = C[k * N + n];
                        const int sub = fabsf(b) < 0x1p-126f;
                        if (got != want && !(sub && got == 0.0f)) {
                            bad = k * N + n;
                            break;
                        }
                    }
                ck_assert_msg(bad < 0, "%s K=%lld N=%lld tb=%d: element %lld is %a, want %a",
                              pack_mode_name[mode], (long long)K, (long long)N, tb,
                              (long long)bad, (double)C[bad],
                              (double)ijepa__bf16_float(ijepa__bf16_round(
                                  tb ? B[(bad % N) * K + bad / N] : B[bad])));
                /* every M of the packed layout runs brgemm, except where forced */
                ck_assert_int_eq(ijepa__ops_pack_fallbacks(f.ops), mode == 1 && layout == 1);
                free(B); free(Bp); free(I); free(C);
            }
    }
    /* the model shapes pack wherever bf16 is native (AMX) */
    if (native) {
        pack_mode_set(f.ops, 0);
        for (size_t s = 0; s < 24; s++)
            ck_assert_msg(ijepa__pack_layout(f.ops, pack_shapes[s][0], pack_shapes[s][1]) == 1,
                          "K=%lld N=%lld is not packed", (long long)pack_shapes[s][0],
                          (long long)pack_shapes[s][1]);
    }
    mm_close(&f);
}
END_TEST

/*
 * Packed matmuls against the double reference of the rounded operands, at
 * many row counts M (the layout is chosen once per (K, N), with a large M,
 * and must serve every M: none may fall back), with bias, bf16 output,
 * addend, accumulate and the GELU post-op in turn, for both stored orders of
 * B. The first 64 rows of A are random and the rest repeat them, so 64
 * reference rows check all M rows (each row is computed independently; the
 * layout of B is what is under test). Tolerance as test_matmul_bf16: the
 * products of bf16 values are exact in float32 and the K-term sums float32,
 * so a float32 C is within 2 (K + 4) u32 S of the exact value (S the same
 * expression on magnitudes); a bf16 C adds u16 |want|; GELU its own 1e-6
 * relative. A B read in a wrong layout is off by O(1) relative.
 */
START_TEST(test_matmul_packed)
{
    static const int64_t Ms[] = {1, 2, 7, 31, 64, 100, 1040, 3136};
    mm_fx f;
    mm_open(&f);
    const int native = ijepa__ops_bf16_native(f.ops);
    int64_t same = 0, total = 0; /* packed and plain-layout results bit-identical */
    for (int mode = 0; mode < 5; mode++) {
        if ((mode < 2 || mode == 4) && !native)
            continue;
        for (size_t s = 0; s < COUNT_OF(pack_shapes); s++) {
            const int64_t K = pack_shapes[s][0], N = pack_shapes[s][1];
            if (mode > 0 && s % 3 != 0)
                continue; /* the other modes on every third shape */
            ijepa__ops_free(f.ops);
            ck_assert_int_eq(ijepa__ops_create(&f.ops, f.eng, 64, &f.err), IJEPA_OK);
            pack_mode_set(f.ops, mode);
            for (int tb = 0; tb < 2; tb++) {
                float *B = pack_values(K * N, 90 + s, 0);
                void *Bp = pack_buf(K, N);
                ck_assert_int_eq(ijepa__pack_b(f.ops, K, N, B, tb, Bp), IJEPA_OK);
                uint16_t *B16 = ha(K * N); /* the plain bf16 operand, stored as B */
                ijepa__to_bf16(ijepa__ops_simd(f.ops), B, B16, K * N);
                double *Bd = b2d_new(B16, K * N), *aB = ref_dalloc(K * N);
                ref_dabs(aB, Bd, K * N);
                const int64_t R0 = 64;
                uint16_t *A0 = rand_bf16(R0 * K, 91 + s, -1, 1);
                float *bi = rand_floats(N, 92 + s, -1, 1);
                double *Ad = b2d_new(A0, R0 * K), *aA = ref_dalloc(R0 * K);
                ref_dabs(aA, Ad, R0 * K);
                /* the products of the 64 rows and their magnitudes, once */
                double *P = ref_dalloc(R0 * N), *SP = ref_dalloc(R0 * N);
                ref_matmul(1, R0, N, K, Ad, 0, Bd, tb, NULL, 1.0, 0, P);
                ref_matmul(1, R0, N, K, aA, 0, aB, tb, NULL, 1.0, 0, SP);
                for (size_t mi = 0; mi < COUNT_OF(Ms); mi++) {
                    const int64_t M = Ms[mi];
                    if (M > 1040 && K * N < 384 * 384)
                        continue; /* the largest M on the ViT-S shapes only */
                    const int variant = (int)((mi + s + (size_t)tb) % 5);
                    const int bias = variant == 1 || variant == 4, out16 = variant == 1 || variant == 4;
                    const int add = variant == 2, acc = variant == 3, gelu = variant == 4;
                    uint16_t *A = ha(M * K);
                    for (int64_t r = 0; r < M; r++)
                        memcpy(A + r * K, A0 + (r % R0) * K, (size_t)K * sizeof *A);
                    float *C0 = rand_floats(M * N, 93 + s + mi, -1, 1);
                    /* want = P (+ bias) (+ C0), S likewise on magnitudes, then
                     * 2 (K + 4) u32 S (+ GELU's) */
                    double *wM = ref_dalloc(M * N), *SM = ref_dalloc(M * N);
                    for (int64_t r = 0; r < M; r++)
                        for (int64_t n = 0; n < N; n++) {
                            const int64_t q = (r % R0) * N + n, i = r * N + n;
                            const double c0 = acc || add ? (double)C0[i] : 0;
                            const double b = bias ? (double)bi[n] : 0;
                            double w = P[q] + b + c0;
                            double t = (SP[q] + fabs(b) + fabs(c0)) * 2.0 * (double)(K + 4) *
                                       REF_U32;
                            if (gelu) {
                                w = gelu_d(w);
                                t = t * 1.2 + 1e-6 * fabs(w);
                            }
                            wM[i] = w;
                            SM[i] = t;
                        }
                    const int flags = IJEPA__MM_BF16 | (out16 ? IJEPA__MM_OUT_BF16 : 0) |
                                      (gelu ? IJEPA__MM_GELU : 0);
                    void *C = out16 ? (void *)ha(M * N) : (void *)ref_falloc(M * N);
                    void *Cp = out16 ? (void *)ha(M * N) : (void *)ref_falloc(M * N);
                    if (!out16) {
                        memcpy(C, C0, (size_t)(M * N) * sizeof(float));
                        memcpy(Cp, C0, (size_t)(M * N) * sizeof(float));
                    }
                    int rc = ijepa__matmul_add(f.ops, 1, M, N, K, A, 0, Bp, tb, bias ? bi : NULL,
                                               1.0f, acc, add ? C0 : NULL, C,
                                               flags | IJEPA__MM_B_PACKED);
                    ck_assert_msg(rc == IJEPA_OK, "%d %s", rc, ijepa_last_error());
                    rc = ijepa__matmul_add(f.ops, 1, M, N, K, A, 0, B16, tb, bias ? bi : NULL,
                                           1.0f, acc, add ? C0 : NULL, Cp, flags);
                    ck_assert_msg(rc == IJEPA_OK, "%d %s", rc, ijepa_last_error());
                    total++;
                    same += !memcmp(C, Cp, (size_t)(M * N) * (out16 ? 2 : 4));
                    ref_cmp c = out16 ? cmp_bf16(C, wM, M * N, 0, RT16, SM)
                                      : ref_compare_f(C, wM, M * N, 0, 0, SM);
                    expect_close(&c, "%s matmul M=%lld N=%lld K=%lld tb=%d bias=%d out16=%d "
                                 "addend=%d acc=%d gelu=%d", pack_mode_name[mode], (long long)M,
                                 (long long)N, (long long)K, tb, bias, out16, add, acc, gelu);
                    free(A); free(C0); free(wM); free(SM); free(C); free(Cp);
                }
                const int64_t fb = ijepa__ops_pack_fallbacks(f.ops);
                ck_assert_msg(mode == 1 || fb == 0,
                              "K=%lld N=%lld: %lld packed matmuls fell back to unpacking",
                              (long long)K, (long long)N, (long long)fb);
                free(B); free(Bp); free(B16); free(Bd); free(aB); free(A0); free(bi); free(Ad);
                free(aA); free(P); free(SP);
            }
        }
    }
    if (getenv("IJEPA_TEST_VERBOSE"))
        fprintf(stderr, "packed matmul: %lld of %lld results bit-identical to the plain layout's\n",
                (long long)same, (long long)total);
    mm_close(&f);
}
END_TEST

/*
 * The own AMX kernel (amx.h) against oneDNN's brgemm on the same packed
 * operands, every epilogue (float32 out; bias + bf16 out; addend;
 * accumulate; alpha), on shapes with tails in M, N and K, K beyond one pass
 * (48 steps of 32) with A read in place and copied, few rows (blocks shared
 * out by columns) and a ViT-S size. Both sum exact bf16 products in float32 over the same steps of K,
 * so they agree within twice the float32 matmul bound 2 (K + 4) u32 S (a
 * bf16 output one rounding more); they are bit-identical on almost every
 * shape (counted with IJEPA_TEST_VERBOSE). The result must not depend on
 * the thread count (each block has one owner). Where bf16 runs natively
 * (AMX) the kernel must be in use.
 */
START_TEST(test_matmul_amx)
{
    static const int64_t sh[][3] = {/* M, K, N */
        {1, 1, 1},       {5, 64, 16},      {37, 70, 50},     {100, 1000, 100}, {64, 2000, 200},
        {1000, 390, 33}, {33, 384, 1152},  {257, 1536, 384}, {130, 1152, 384}, {31, 17, 3},
        {147, 70, 90},   {200, 390, 120},  {96, 448, 100},   {3136, 384, 1536},
        {100, 2048, 100}, {64, 1600, 200}, {33, 2048, 1152}, {257, 3200, 96}};
    mm_fx f;
    mm_open(&f);
    const int native = ijepa__ops_bf16_native(f.ops);
    /* the kernel is on wherever the CPU has AMX and oneDNN uses it, which
     * implies native; with the tiles emulated (make check-amx-emu), where
     * oneDNN uses AVX512-BF16 */
    const char *isa = ijepa__engine_isa();
    ck_assert_int_eq(ijepa__ops_amx(f.ops),
                     ijepa__amx_usable() &&
                         (!strcmp(isa, "avx512_core_amx") ||
                          (ijepa__amx_emulated() && !strcmp(isa, "avx512_core_bf16"))));
    ck_assert(native || !ijepa__ops_amx(f.ops));
    if (!native || !ijepa__ops_amx(f.ops)) {
        mm_close(&f);
        return; /* emulated: no packing; AVX512-BF16: packed products stay on oneDNN */
    }
    const int threads = omp_get_max_threads();
    int64_t same = 0, total = 0;
    for (size_t s = 0; s < COUNT_OF(sh); s++) {
        /* rows repeat with a period that is no multiple of 32, so that no two
         * 32-row blocks of A are alike */
        const int64_t M = sh[s][0], K = sh[s][1], N = sh[s][2], R0 = M < 61 ? M : 61;
        float *B = pack_values(K * N, 300 + s, 0);
        void *Bp = pack_buf(K, N);
        /* the plan is made with the kernel on (the trainer's layout: 16-column
         * blocks where N is a multiple of 32), every third shape with it off
         * (oneDNN's 64-column blocks); every shape then runs on the kernel */
        ijepa__ops_set_amx(f.ops, s % 3 != 2);
        ck_assert_int_eq(ijepa__pack_b(f.ops, K, N, B, (int)(s % 2), Bp), IJEPA_OK);
        ijepa__ops_set_amx(f.ops, 1);
        ck_assert_msg(ijepa__ops_fusable(f.ops, K, N, 0),
                      "K=%lld N=%lld does not run on the own kernel", (long long)K, (long long)N);
        uint16_t *B16 = ha(K * N); /* B's bf16 rounding, for the magnitudes */
        ijepa__to_bf16(ijepa__ops_simd(f.ops), B, B16, K * N);
        uint16_t *A0 = rand_bf16(R0 * K, 301 + s, -1, 1), *A = ha(M * K);
        for (int64_t r = 0; r < M; r++)
            memcpy(A + r * K, A0 + (r % R0) * K, (size_t)K * sizeof *A);
        double *aA = b2d_new(A0, R0 * K), *aB = b2d_new(B16, K * N), *S = ref_dalloc(R0 * N);
        ref_dabs(aA, aA, R0 * K);
        ref_dabs(aB, aB, K * N);
        ref_matmul(1, R0, N, K, aA, 0, aB, s % 2, NULL, 1.0, 0, S);
        float *bi = rand_floats(N, 302 + s, -1, 1), *C0 = rand_floats(M * N, 303 + s, -1, 1);
        for (int v = 0; v < 5; v++) {
            const int bias = v == 1, out16 = v == 1, add = v == 2, acc = v == 3;
            const float alpha = v == 4 ? 0.125f : 1.0f;
            const int flags =
                IJEPA__MM_BF16 | IJEPA__MM_B_PACKED | (out16 ? IJEPA__MM_OUT_BF16 : 0);
            const size_t bytes = (size_t)(M * N) * (out16 ? 2 : 4);
            void *C[3];
            for (int i = 0; i < 3; i++) { /* own (all threads), own (1 thread), oneDNN */
                C[i] = malloc(bytes);
                ck_assert_ptr_nonnull(C[i]);
                if (!out16)
                    memcpy(C[i], C0, bytes);
                ijepa__ops_set_amx(f.ops, i < 2);
                omp_set_num_threads(i == 1 ? 1 : threads);
                const int rc = ijepa__matmul_add(f.ops, 1, M, N, K, A, 0, Bp, s % 2,
                                                 bias ? bi : NULL, alpha, acc,
                                                 add ? C0 : NULL, C[i], flags);
                ck_assert_msg(rc == IJEPA_OK, "%d %s", rc, ijepa_last_error());
            }
            omp_set_num_threads(threads);
            ck_assert_msg(!memcmp(C[0], C[1], bytes),
                          "M=%lld K=%lld N=%lld variant %d: 1 thread and %d differ",
                          (long long)M, (long long)K, (long long)N, v, threads);
            total++;
            same += !memcmp(C[0], C[2], bytes);
            for (int64_t i = 0; i < M * N; i++) {
                const int64_t q = (i / N % R0) * N + i % N;
                const double a = out16 ? b2d(((uint16_t *)C[0])[i]) : ((float *)C[0])[i];
                const double b = out16 ? b2d(((uint16_t *)C[2])[i]) : ((float *)C[2])[i];
                const double c0 = acc || add ? fabs((double)C0[i]) : 0;
                const double tol = 4.0 * (double)(K + 4) * REF_U32 *
                                       (alpha * S[q] + (bias ? fabs((double)bi[i % N]) : 0) + c0) +
                                   (out16 ? RT16 * fmax(fabs(a), fabs(b)) : 0);
                ck_assert_msg(fabs(a - b) <= tol,
                              "M=%lld K=%lld N=%lld variant %d: element %lld: own %.9g, "
                              "oneDNN %.9g (tolerance %.3g)", (long long)M, (long long)K,
                              (long long)N, v, (long long)i, a, b, tol);
            }
            for (int i = 0; i < 3; i++) free(C[i]);
        }
        free(B); free(Bp); free(B16); free(A0); free(A); free(aA); free(aB); free(S);
        free(bi); free(C0);
    }
    if (getenv("IJEPA_TEST_VERBOSE"))
        fprintf(stderr, "AMX kernel: %lld of %lld results bit-identical to oneDNN's\n",
                (long long)same, (long long)total);
    mm_close(&f);
}
END_TEST

/* The weight gradient with x as a LayerNorm's xhat, its weight lg and
 * bias lb, on the own kernel and on oneDNN's: the same bits as with the
 * LayerNorm's output made first. Returns gW[0]. */
static float wgrad_ln_operand(mm_fx *f, int64_t R, int64_t O, int64_t I, const uint16_t *dy,
                              const uint16_t *xh, const float *lg, const float *lb,
                              const char *what)
{
    uint16_t *xn = ha(R * I);
    ijepa__layernorm_affine_bf16(ijepa__ops_simd(f->ops), R, I, xh, lg, lb, xn);
    float first = 0.0f;
    for (int own = 0; own < 2; own++) {
        float *want = ref_falloc(O * I), *got = ref_falloc(O * I);
        memset(want, 0, (size_t)(O * I) * sizeof *want);
        memset(got, 0, (size_t)(O * I) * sizeof *got);
        ijepa__ops_set_amx_wgrad(f->ops, own);
        ck_assert_int_eq(ijepa__matmul_wgrad(f->ops, R, O, I, dy, xn, NULL, NULL, want), IJEPA_OK);
        ck_assert_int_eq(ijepa__matmul_wgrad(f->ops, R, O, I, dy, xh, lg, lb, got), IJEPA_OK);
        ck_assert_msg(!memcmp(got, want, (size_t)(O * I) * sizeof *got),
                      "LayerNorm operand, %s, R=%lld O=%lld I=%lld own=%d", what, (long long)R,
                      (long long)O, (long long)I, own);
        first = want[0];
        free(want); free(got);
    }
    ijepa__ops_set_amx_wgrad(f->ops, 1);
    free(xn);
    return first;
}

/*
 * Weight gradients gW += dy^T x (ijepa__matmul_wgrad), on the own AMX
 * kernel and on oneDNN's transposed-A matmul, against a double reference:
 * rows (tokens) with tails inside a 32-row step and inside a 256-row chunk,
 * one row, several chunks, both splits (O >= I: threads share outputs, O <
 * I: columns), O or I not a multiple of 32 (oneDNN on either setting), and
 * a gW that already holds values (the sums are added). Exact bf16 products
 * summed in float32 in any order are within (R + 4) u32 S of the exact sum
 * (S: the sum of magnitudes, gW's included); the bound asked is twice that.
 * The kernel's result must not depend on the thread count.
 */
START_TEST(test_matmul_wgrad)
{
    static const int64_t sh[][3] = {/* R, O, I */
        {1, 32, 32},    {37, 64, 32},   {300, 96, 160}, {600, 192, 64}, {513, 32, 32},
        {1000, 128, 384}, {256, 64, 64}, {70, 48, 64},  {90, 64, 40}};
    mm_fx f;
    mm_open(&f);
    const int threads = omp_get_max_threads();
    for (size_t s = 0; s < COUNT_OF(sh); s++) {
        const int64_t R = sh[s][0], O = sh[s][1], I = sh[s][2];
        uint16_t *dy = rand_bf16(R * O, 700 + s, -1, 1), *x = rand_bf16(R * I, 701 + s, -1, 1);
        float *g0 = rand_floats(O * I, 702 + s, -1, 1);
        double *want = ref_dalloc(O * I), *mag = ref_dalloc(O * I);
        for (int64_t o = 0; o < O; o++)
            for (int64_t i = 0; i < I; i++) {
                double acc = g0[o * I + i], m = fabs((double)g0[o * I + i]);
                for (int64_t t = 0; t < R; t++) {
                    const double p = b2d(dy[t * O + o]) * b2d(x[t * I + i]);
                    acc += p;
                    m += fabs(p);
                }
                want[o * I + i] = acc;
                mag[o * I + i] = m;
            }
        float *got[3];
        for (int v = 0; v < 3; v++) { /* own (all threads), own (1 thread), oneDNN */
            got[v] = ref_falloc(O * I);
            memcpy(got[v], g0, (size_t)(O * I) * sizeof *g0);
            ijepa__ops_set_amx_wgrad(f.ops, v < 2);
            omp_set_num_threads(v == 1 ? 1 : threads);
            const int rc = ijepa__matmul_wgrad(f.ops, R, O, I, dy, x, NULL, NULL, got[v]);
            ck_assert_msg(rc == IJEPA_OK, "%d %s", rc, ijepa_last_error());
            for (int64_t k = 0; k < O * I; k++)
                ck_assert_msg(fabs(got[v][k] - want[k]) <= 2.0 * (double)(R + 4) * REF_U32 * mag[k],
                              "R=%lld O=%lld I=%lld variant %d: element %lld: %.9g, exact %.9g",
                              (long long)R, (long long)O, (long long)I, v, (long long)k,
                              (double)got[v][k], want[k]);
        }
        omp_set_num_threads(threads);
        ijepa__ops_set_amx_wgrad(f.ops, 1);
        /* only the own kernels promise the same bits for any thread count
         * (oneDNN's reductions, e.g. capped to AVX2, do not) */
        if (ijepa__ops_wgrad_own(f.ops, O, I))
            ck_assert_msg(!memcmp(got[0], got[1], (size_t)(O * I) * sizeof *got[0]),
                          "R=%lld O=%lld I=%lld: 1 thread and %d differ", (long long)R,
                          (long long)O, (long long)I, threads);
        for (int v = 0; v < 3; v++)
            free(got[v]);
        free(dy); free(x); free(g0); free(want); free(mag);
    }
    /* x as a LayerNorm's xhat with its weight and bias: the same bits as
     * the LayerNorm's output made first (own kernel and oneDNN's) */
    static const int64_t lsh[][3] = {{300, 96, 160}, {513, 32, 64}, {90, 64, 40}};
    for (size_t s = 0; s < COUNT_OF(lsh); s++) {
        const int64_t R = lsh[s][0], O = lsh[s][1], I = lsh[s][2];
        uint16_t *dy = rand_bf16(R * O, 710 + s, -1, 1), *xh = rand_bf16(R * I, 711 + s, -3, 3);
        float *lg = rand_floats(I, 712 + s, 0.5, 1.5), *lb = rand_floats(I, 713 + s, -1, 1);
        wgrad_ln_operand(&f, R, O, I, dy, xh, lg, lb, "random");
        free(dy); free(xh); free(lg); free(lb);
    }
    { /* x g + b just below float32's normal range rounds up to bf16
       * 2^-126, a normal number that a product does not take as zero:
       * xhat 127/128 2^-126 (bf16 0x007f), g = 1 + 2^-7, b = 0, times
       * dy = 2^100 gives 2^-26 a row, on the own kernels as on oneDNN */
        const int64_t R = 64, O = 32, I = 48;
        uint16_t *dy = ha(R * O), *xh = ha(R * I), *xn = ha(R * I);
        float *lg = rand_floats(I, 717, 0.5, 1.5), *lb = rand_floats(I, 718, -1, 1);
        for (int64_t k = 0; k < R * O; k++)
            dy[k] = k % 3 ? 0x7180 : 0xf180; /* +-2^100 */
        for (int64_t k = 0; k < R * I; k++)
            xh[k] = k % I % 5 ? 0x3f00 : 0x007f;
        for (int64_t i = 0; i < I; i += 5) {
            lg[i] = 1.0f + 0x1p-7f;
            lb[i] = 0.0f;
        }
        ijepa__layernorm_affine_bf16(ijepa__ops_simd(f.ops), R, I, xh, lg, lb, xn);
        ck_assert_uint_eq(xn[0], 0x0080);
        ck_assert(wgrad_ln_operand(&f, R, O, I, dy, xh, lg, lb, "rounded up to 2^-126") != 0.0f);
        free(dy); free(xh); free(lg); free(lb); free(xn);
    }
    float one = 1.0f;
    ck_assert_int_eq(ijepa__matmul_wgrad(f.ops, 1, 32, 32, NULL, NULL, &one, NULL, NULL),
                     IJEPA_ERR_INVALID_ARG);
    ck_assert_int_eq(ijepa__matmul_wgrad(f.ops, 0, 32, 32, NULL, NULL, NULL, NULL, NULL),
                     IJEPA_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "weight gradient"));
    mm_close(&f);
}
END_TEST

/* A weight-gradient kernel itself (amx.h's where AMX is usable, dpbf16.h's
 * where AVX512-BF16 is) against the same reference on a ViT-S-sized
 * product, two kernels on rows that differ only past R (NaN there) give
 * the same result (no row past R is read), and 1 to 5 threads give the
 * same bits. */
typedef void (*wgrad_fn)(int64_t, int64_t, int64_t, const ijepa__bf16 *, const ijepa__bf16 *,
                         const float *, const float *, float *, void *, int);
typedef int64_t (*wgrad_bytes_fn)(int64_t, int64_t, int);

static void wgrad_kernel_checks(wgrad_fn wgrad, wgrad_bytes_fn bytes)
{
    const int64_t R = 3135, O = 384, I = 1536, Rp = 3200; /* odd R: a pair half past R */
    uint16_t *dy = rand_bf16(Rp * O, 720, -1, 1), *x = rand_bf16(Rp * I, 721, -1, 1);
    uint16_t *dy2 = ha(Rp * O), *x2 = ha(Rp * I);
    memcpy(dy2, dy, (size_t)(R * O) * sizeof *dy);
    memcpy(x2, x, (size_t)(R * I) * sizeof *x);
    for (int64_t k = R * O; k < Rp * O; k++)
        dy2[k] = 0x7fc0; /* NaN past R */
    for (int64_t k = R * I; k < Rp * I; k++)
        x2[k] = 0x7fc0;
    const int threads = omp_get_max_threads();
    void *scr = aligned_alloc(64, (size_t)bytes(O, I, threads));
    ck_assert_ptr_nonnull(scr);
    float *g1 = ref_falloc(O * I), *g2 = ref_falloc(O * I);
    memset(g1, 0, (size_t)(O * I) * sizeof *g1);
    memset(g2, 0, (size_t)(O * I) * sizeof *g2);
    wgrad(R, O, I, dy, x, NULL, NULL, g1, scr, threads);
    wgrad(R, O, I, dy2, x2, NULL, NULL, g2, scr, threads);
    ck_assert_msg(!memcmp(g1, g2, (size_t)(O * I) * sizeof *g1), "rows past R were read");
    for (int64_t s = 0; s < 64; s++) { /* 64 outputs against double */
        const int64_t o = (s * 37) % O, i = (s * 101 + 7) % I;
        double acc = 0, m = 0;
        for (int64_t t = 0; t < R; t++) {
            const double p = b2d(dy[t * O + o]) * b2d(x[t * I + i]);
            acc += p;
            m += fabs(p);
        }
        ck_assert_msg(fabs(g1[o * I + i] - acc) <= 2.0 * (double)(R + 4) * REF_U32 * m,
                      "output (%lld, %lld): %.9g, exact %.9g", (long long)o, (long long)i,
                      (double)g1[o * I + i], acc);
    }
    { /* with a LayerNorm operand, rows past R count as zeros, not as its bias */
        float *lg = rand_floats(I, 722, 0.5, 1.5), *lb = rand_floats(I, 723, -1, 1);
        memset(g1, 0, (size_t)(O * I) * sizeof *g1);
        memset(g2, 0, (size_t)(O * I) * sizeof *g2);
        wgrad(R, O, I, dy, x, lg, lb, g1, scr, threads);
        wgrad(R, O, I, dy2, x2, lg, lb, g2, scr, threads);
        ck_assert_msg(!memcmp(g1, g2, (size_t)(O * I) * sizeof *g1),
                      "LayerNorm operand: rows past R were read");
        free(lg); free(lb);
    }
    free(scr); free(dy); free(x); free(dy2); free(x2); free(g1); free(g2);
    /* 1 to 5 threads, bit for bit: uneven splits and threads without
     * outputs, both split directions */
    static const int64_t sh[][3] = {{257, 32, 64},  {511, 64, 32},   {777, 96, 96},
                                    {300, 32, 320}, {513, 320, 32}, {1025, 160, 160}};
    for (size_t s = 0; s < COUNT_OF(sh); s++) {
        const int64_t r = sh[s][0], o = sh[s][1], n = sh[s][2];
        uint16_t *a = rand_bf16(r * o, 730 + s, -1, 1), *b = rand_bf16(r * n, 731 + s, -1, 1);
        void *w = aligned_alloc(64, (size_t)bytes(o, n, 5));
        float *ref = ref_falloc(o * n), *g = ref_falloc(o * n);
        ck_assert_ptr_nonnull(w);
        wgrad(r, o, n, a, b, NULL, NULL, ref, w, 1);
        for (int t = 2; t <= 5; t++) {
            memset(g, 0, (size_t)(o * n) * sizeof *g);
            wgrad(r, o, n, a, b, NULL, NULL, g, w, t);
            ck_assert_msg(!memcmp(g, ref, (size_t)(o * n) * sizeof *g),
                          "R=%lld O=%lld I=%lld: %d threads differ from 1", (long long)r,
                          (long long)o, (long long)n, t);
        }
        free(a); free(b); free(w); free(ref); free(g);
    }
}

START_TEST(test_amx_wgrad)
{
    if (ijepa__amx_usable())
        wgrad_kernel_checks(ijepa__amx_wgrad, ijepa__amx_wgrad_scratch_bytes);
}
END_TEST

START_TEST(test_dpbf16_wgrad)
{
    if (ijepa__dpbf16_usable())
        wgrad_kernel_checks(ijepa__dpbf16_wgrad, ijepa__dpbf16_wgrad_scratch_bytes);
}
END_TEST

/*
 * Batched bf16 products with a bf16 C, no bias (attention's): on the own
 * AMX kernel where usable and on oneDNN's, against a double reference, all
 * four transpositions, tails in M, N and K (past 16 and 32), K below one
 * step, and M, N, K at the kernel's limit (1024) and past it (oneDNN). The
 * own kernel must give the same bits with 1 thread as with all, and must
 * not read past the last item: operands followed by NaN give the same C.
 */
START_TEST(test_matmul_bmm)
{
    static const int64_t sh[][4] = {/* batch, M, N, K */
        {1, 1, 1, 1},    {3, 17, 33, 15},  {2, 49, 49, 64},  {5, 104, 64, 104},
        {4, 96, 16, 96}, {2, 200, 200, 16}, {1, 33, 7, 70},  {3, 16, 16, 32},
        {1, 1024, 24, 40}, {1, 20, 1025, 8}};
    mm_fx f;
    mm_open(&f);
    const int threads = omp_get_max_threads();
    for (size_t s = 0; s < COUNT_OF(sh); s++)
        for (int variant = 0; variant < 4; variant++) {
            const int64_t b = sh[s][0], M = sh[s][1], N = sh[s][2], K = sh[s][3];
            const int ta = variant & 1, tb = variant >> 1;
            const float alpha = variant == 1 ? 0.125f : 1.0f;
            const int64_t nA = b * M * K, nB = b * K * N, nC = b * M * N;
            uint16_t *A = rand_bf16(nA + 64, 740 + s, -1, 1);
            uint16_t *B = rand_bf16(nB + 64, 741 + s, -1, 1);
            double *Ad = b2d_new(A, nA), *Bd = b2d_new(B, nB), *want = ref_dalloc(nC);
            double *aA = ref_dalloc(nA), *aB = ref_dalloc(nB), *S = ref_dalloc(nC);
            for (int64_t i = 0; i < nC; i++) want[i] = S[i] = 0;
            ref_matmul(b, M, N, K, Ad, ta, Bd, tb, NULL, alpha, 0, want);
            ref_dabs(aA, Ad, nA);
            ref_dabs(aB, Bd, nB);
            ref_matmul(b, M, N, K, aA, ta, aB, tb, NULL, alpha, 0, S);
            for (int64_t i = 0; i < nC; i++) S[i] *= 2.0 * (double)(K + 4) * REF_U32;
            uint16_t *C[4];
            for (int v = 0; v < 4; v++) { /* own (all threads, 1 thread, NaN after), oneDNN */
                C[v] = ha(nC);
                if (v == 2) { /* the values past the last item become NaN */
                    for (int64_t i = nA; i < nA + 64; i++) A[i] = 0x7fc0;
                    for (int64_t i = nB; i < nB + 64; i++) B[i] = 0x7fc0;
                }
                ijepa__ops_set_amx_bmm(f.ops, v < 3);
                omp_set_num_threads(v == 1 ? 1 : threads);
                const int rc = ijepa__matmul_x(f.ops, b, M, N, K, A, ta, B, tb, NULL, alpha, 0,
                                               C[v], IJEPA__MM_BF16 | IJEPA__MM_OUT_BF16);
                ck_assert_msg(rc == IJEPA_OK, "%d %s", rc, ijepa_last_error());
                const ref_cmp c = cmp_bf16(C[v], want, nC, 0, RT16, S);
                expect_close(&c, "bmm b=%lld M=%lld N=%lld K=%lld ta=%d tb=%d variant %d",
                             (long long)b, (long long)M, (long long)N, (long long)K, ta, tb, v);
            }
            omp_set_num_threads(threads);
            ijepa__ops_set_amx_bmm(f.ops, 1);
            for (int v = 1; v < 3; v++)
                ck_assert_msg(!memcmp(C[0], C[v], (size_t)nC * sizeof *C[0]),
                              "bmm b=%lld M=%lld N=%lld K=%lld ta=%d tb=%d: variant %d differs",
                              (long long)b, (long long)M, (long long)N, (long long)K, ta, tb, v);
            for (int v = 0; v < 4; v++)
                free(C[v]);
            free(A); free(B); free(Ad); free(Bd); free(want); free(aA); free(aB); free(S);
        }
    mm_close(&f);
}
END_TEST

/*
 * ijepa__matmul_bf16_to: items written where the heads of a sequence
 * merge, as a third of a [S, T, 3 H hd] array (the map the attention
 * backward uses for dq, dk, dv, and one starting at row 2 of each group of
 * T + 3 rows, as for a window), on the own kernel and on the fallback: the
 * same bits as the contiguous product, moved; nothing else written.
 */
START_TEST(test_matmul_bf16_to)
{
    static const int64_t sh[][5] = {/* S, H, M, N(hd), K */
        {3, 2, 17, 32, 40}, {2, 3, 49, 16, 49}, {1, 1, 5, 8, 3}};
    mm_fx f;
    mm_open(&f);
    for (size_t s = 0; s < COUNT_OF(sh); s++)
        for (int own = 0; own < 2; own++)
            for (int win = 0; win < 2; win++) {
                const int64_t S = sh[s][0], H = sh[s][1], M = sh[s][2], N = sh[s][3];
                const int64_t K = sh[s][4], b = S * H, T = M + 3 * win, q0 = 2 * win;
                const int64_t ld = 3 * H * N, nC = S * T * ld;
                uint16_t *A = rand_bf16(b * M * K, 780 + s, -1, 1);
                uint16_t *B = rand_bf16(b * K * N, 781 + s, -1, 1);
                uint16_t *ref = ha(b * M * N), *C = ha(nC);
                ijepa__ops_set_amx_bmm(f.ops, own);
                int rc = ijepa__matmul_x(f.ops, b, M, N, K, A, own, B, 0, NULL, 0.25f, 0, ref,
                                         IJEPA__MM_BF16 | IJEPA__MM_OUT_BF16);
                ck_assert_msg(rc == IJEPA_OK, "%d %s", rc, ijepa_last_error());
                for (int64_t i = 0; i < nC; i++)
                    C[i] = 0x7fc1; /* a NaN that no product gives */
                rc = ijepa__matmul_bf16_to(f.ops, b, M, N, K, A, own, B, 0, 0.25f,
                                           C + q0 * ld + H * N, H, T * ld, N, ld);
                ck_assert_msg(rc == IJEPA_OK, "%d %s", rc, ijepa_last_error());
                int64_t written = 0;
                for (int64_t i = 0; i < nC; i++)
                    written += C[i] != 0x7fc1;
                ck_assert_int_eq(written, b * M * N);
                for (int64_t it = 0; it < b; it++)
                    for (int64_t m = 0; m < M; m++)
                        ck_assert_msg(!memcmp(C + (it / H * T + q0 + m) * ld + H * N + it % H * N,
                                              ref + (it * M + m) * N, (size_t)N * sizeof *C),
                                      "S=%lld H=%lld M=%lld own=%d win=%d: item %lld row %lld",
                                      (long long)S, (long long)H, (long long)M, own, win,
                                      (long long)it, (long long)m);
                free(A); free(B); free(ref); free(C);
            }
    ijepa__ops_set_amx_bmm(f.ops, 1);
    uint16_t x[64] = {0};
    ck_assert_int_eq(ijepa__matmul_bf16_to(f.ops, 3, 2, 2, 2, x, 0, x, 0, 1.0f, x, 2, 8, 2, 8),
                     IJEPA_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "output map"));
    ck_assert_int_eq(ijepa__matmul_bf16_to(f.ops, 2, 2, 4, 2, x, 0, x, 0, 1.0f, x, 1, 8, 0, 3),
                     IJEPA_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "output map"));
    ck_assert_int_eq(ijepa__matmul_bf16_to(f.ops, 2, 2, 2, 2, x, 0, x, 0, 1.0f, x, 0, 8, 2, 8),
                     IJEPA_ERR_INVALID_ARG);
    ck_assert_int_eq(ijepa__matmul_bf16_to(f.ops, 2, 2, 2, 2, x, 0, x, 0, 1.0f, x, 2, -8, 2, 8),
                     IJEPA_ERR_INVALID_ARG);
    ck_assert_int_eq(ijepa__matmul_bf16_to(f.ops, 2, 2, 2, 2, x, 0, x, 0, 1.0f, x, 2, 8, -2, 8),
                     IJEPA_ERR_INVALID_ARG);
    mm_close(&f);
}
END_TEST

/*
 * Attention item by item (ijepa__attention_fwd16 / _bwd16) against the
 * batched calls it replaces (ijepa__matmul_x, ijepa__softmax_bf16,
 * ijepa__matmul_bf16_to, ijepa__softmax_bwd_bf16, as the blocks make
 * them): the same bits in P, in the output (merged heads and contiguous),
 * in dq, dk and dv, with padding keys (valid < T), a window of queries
 * (Tq < T, dq on its rows; a single query), widths 16, 32, 40 and 64, on
 * 1 and 3 threads, the forward also without P (its scores in scratch);
 * nothing written outside. Bad sizes and maps are refused.
 */
START_TEST(test_attention_fused)
{
    static const int64_t sh[][6] = {/* S, H, T, Tq, hd, valid */
                                    {2, 3, 40, 40, 32, 37},
                                    {1, 2, 104, 100, 64, 104},
                                    {3, 1, 17, 17, 16, 17},
                                    {2, 2, 70, 64, 64, 66},
                                    {2, 2, 32, 1, 32, 30},
                                    {1, 3, 33, 20, 40, 29}};
    mm_fx f;
    mm_open(&f);
    const int threads = omp_get_max_threads();
    if (!ijepa__ops_attention_own(f.ops, 40, 40, 32)) {
        uint16_t x[16] = {0};
        ck_assert_int_eq(
            ijepa__attention_fwd16(f.ops, 1, 2, 2, 2, 2, 1.0f, x, x, x, x, x, 0, 0, 0, 0),
            IJEPA_ERR_UNSUPPORTED);
        ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "own kernels"));
        mm_close(&f);
        return;
    }
    for (size_t c = 0; c < COUNT_OF(sh); c++) {
        const int64_t S = sh[c][0], H = sh[c][1], T = sh[c][2], Tq = sh[c][3], hd = sh[c][4];
        const int64_t V = sh[c][5], B = S * H, D = H * hd, q0 = T - Tq;
        const float scale = 1.0f / sqrtf((float)hd);
        const int flags = IJEPA__MM_BF16 | IJEPA__MM_OUT_BF16;
        uint16_t *q = rand_bf16(B * Tq * hd, 900 + c, -2, 2),
                 *k = rand_bf16(B * T * hd, 901 + c, -2, 2);
        uint16_t *v = rand_bf16(B * T * hd, 902 + c, -1, 1),
                 *dO = rand_bf16(B * Tq * hd, 903 + c, -1, 1);
        uint16_t *Pr = ha(B * Tq * T), *P = ha(B * Tq * T), *o = ha(S * Tq * D),
                 *orf = ha(S * Tq * D);
        uint16_t *oc = ha(B * Tq * hd), *ocr = ha(B * Tq * hd), *dP = ha(B * Tq * T);
        uint16_t *g = ha(S * T * 3 * D), *gr = ha(S * T * 3 * D);
        /* the batched calls */
        ck_assert_int_eq(
            ijepa__matmul_x(f.ops, B, Tq, T, hd, q, 0, k, 1, NULL, scale, 0, Pr, flags), IJEPA_OK);
        ijepa__softmax_bf16(ijepa__ops_simd(f.ops), B * Tq, T, V, Pr, Pr);
        ck_assert_int_eq(
            ijepa__matmul_bf16_to(f.ops, B, Tq, hd, T, Pr, 0, v, 0, 1.0f, orf, H, Tq * D, hd, D),
            IJEPA_OK);
        ck_assert_int_eq(
            ijepa__matmul_x(f.ops, B, Tq, hd, T, Pr, 0, v, 0, NULL, 1.0f, 0, ocr, flags), IJEPA_OK);
        for (int64_t i = 0; i < S * T * 3 * D; i++)
            gr[i] = g[i] = 0x7fc1; /* a NaN no product gives */
        ck_assert_int_eq(
            ijepa__matmul_x(f.ops, B, Tq, T, hd, dO, 0, v, 1, NULL, 1.0f, 0, dP, flags), IJEPA_OK);
        ck_assert_int_eq(ijepa__matmul_bf16_to(f.ops, B, T, hd, Tq, Pr, 1, dO, 0, 1.0f, gr + 2 * D,
                                               H, T * 3 * D, hd, 3 * D),
                         IJEPA_OK);
        ijepa__softmax_bwd_bf16(ijepa__ops_simd(f.ops), B * Tq, T, Pr, dP, dP);
        ck_assert_int_eq(ijepa__matmul_bf16_to(f.ops, B, Tq, hd, T, dP, 0, k, 0, scale,
                                               gr + q0 * 3 * D, H, T * 3 * D, hd, 3 * D),
                         IJEPA_OK);
        ck_assert_int_eq(ijepa__matmul_bf16_to(f.ops, B, T, hd, Tq, dP, 1, q, 0, scale, gr + D, H,
                                               T * 3 * D, hd, 3 * D),
                         IJEPA_OK);
        for (int t = 1; t <= 3; t += 2) {
            omp_set_num_threads(t);
            memset(P, 0xff, (size_t)(B * Tq * T) * sizeof *P);
            memset(o, 0xff, (size_t)(S * Tq * D) * sizeof *o);
            memset(oc, 0xff, (size_t)(B * Tq * hd) * sizeof *oc);
            for (int64_t i = 0; i < S * T * 3 * D; i++)
                g[i] = 0x7fc1;
            ck_assert_int_eq(ijepa__attention_fwd16(f.ops, B, Tq, T, hd, V, scale, q, k, v, P, o, H,
                                                    Tq * D, hd, D),
                             IJEPA_OK);
            ck_assert_msg(!memcmp(P, Pr, (size_t)(B * Tq * T) * sizeof *P),
                          "case %zu, %d threads: P", c, t);
            ck_assert_msg(!memcmp(o, orf, (size_t)(S * Tq * D) * sizeof *o),
                          "case %zu, %d threads: output", c, t);
            ck_assert_int_eq(
                ijepa__attention_fwd16(f.ops, B, Tq, T, hd, V, scale, q, k, v, P, oc, 0, 0, 0, 0),
                IJEPA_OK);
            ck_assert_msg(!memcmp(oc, ocr, (size_t)(B * Tq * hd) * sizeof *oc),
                          "case %zu, %d threads: contiguous output", c, t);
            /* no P (no backward): the scores in scratch, the same outputs */
            memset(o, 0xff, (size_t)(S * Tq * D) * sizeof *o);
            memset(oc, 0xff, (size_t)(B * Tq * hd) * sizeof *oc);
            ck_assert_int_eq(ijepa__attention_fwd16(f.ops, B, Tq, T, hd, V, scale, q, k, v, NULL,
                                                    o, H, Tq * D, hd, D),
                             IJEPA_OK);
            ck_assert_msg(!memcmp(o, orf, (size_t)(S * Tq * D) * sizeof *o),
                          "case %zu, %d threads: output without P", c, t);
            ck_assert_int_eq(ijepa__attention_fwd16(f.ops, B, Tq, T, hd, V, scale, q, k, v, NULL,
                                                    oc, 0, 0, 0, 0),
                             IJEPA_OK);
            ck_assert_msg(!memcmp(oc, ocr, (size_t)(B * Tq * hd) * sizeof *oc),
                          "case %zu, %d threads: contiguous output without P", c, t);
            ck_assert_int_eq(ijepa__attention_bwd16(f.ops, B, Tq, T, hd, scale, q, k, v, P, dO,
                                                    g + q0 * 3 * D, g + D, g + 2 * D, H, T * 3 * D,
                                                    hd, 3 * D),
                             IJEPA_OK);
            ck_assert_msg(!memcmp(g, gr, (size_t)(S * T * 3 * D) * sizeof *g),
                          "case %zu, %d threads: dq, dk, dv", c, t);
        }
        omp_set_num_threads(threads);
        free(q);
        free(k);
        free(v);
        free(dO);
        free(Pr);
        free(P);
        free(o);
        free(orf);
        free(oc);
        free(ocr);
        free(dP);
        free(g);
        free(gr);
    }
    uint16_t x[64] = {0};
    ck_assert_int_eq(ijepa__attention_fwd16(f.ops, 0, 2, 2, 2, 2, 1.0f, x, x, x, x, x, 0, 0, 0, 0),
                     IJEPA_ERR_INVALID_ARG);
    ck_assert_int_eq(ijepa__attention_fwd16(f.ops, 2, 2, 2, 2, 3, 1.0f, x, x, x, x, x, 0, 0, 0, 0),
                     IJEPA_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "valid"));
    ck_assert_int_eq(ijepa__attention_fwd16(f.ops, 3, 2, 2, 2, 2, 1.0f, x, x, x, x, x, 2, 8, 2, 8),
                     IJEPA_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "output map"));
    ck_assert_int_eq(
        ijepa__attention_bwd16(f.ops, 2, 2, 2, 2, 1.0f, x, x, x, x, x, x, x, x, 0, 8, 2, 8),
        IJEPA_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "output map"));
    ck_assert_int_eq(
        ijepa__attention_bwd16(f.ops, 2, 2, 2, 2, 1.0f, x, x, x, x, x, x, x, x, 2, 8, 2, 1),
        IJEPA_ERR_INVALID_ARG);
    /* the batched products on oneDNN: nothing to do item by item */
    ijepa__ops_set_amx_bmm(f.ops, 0);
    ck_assert_int_eq(ijepa__ops_attention_own(f.ops, 2, 2, 2), 0);
    ck_assert_int_eq(ijepa__attention_fwd16(f.ops, 2, 2, 2, 2, 2, 1.0f, x, x, x, x, x, 0, 0, 0, 0),
                     IJEPA_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "own kernels"));
    ijepa__ops_set_amx_bmm(f.ops, 1);
    mm_close(&f);
}
END_TEST

/* n bf16 values ending right where an inaccessible page begins, so that a
 * read past them faults (tile loads are not seen by AddressSanitizer). */
typedef struct guarded {
    void *base;
    size_t len;
    uint16_t *p;
} guarded;

static void guarded_open(guarded *g, const uint16_t *from, int64_t n)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE), bytes = (size_t)n * sizeof *from;
    g->len = (bytes + page - 1) / page * page + page;
    g->base = mmap(NULL, g->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(g->base, MAP_FAILED);
    ck_assert_int_eq(mprotect((char *)g->base + g->len - page, page, PROT_NONE), 0);
    g->p = (uint16_t *)(void *)((char *)g->base + g->len - page - bytes);
    memcpy(g->p, from, bytes);
}

static void guarded_close(guarded *g) { munmap(g->base, g->len); }

typedef void (*bmm_fn)(int64_t, int64_t, int64_t, int64_t, const ijepa__bf16 *, int,
                       const ijepa__bf16 *, int, float, ijepa__bf16 *, const ijepa__amx_cmap *,
                       void *, int);
typedef int64_t (*bmm_bytes_fn)(int64_t, int64_t, int64_t, int);

/* A batched-product kernel on the shapes sh[0..n) (b, M, N, K), all four
 * transpositions, seeds from seed: with 1 thread close to the double
 * reference (each output within 2 (K + 4) u32 of the sum of the products'
 * magnitudes, then one bf16 rounding: float32 sums of exact bf16 products
 * in any order); with the operands against an inaccessible page, the same
 * bits (nothing read past them); on 2 to 5 threads, the same bits. */
static void bmm_kernel_checks(bmm_fn bmm, bmm_bytes_fn bytes, const int64_t (*sh)[4], size_t n,
                              unsigned seed)
{
    for (size_t s = 0; s < n; s++)
        for (int variant = 0; variant < 4; variant++) {
            const int64_t b = sh[s][0], M = sh[s][1], N = sh[s][2], K = sh[s][3];
            const int ta = variant & 1, tb = variant >> 1;
            const int64_t nA = b * M * K, nB = b * K * N, nC = b * M * N;
            uint16_t *A = rand_bf16(nA, seed + 2 * s, -1, 1);
            uint16_t *B = rand_bf16(nB, seed + 2 * s + 1, -1, 1);
            uint16_t *ref = ha(nC), *C = ha(nC);
            void *w = aligned_alloc(64, (size_t)bytes(M, N, K, 5));
            ck_assert_ptr_nonnull(w);
            bmm(b, M, N, K, A, ta, B, tb, 0.5f, ref, NULL, w, 1);
            double *Ad = b2d_new(A, nA), *Bd = b2d_new(B, nB), *want = ref_dalloc(nC);
            double *aA = ref_dalloc(nA), *aB = ref_dalloc(nB), *S = ref_dalloc(nC);
            for (int64_t i = 0; i < nC; i++) want[i] = S[i] = 0;
            ref_matmul(b, M, N, K, Ad, ta, Bd, tb, NULL, 0.5, 0, want);
            ref_dabs(aA, Ad, nA);
            ref_dabs(aB, Bd, nB);
            ref_matmul(b, M, N, K, aA, ta, aB, tb, NULL, 0.5, 0, S);
            for (int64_t i = 0; i < nC; i++) S[i] *= 2.0 * (double)(K + 4) * REF_U32;
            const ref_cmp c = cmp_bf16(ref, want, nC, 0, RT16, S);
            expect_close(&c, "bmm kernel b=%lld M=%lld N=%lld K=%lld ta=%d tb=%d", (long long)b,
                         (long long)M, (long long)N, (long long)K, ta, tb);
            guarded ga, gb;
            guarded_open(&ga, A, nA);
            guarded_open(&gb, B, nB);
            bmm(b, M, N, K, ga.p, ta, gb.p, tb, 0.5f, C, NULL, w, 2);
            ck_assert_msg(!memcmp(C, ref, (size_t)nC * sizeof *C), "guarded operands");
            guarded_close(&ga);
            guarded_close(&gb);
            for (int t = 2; t <= 5; t++) {
                memset(C, 0xff, (size_t)nC * sizeof *C);
                bmm(b, M, N, K, A, ta, B, tb, 0.5f, C, NULL, w, t);
                ck_assert_msg(!memcmp(C, ref, (size_t)nC * sizeof *C),
                              "b=%lld M=%lld N=%lld K=%lld ta=%d tb=%d: %d threads differ from 1",
                              (long long)b, (long long)M, (long long)N, (long long)K, ta, tb, t);
            }
            free(A); free(B); free(ref); free(C); free(w);
            free(Ad); free(Bd); free(want); free(aA); free(aB); free(S);
        }
}

/* The AMX kernel itself (where usable), by bmm_kernel_checks: 1 to 5
 * threads on uneven shares of items and on more threads than items. The
 * last shape, transposed A and plain B, is done as C^T = B^T A^T
 * (bm_swap), the others plainly. */
START_TEST(test_amx_bmm)
{
    if (!ijepa__amx_usable())
        return;
    static const int64_t sh[][4] = {{7, 40, 72, 64}, {3, 72, 64, 72}, {13, 16, 33, 17},
                                    {2, 24, 40, 96}, {3, 75, 24, 41}, {3, 100, 16, 90}};
    bmm_kernel_checks(ijepa__amx_bmm, ijepa__amx_bmm_scratch_bytes, sh, COUNT_OF(sh), 760);
}
END_TEST

/* The AVX512-BF16 kernel (where usable), as test_amx_bmm, with odd K in
 * both orders of A, single rows and columns, and 197 tokens; and its
 * rounding of a result below float32's normal range. */
START_TEST(test_dpbf16_bmm)
{
    if (!ijepa__dpbf16_usable())
        return;
    static const int64_t sh[][4] = {{7, 40, 72, 64}, {3, 72, 64, 72}, {13, 16, 33, 17},
                                    {2, 24, 40, 96}, {3, 75, 24, 41}, {3, 100, 16, 90},
                                    {2, 1, 1, 1},    {4, 197, 32, 197}, {2, 31, 200, 33}};
    bmm_kernel_checks(ijepa__dpbf16_bmm, ijepa__dpbf16_bmm_scratch_bytes, sh, COUNT_OF(sh), 770);
    /* a result below float32's normal range keeps its bf16 value, as
     * ijepa__bf16_round gives it: 2^-60 2^-60 2^-10 = 2^-130, bf16 0x0008
     * (VCVTNEPS2BF16 alone would flush it to 0) */
    const uint16_t tiny[2] = {0x2180, 0x2180};
    uint16_t out[2] = {0xffff, 0xffff};
    void *w = aligned_alloc(64, (size_t)ijepa__dpbf16_bmm_scratch_bytes(1, 1, 1, 1));
    ck_assert_ptr_nonnull(w);
    ijepa__dpbf16_bmm(2, 1, 1, 1, tiny, 0, tiny, 0, 0x1p-10f, out, NULL, w, 1);
    ck_assert_uint_eq(out[0], 0x0008);
    ck_assert_uint_eq(out[1], 0x0008);
    free(w);
}
END_TEST

/*
 * The kernel on B in every blocked layout it reads (16-, 32- and 64-column
 * blocks, along K first or along N first): the same sums, so the same
 * bits, with N inside one 16-column block, past one (the last 32-column
 * block's second tile then lies past Np in 16-column blocks and must not be
 * read), and a ViT-S width. The packed B ends where an inaccessible page
 * begins. The trainer packs in 16-column blocks along K (one tile per
 * block) where the kernel runs, oneDNN's 64-column blocks elsewhere.
 */
START_TEST(test_amx_layouts)
{
    if (!ijepa__amx_usable())
        return;
    static const int64_t sh[][3] = {/* M, K, N */
        {70, 96, 48}, {33, 64, 16}, {64, 40, 33}, {100, 130, 50}, {40, 384, 1152}, {5, 32, 1}};
    const int lvl = nlevels() - 1;
    for (size_t s = 0; s < COUNT_OF(sh); s++) {
        const int64_t M = sh[s][0], K = sh[s][1], N = sh[s][2];
        float *B = pack_values(K * N, 780 + s, 0), *bias = rand_floats(N, 781 + s, -1, 1);
        uint16_t *A = rand_bf16(M * K, 782 + s, -1, 1), *ref = NULL;
        void *w = aligned_alloc(64, (size_t)ijepa__amx_scratch_bytes(N, K, 2));
        ck_assert_ptr_nonnull(w);
        const ijepa__amx_epi e = {1.0f, bias, NULL, 0, 1, NULL, {NULL, NULL, NULL}, NULL, 0};
        for (int64_t nb = 16; nb <= 64; nb *= 2)
            for (int order = 0; order < 2; order++) {
                ijepa__blk_fmt f = {.nb = nb, .Kp = (K + 31) / 32 * 32,
                                    .Np = (N + nb - 1) / nb * nb};
                f.sk = order ? f.Np * 32 : 32 * nb;
                f.sn = order ? 32 * nb : f.Kp * nb;
                uint16_t *Bp = ha(f.Kp * f.Np), *C = ha(M * N);
                ijepa__pack_bf16(lvl, B, 0, K, N, &f, Bp);
                guarded g;
                guarded_open(&g, Bp, f.Kp * f.Np);
                ijepa__amx_matmul(M, N, K, A, NULL, g.p, &f, &e, C, w, 2);
                guarded_close(&g);
                free(Bp);
                if (!ref) {
                    ref = C;
                    continue;
                }
                ck_assert_msg(!memcmp(C, ref, (size_t)(M * N) * sizeof *C),
                              "M=%lld K=%lld N=%lld: %lld-column blocks (order %d) differ from "
                              "16-column blocks", (long long)M, (long long)K, (long long)N,
                              (long long)nb, order);
                free(C);
            }
        free(B); free(bias); free(A); free(ref); free(w);
    }
}
END_TEST

/*
 * The head folds against the passes they replace, bit for bit, with head
 * width 64 (offsets inside a head), T = 49 (sequences across 32-row
 * blocks), a bias: heads_out as the packed product then
 * ijepa__heads_split3_bf16 (N = 3 D) or ijepa__heads_split_bf16 (N = D);
 * heads_in as ijepa__heads_merge_bf16 then the product with an addend, with
 * N = 100 (a column tail), also with the addend in C (in place). Both with M
 * of one or two 32-row blocks (column ranges shared out between items,
 * starting inside a head) and with K over two passes (more than 48 steps of
 * 32).
 */
START_TEST(test_matmul_heads)
{
    mm_fx f;
    mm_open(&f);
    if (!ijepa__ops_fusable(f.ops, 128, 384, 64)) {
        ck_assert(!ijepa__ops_bf16_native(f.ops) || !ijepa__ops_amx(f.ops));
        mm_close(&f);
        return;
    }
    const int fl = IJEPA__MM_BF16 | IJEPA__MM_B_PACKED | IJEPA__MM_OUT_BF16;
    static const int64_t out_cases[][4] = {/* S, T, K, c: dO (c 1), q k v (c 3) */
        {3, 49, 96, 1}, {3, 49, 96, 3}, {1, 32, 96, 3}, {1, 49, 1664, 3}, {3, 49, 1600, 1}};
    for (size_t u = 0; u < COUNT_OF(out_cases); u++) { /* heads_out */
        const int64_t S = out_cases[u][0], T = out_cases[u][1], K = out_cases[u][2];
        const int c = (int)out_cases[u][3];
        const int64_t H = 2, hd = 64, D = H * hd, M = S * T, N = c * D;
        float *B = pack_values(K * N, 500 + u, 0), *bi = rand_floats(N, 501 + u, -1, 1);
        void *Bp = pack_buf(K, N);
        ck_assert_int_eq(ijepa__pack_b(f.ops, K, N, B, 1, Bp), IJEPA_OK);
        uint16_t *A = rand_bf16(M * K, 502 + u, -1, 1), *C = ha(M * N);
        uint16_t *want = ha(M * N), *got = ha(M * N);
        /* the product on oneDNN; with the tiles emulated on the own kernel
         * unfused, since oneDNN's AVX512-BF16 products past K 512 do not
         * always sum in order (docs/architecture.md) */
        ijepa__ops_set_amx(f.ops, ijepa__amx_emulated() && K > 512);
        ck_assert_int_eq(ijepa__matmul_x(f.ops, 1, M, N, K, A, 0, Bp, 1, bi, 1.0f, 0, C, fl),
                         IJEPA_OK);
        if (c == 3)
            ijepa__heads_split3_bf16(C, S, T, H, hd, want, want + M * D, want + 2 * M * D);
        else
            ijepa__heads_split_bf16(C, S, T, H, hd, want);
        ijepa__ops_set_amx(f.ops, 1);
        const ijepa__mm_fuse fz = {T, H, hd, 0, {got, got + M * D, got + 2 * M * D}, NULL, 0};
        ck_assert_int_eq(ijepa__matmul_fused(f.ops, M, N, K, A, Bp, bi, NULL, NULL, fl, &fz),
                         IJEPA_OK);
        ck_assert_msg(!memcmp(got, want, (size_t)(M * N) * sizeof *got),
                      "heads_out, %d arrays, S %lld T %lld K %lld: not the split of the product",
                      c, (long long)S, (long long)T, (long long)K);
        free(B); free(bi); free(Bp); free(A); free(C); free(want); free(got);
    }
    static const int64_t in_cases[][3] = {{3, 49, 7}, {1, 32, 26}, {3, 49, 26}}; /* S, T, H */
    for (size_t u = 0; u < COUNT_OF(in_cases); u++) { /* heads_in */
        const int64_t S = in_cases[u][0], T = in_cases[u][1], H = in_cases[u][2];
        const int64_t hd = 64, D = H * hd, M = S * T, K = D, N = 100;
        float *B = pack_values(K * N, 510 + u, 0), *bi = rand_floats(N, 511 + u, -1, 1);
        float *add = rand_floats(M * N, 512 + u, -1, 1), *want = ref_falloc(M * N);
        float *got = ref_falloc(M * N);
        void *Bp = pack_buf(K, N);
        ck_assert_int_eq(ijepa__pack_b(f.ops, K, N, B, 1, Bp), IJEPA_OK);
        uint16_t *o = rand_bf16(M * K, 513 + u, -1, 1), *ctx = ha(M * K);
        ijepa__heads_merge_bf16(o, S, T, H, hd, ctx);
        ijepa__ops_set_amx(f.ops, ijepa__amx_emulated() && K > 512); /* as heads_out */
        ck_assert_int_eq(ijepa__matmul_add(f.ops, 1, M, N, K, ctx, 0, Bp, 1, bi, 1.0f, 0, add,
                                           want, IJEPA__MM_BF16 | IJEPA__MM_B_PACKED),
                         IJEPA_OK);
        ijepa__ops_set_amx(f.ops, 1);
        const ijepa__mm_fuse fz = {T, H, hd, 1, {NULL, NULL, NULL}, NULL, 0};
        for (int in_place = 0; in_place < 2; in_place++) {
            /* in place, as a block adds into its residual stream: addend == C */
            if (in_place)
                memcpy(got, add, (size_t)(M * N) * sizeof *got);
            ck_assert_int_eq(ijepa__matmul_fused(f.ops, M, N, K, o, Bp, bi, in_place ? got : add,
                                                 got, IJEPA__MM_BF16 | IJEPA__MM_B_PACKED, &fz),
                             IJEPA_OK);
            ck_assert_msg(!memcmp(got, want, (size_t)(M * N) * sizeof *got),
                          "heads_in%s, S %lld T %lld H %lld: not the product of the merged heads",
                          in_place ? " in place" : "", (long long)S, (long long)T, (long long)H);
        }
        free(B); free(bi); free(add); free(want); free(got); free(Bp); free(o); free(ctx);
    }
    mm_close(&f);
}
END_TEST

/* ijepa__matmul_fused refuses what its folds do not fit (IJEPA_ERR_INVALID_ARG)
 * and, where the own kernel is not in use, everything
 * (IJEPA_ERR_UNSUPPORTED), with a message naming it. */
START_TEST(test_matmul_fused_errors)
{
    mm_fx f;
    mm_open(&f);
    const int64_t M = 64, K = 64, N = 192;
    float *B = pack_values(K * N, 400, 0);
    void *Bp = pack_buf(K, N);
    ck_assert_int_eq(ijepa__pack_b(f.ops, K, N, B, 1, Bp), IJEPA_OK);
    uint16_t *A = rand_bf16(M * K, 401, -1, 1), *C = ha(M * N), *q = ha(M * N);
    const int fl = IJEPA__MM_BF16 | IJEPA__MM_B_PACKED, fl16 = fl | IJEPA__MM_OUT_BF16;
    const ijepa__mm_fuse ok = {16, 2, 32, 0, {q, q + M * 64, q + M * 128}, NULL, 0};
    const ijepa__mm_fuse gelu = {0, 0, 0, 0, {NULL, NULL, NULL}, C, 0};
    const ijepa__mm_fuse rows = {15, 2, 32, 0, {q, q + M * 64, q + M * 128}, NULL, 0}; /* 64 % 15 */
    const ijepa__mm_fuse two = {16, 2, 32, 0, {q, q + M * 64, NULL}, NULL, 0}; /* N = 3 D */
    const ijepa__mm_fuse hd16 = {16, 4, 16, 0, {q, q + M * 64, q + M * 128}, NULL, 0};
    const int fusable = ijepa__ops_fusable(f.ops, K, N, 32);
    ck_assert_int_eq(fusable, ijepa__ops_bf16_native(f.ops) && ijepa__ops_amx(f.ops));
    ck_assert_int_eq(ijepa__ops_fusable(f.ops, K, N, 16), 0);
    ck_assert_int_eq(ijepa__matmul_fused(f.ops, M, N, K, A, Bp, NULL, NULL, C, fl16, &ok),
                     fusable ? IJEPA_OK : IJEPA_ERR_UNSUPPORTED);
    if (!fusable)
        ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "own AMX kernel"));
    ck_assert_int_eq(ijepa__matmul_fused(f.ops, M, N, K, A, Bp, NULL, NULL, C, fl, &gelu),
                     IJEPA_ERR_INVALID_ARG); /* GELU of a float32 C */
    ck_assert_ptr_nonnull(strstr(ijepa_last_error(), "fused matmul"));
    ck_assert_int_eq(ijepa__matmul_fused(f.ops, M, N, K, A, Bp, NULL, NULL, C, fl16, &rows),
                     IJEPA_ERR_INVALID_ARG);
    ck_assert_int_eq(ijepa__matmul_fused(f.ops, M, N, K, A, Bp, NULL, NULL, C, fl16, &two),
                     IJEPA_ERR_INVALID_ARG);
    ck_assert_int_eq(ijepa__matmul_fused(f.ops, M, N, K, A, Bp, NULL, NULL, C, fl16, &hd16),
                     IJEPA_ERR_INVALID_ARG);
    ck_assert_int_eq(ijepa__matmul_fused(f.ops, M, N, K, A, Bp, NULL, NULL, C,
                                         fl16 | IJEPA__MM_GELU, &ok), IJEPA_ERR_INVALID_ARG);
    ck_assert_int_eq(ijepa__matmul_fused(f.ops, 0, N, K, A, Bp, NULL, NULL, C, fl16, &ok),
                     IJEPA_ERR_INVALID_ARG);
    /* C may be left out only when GELU (or the heads) take the result */
    const ijepa__mm_fuse none = {0, 0, 0, 0, {NULL, NULL, NULL}, NULL, 0};
    ck_assert_int_eq(ijepa__matmul_fused(f.ops, M, N, K, A, Bp, NULL, NULL, NULL, fl16, &none),
                     IJEPA_ERR_INVALID_ARG);
    if (fusable) { /* GELU only: the values of a full call's second output */
        uint16_t *g1 = ha(M * N), *g2 = ha(M * N);
        const ijepa__mm_fuse f1 = {0, 0, 0, 0, {NULL, NULL, NULL}, g1, 0};
        const ijepa__mm_fuse f2 = {0, 0, 0, 0, {NULL, NULL, NULL}, g2, 0};
        ck_assert_int_eq(ijepa__matmul_fused(f.ops, M, N, K, A, Bp, NULL, NULL, C, fl16, &f1),
                         IJEPA_OK);
        ck_assert_int_eq(ijepa__matmul_fused(f.ops, M, N, K, A, Bp, NULL, NULL, NULL, fl16, &f2),
                         IJEPA_OK);
        ck_assert(!memcmp(g1, g2, (size_t)(M * N) * sizeof *g1));
        const ijepa__bf16 *tab = ijepa__gelu_table();
        for (int64_t i = 0; i < M * N; i++)
            ck_assert_uint_eq(g1[i], tab[C[i]]);
        /* keep: the same bits, streamed where lines are whole and aligned
         * (at kc + 1 none is), with GELU alongside */
        uint16_t *kc = aligned_alloc(64, (size_t)(M * N + 32) * sizeof *kc);
        ck_assert_ptr_nonnull(kc);
        const ijepa__mm_fuse fk = {0, 0, 0, 0, {NULL, NULL, NULL}, g2, 1};
        for (int off = 0; off < 2; off++) {
            memset(g2, 0, (size_t)(M * N) * sizeof *g2);
            ck_assert_int_eq(ijepa__matmul_fused(f.ops, M, N, K, A, Bp, NULL, NULL, kc + off, fl16,
                                                 &fk),
                             IJEPA_OK);
            ck_assert(!memcmp(kc + off, C, (size_t)(M * N) * sizeof *C));
            ck_assert(!memcmp(g1, g2, (size_t)(M * N) * sizeof *g1));
        }
        free(kc);
        /* N 80: each row's last block has 16 columns; on every second row
         * it starts an aligned line that is only half C's, which must not
         * be streamed whole (the next row's first values, or past C) */
        const int64_t N2 = 80;
        float *B2 = pack_values(K * N2, 402, 0);
        void *Bp2 = pack_buf(K, N2);
        ck_assert_int_eq(ijepa__pack_b(f.ops, K, N2, B2, 1, Bp2), IJEPA_OK);
        ck_assert(ijepa__ops_fusable(f.ops, K, N2, 0));
        uint16_t *c2 = ha(M * N2), *k2 = aligned_alloc(64, (size_t)(M * N2 + 32) * sizeof *k2);
        ck_assert_ptr_nonnull(k2);
        const ijepa__mm_fuse plain = {0, 0, 0, 0, {NULL, NULL, NULL}, NULL, 0};
        const ijepa__mm_fuse keep = {0, 0, 0, 0, {NULL, NULL, NULL}, NULL, 1};
        ck_assert_int_eq(ijepa__matmul_fused(f.ops, M, N2, K, A, Bp2, NULL, NULL, c2, fl16,
                                             &plain),
                         IJEPA_OK);
        const int threads = omp_get_max_threads();
        for (int t = 1; t <= 2; t++) { /* 1: each row's blocks in column order */
            omp_set_num_threads(t);
            for (int64_t i = 0; i < M * N2 + 32; i++)
                k2[i] = 0x7fc1; /* a NaN no product gives */
            ck_assert_int_eq(
                ijepa__matmul_fused(f.ops, M, N2, K, A, Bp2, NULL, NULL, k2, fl16, &keep),
                IJEPA_OK);
            ck_assert_msg(!memcmp(k2, c2, (size_t)(M * N2) * sizeof *c2),
                          "keep at N %lld, %d threads: not the plain call's bits",
                          (long long)N2, t);
            for (int64_t i = M * N2; i < M * N2 + 32; i++)
                ck_assert_msg(k2[i] == 0x7fc1, "keep at N %lld: value %lld past C written",
                              (long long)N2, (long long)(i - M * N2));
        }
        omp_set_num_threads(threads);
        free(B2); free(Bp2); free(c2); free(k2);
        free(g1); free(g2);
    }
    const ijepa__mm_fuse keep32 = {0, 0, 0, 0, {NULL, NULL, NULL}, NULL, 1};
    ck_assert_int_eq(ijepa__matmul_fused(f.ops, M, N, K, A, Bp, NULL, NULL, C, fl, &keep32),
                     IJEPA_ERR_INVALID_ARG); /* keep needs a bf16 C */
    free(B); free(Bp); free(A); free(C); free(q);
    mm_close(&f);
}
END_TEST

/* AMX reads a bf16 subnormal as zero, which is why the packing reorder may
 * flush float32 subnormals: a plain-layout product with subnormal B values
 * equals the product with zeros there. */
START_TEST(test_pack_subnormal)
{
    mm_fx f;
    mm_open(&f);
    if (!ijepa__ops_bf16_native(f.ops)) {
        mm_close(&f);
        return;
    }
    const int64_t M = 32, K = 64, N = 64;
    uint16_t *A = ha(M * K), *B = ha(K * N), *Z = ha(K * N);
    for (int64_t i = 0; i < M * K; i++) A[i] = 0x7300; /* 2^103 */
    for (int64_t i = 0; i < K * N; i++) B[i] = (uint16_t)(i % 3 ? 0x0001 + i % 0x7f : 0x3f80);
    for (int64_t i = 0; i < K * N; i++) Z[i] = i % 3 ? 0 : 0x3f80;
    float *C = ref_falloc(M * N), *CZ = ref_falloc(M * N);
    ck_assert_int_eq(ijepa__matmul_x(f.ops, 1, M, N, K, A, 0, B, 0, NULL, 1.0f, 0, C,
                                     IJEPA__MM_BF16), IJEPA_OK);
    ck_assert_int_eq(ijepa__matmul_x(f.ops, 1, M, N, K, A, 0, Z, 0, NULL, 1.0f, 0, CZ,
                                     IJEPA__MM_BF16), IJEPA_OK);
    ck_assert(!memcmp(C, CZ, (size_t)(M * N) * sizeof *C));
    free(A); free(B); free(Z); free(C); free(CZ);
    mm_close(&f);
}
END_TEST

START_TEST(test_pack_errors)
{
    mm_fx f;
    mm_open(&f);
    float w[4] = {1, 2, 3, 4};
    uint16_t a[4] = {0x3f80, 0x3f80, 0x3f80, 0x3f80};
    float c[8];
    void *Bp = pack_buf(2, 2);
    expect_err(ijepa__pack_b(f.ops, 0, 2, w, 0, Bp), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "pack", "K = 0");
    expect_err(ijepa__pack_layout(f.ops, 2, -1), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "pack", "N = -1");
    ck_assert_int_eq(ijepa__pack_bytes(0, 5), 0);
    ck_assert_int_eq(ijepa__pack_bytes(1, 1), 32 * 64 * 2);
    ck_assert_int_eq(ijepa__pack_bytes(384, 1152), 384 * 1152 * 2);
    ck_assert_int_eq(ijepa__pack_b(f.ops, 2, 2, w, 0, Bp), IJEPA_OK);
    /* packed B: bf16 operands and batch 1 only */
    expect_err(ijepa__matmul_x(f.ops, 2, 2, 2, 2, a, 0, Bp, 0, NULL, 1.0f, 0, c,
                               IJEPA__MM_BF16 | IJEPA__MM_B_PACKED),
               IJEPA_ERR_INVALID_ARG, ijepa_last_error(), "packed", "batch 2");
    expect_err(ijepa__matmul_x(f.ops, 1, 2, 2, 2, w, 0, Bp, 0, NULL, 1.0f, 0, c,
                               IJEPA__MM_B_PACKED),
               IJEPA_ERR_INVALID_ARG, ijepa_last_error(), "packed", "float32 operands");
    free(Bp);
    mm_close(&f);
}
END_TEST


// --- model ---------------------------------------------------------------------------

/* The encoder and predictor configuration of the model tests: img 8, patch
 * 2, 2 channels (16 tokens), D 32, 2 blocks of 2 heads, hidden 128;
 * predictor Dp 16, 2 blocks of 2 heads; 2 target blocks; batch 3. */
static ijepa_config *model_config_b(int precision, int64_t bucket)
{
    const cfg_int iv[] = {
        {IJEPA_CFG_IMG_SIZE, 8},        {IJEPA_CFG_PATCH_SIZE, 2},
        {IJEPA_CFG_IN_CHANS, 2},        {IJEPA_CFG_EMBED_DIM, 32},
        {IJEPA_CFG_DEPTH, 2},           {IJEPA_CFG_NUM_HEADS, 2},
        {IJEPA_CFG_PRED_EMBED_DIM, 16}, {IJEPA_CFG_PRED_DEPTH, 2},
        {IJEPA_CFG_PRED_NUM_HEADS, 2},  {IJEPA_CFG_NUM_TARGETS, 2},
        {IJEPA_CFG_BATCH_SIZE, 3},      {IJEPA_CFG_MIN_KEEP, 2},
        {IJEPA_CFG_SEED, 31},           {IJEPA_CFG_LOSS, IJEPA_LOSS_L2},
        {IJEPA_CFG_PRECISION, precision}, {IJEPA_CFG_SEQ_BUCKET, bucket},
    };
    const cfg_float fv[] = {{IJEPA_CFG_TARGET_SCALE_MIN, 0.25}, {IJEPA_CFG_TARGET_SCALE_MAX, 0.3}};
    return config_with(iv, COUNT_OF(iv), fv, COUNT_OF(fv));
}

static ijepa_config *model_config(int precision) { return model_config_b(precision, 8); }

/*
 * Forward tolerance of a bf16 model. Every matmul operand is rounded to bf16
 * (relative u16 = 2^-8 each) and accumulated in float32; a dot product of K
 * terms whose operands carry independent relative errors e_i is off by
 * about u16 sqrt(sum (a_i b_i)^2) ~ u16 |result| / sqrt(K / 2) for
 * incoherent terms and at most 2 u16 sum |a_i b_i| in the worst case. A
 * block chains five such products (qkv, q k^T, P v, proj, fc1, fc2), each
 * followed by a renormalising LayerNorm or a residual add of O(1) values,
 * so the output of L blocks, LayerNormed to unit scale, is off by roughly
 * 2 u16 sqrt(5 L) ~ 2.5e-2 in the worst element (measured: 1.7e-2 for the
 * encoder, 2.4e-2 for the predictor, worst over all elements, at 0.34-0.51
 * of the tolerance; the attention scores are bf16 too, as autocast's). tol = 4e-2 (1 + |want|): 2.5x the measured worst, and
 * 1/25 of what a real bug does here (planted by hand in the bf16 block:
 * a lost qkv bias, heads not merged, a lost LayerNorm affine: max abs
 * differences 1.0-3.1, 21-59x the tolerance).
 */
#define BF16_FWD_TOL 4e-2

START_TEST(test_encoder_forward)
{
    ijepa_config *cfg = model_config(IJEPA_PRECISION_BF16);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_PRED_DEPTH, 1), IJEPA_OK);
    enc_fx f;
    enc_fx_open(&f, cfg);
    randomize_table(f.tab, f.params, 500);
    float *saved = ref_falloc(f.count);
    memcpy(saved, f.params, (size_t)f.count * sizeof *saved);
    ref_vit_cfg rc;
    ref_vit v;
    char err[256] = "";
    ck_assert_int_eq(ref_vit_cfg_from_config(&rc, ijepa_encoder_config(f.enc)), 0);
    double *pd = ref_dalloc(f.count);
    ref_f2d(pd, f.params, f.count);
    ck_assert_msg(ref_vit_bind(&v, &rc, f.tab, pd, err, sizeof err) == 0, "%s", err);
    const int64_t B = 3, C = 2, img = 8, npix = B * C * img * img;
    float *im = rand_floats(npix, 501, -1, 1);
    double *imd = ref_dalloc(npix);
    ref_f2d(imd, im, npix);
    int32_t keep[3 * 7];
    for (int i = 0; i < 21; i++) keep[i] = (int32_t)((i * 5 + i / 7) % 16);
    for (int masked = 0; masked < 2; masked++) {
        const int64_t K = masked ? 7 : f.N, n = B * K * f.D;
        double *want = ref_dalloc(n);
        float *out = ref_falloc(n), *out2 = ref_falloc(n);
        ck_assert_int_eq(ref_vit_forward(&v, imd, B, masked ? keep : NULL, masked ? K : 0, want), 0);
        for (int mode = 0; mode < 2; mode++) {
            int rc2 = ijepa_encoder_forward(f.enc, im, B, masked ? keep : NULL, masked ? K : 0,
                                            mode ? out2 : out, mode);
            ck_assert_msg(rc2 == IJEPA_OK, "forward: %s", ijepa_last_error());
            ref_cmp c = ref_compare_f(mode ? out2 : out, want, n, BF16_FWD_TOL, BF16_FWD_TOL, NULL);
            expect_close(&c, "bf16 encoder forward masked %d mode %d", masked, mode);
        }
        /* TRAIN (GELU from bf16 fc1 output) and INFERENCE (GELU fused into
         * fc1, from its float32 accumulator) differ by bf16 roundings only */
        double *o1 = ref_dalloc(n);
        ref_f2d(o1, out, n);
        ref_cmp c = ref_compare_f(out2, o1, n, BF16_FWD_TOL, BF16_FWD_TOL, NULL);
        expect_close(&c, "bf16 encoder TRAIN vs INFERENCE masked %d", masked);
        free(want); free(out); free(out2); free(o1);
    }
    /* the float32 master parameters are untouched by forwards */
    ck_assert(!memcmp(saved, f.params, (size_t)f.count * sizeof *saved));
    /* an encoder without backward storage rounds its block weights just in
     * time instead of keeping a bf16 copy: the same INFERENCE output bits */
    {
        ijepa_config *c0 = NULL;
        ijepa_encoder *e0 = NULL;
        ck_assert_int_eq(ijepa_config_copy(&c0, ijepa_encoder_config(f.enc)), IJEPA_OK);
        ck_assert_int_eq(ijepa_config_set_int(c0, IJEPA_CFG_TRAINABLE, 0), IJEPA_OK);
        ck_assert_msg(ijepa_encoder_create(&e0, f.ctx, c0) == IJEPA_OK, "%s", ijepa_last_error());
        float *p0;
        int64_t n0;
        ck_assert_int_eq(ijepa_encoder_params(e0, &p0, &n0), IJEPA_OK);
        memcpy(p0, f.params, (size_t)n0 * sizeof *p0);
        const int64_t n = B * f.N * f.D;
        float *o1 = ref_falloc(n), *o0 = ref_falloc(n);
        ck_assert_int_eq(ijepa_encoder_forward(f.enc, im, B, NULL, 0, o1, IJEPA_FORWARD_INFERENCE), 0);
        ck_assert_int_eq(ijepa_encoder_forward(e0, im, B, NULL, 0, o0, IJEPA_FORWARD_INFERENCE), 0);
        ck_assert_msg(!memcmp(o0, o1, (size_t)n * sizeof *o0),
                      "trainable 0 and 1 give different bf16 inference outputs");
        /* where its attention runs on the own kernel it keeps no scores;
         * turned to the batched calls it makes their array once: the same
         * bits, and the memory it reports grows by that array */
        int64_t heads, dim, bmax;
        ck_assert_int_eq(ijepa_config_get_int(c0, IJEPA_CFG_BATCH_SIZE, &bmax), IJEPA_OK);
        ck_assert_int_eq(ijepa_config_get_int(c0, IJEPA_CFG_NUM_HEADS, &heads), IJEPA_OK);
        ck_assert_int_eq(ijepa_config_get_int(c0, IJEPA_CFG_EMBED_DIM, &dim), IJEPA_OK);
        ijepa__ops *ops0 = ijepa__encoder_ops(e0);
        const int own = ijepa__ops_attention_own(ops0, f.N, f.N, dim / heads);
        ck_assert_int_eq(own, ijepa__attention_own_default(f.N, dim / heads));
        const int64_t m0 = ijepa_encoder_memory_bytes(e0);
        ijepa__ops_set_amx_bmm(ops0, 0);
        for (int rep = 0; rep < 2; rep++) {
            memset(o0, 0xff, (size_t)n * sizeof *o0);
            ck_assert_int_eq(ijepa_encoder_forward(e0, im, B, NULL, 0, o0, IJEPA_FORWARD_INFERENCE),
                             0);
            ck_assert_msg(!memcmp(o0, o1, (size_t)n * sizeof *o0),
                          "own attention %d: the batched calls give other bits", own);
        }
        const int64_t grown = own ? (bmax * heads * f.N * f.N + 1) / 2 * 4 : 0;
        ck_assert_int_eq(ijepa_encoder_memory_bytes(e0) - m0, grown);
        ijepa__ops_set_amx_bmm(ops0, 1);
        free(o1); free(o0);
        ijepa_encoder_free(e0);
        ijepa_config_free(c0);
    }
    ref_vit_unbind(&v);
    free(pd); free(im); free(imd); free(saved);
    enc_fx_close(&f);
}
END_TEST

/* model_config in bf16 with a predictor 16 wide (head width 8) or, wide,
 * 64 (head width 32: the AMX kernel's fused head paths). */
static ijepa_config *pred_config(int wide)
{
    ijepa_config *cfg = model_config(IJEPA_PRECISION_BF16);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_PRED_EMBED_DIM, wide ? 64 : 16),
                     IJEPA_OK);
    return cfg;
}

/* The bf16 predictor against the double reference in both modes. */
static void predictor_forward_case(int wide)
{
    ijepa_config *cfg = pred_config(wide);
    ijepa_context *ctx = NULL;
    ijepa_predictor *pred = NULL;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    ck_assert_msg(ijepa_predictor_create(&pred, ctx, cfg) == IJEPA_OK, "%s", ijepa_last_error());
    const ijepa_tensor_table *tab = ijepa_predictor_tensors(pred);
    float *P;
    int64_t cnt;
    ck_assert_int_eq(ijepa_predictor_params(pred, &P, &cnt), IJEPA_OK);
    randomize_table(tab, P, 510);
    double *pd = ref_dalloc(cnt);
    ref_f2d(pd, P, cnt);
    ref_pred_cfg pc;
    ref_pred r;
    char err[256] = "";
    ck_assert_int_eq(ref_pred_cfg_from_config(&pc, cfg), 0);
    ck_assert_msg(ref_pred_bind(&r, &pc, tab, pd, err, sizeof err) == 0, "%s", err);
    const int64_t B = 3, D = 32, M = 2, Kc = 6, Kt = 4, ny = M * B * Kt * D;
    int32_t cidx[3 * 6], tidx[2 * 3 * 4];
    for (int i = 0; i < 18; i++) cidx[i] = (int32_t)((i * 3) % 16);
    for (int i = 0; i < 24; i++) tidx[i] = (int32_t)((i * 7 + 1) % 16);
    float *z = rand_floats(B * Kc * D, 511, -2, 2), *out = ref_falloc(ny);
    double *zd = ref_dalloc(B * Kc * D), *want = ref_dalloc(ny);
    ref_f2d(zd, z, B * Kc * D);
    ck_assert_int_eq(ref_pred_forward(&r, zd, B, cidx, Kc, tidx, Kt, want), 0);
    for (int mode = 0; mode < 2; mode++) {
        ck_assert_msg(ijepa_predictor_forward(pred, z, B, cidx, Kc, tidx, Kt, out, mode) == 0,
                      "%s", ijepa_last_error());
        /* the output is the projection of a LayerNorm: O(1) too */
        ref_cmp c = ref_compare_f(out, want, ny, BF16_FWD_TOL, BF16_FWD_TOL, NULL);
        expect_close(&c, "bf16 predictor forward mode %d, width %d", mode, wide ? 64 : 16);
    }
    /* a predictor without a backward (no scores kept where the own
     * attention kernel runs, the last block on its window) gives the
     * trainable one's INFERENCE bits */
    {
        ijepa_config *c0 = NULL;
        ijepa_predictor *p0 = NULL;
        ck_assert_int_eq(ijepa_config_copy(&c0, cfg), IJEPA_OK);
        ck_assert_int_eq(ijepa_config_set_int(c0, IJEPA_CFG_TRAINABLE, 0), IJEPA_OK);
        ck_assert_msg(ijepa_predictor_create(&p0, ctx, c0) == IJEPA_OK, "%s", ijepa_last_error());
        float *P0;
        int64_t n0;
        ck_assert_int_eq(ijepa_predictor_params(p0, &P0, &n0), IJEPA_OK);
        ck_assert_int_eq(n0, cnt);
        memcpy(P0, P, (size_t)cnt * sizeof *P0);
        float *o0 = ref_falloc(ny);
        ck_assert_int_eq(ijepa_predictor_forward(pred, z, B, cidx, Kc, tidx, Kt, out,
                                                 IJEPA_FORWARD_INFERENCE), IJEPA_OK);
        ck_assert_int_eq(ijepa_predictor_forward(p0, z, B, cidx, Kc, tidx, Kt, o0,
                                                 IJEPA_FORWARD_INFERENCE), IJEPA_OK);
        ck_assert_msg(!memcmp(o0, out, (size_t)ny * sizeof *o0),
                      "width %d: trainable 0 and 1 give different bf16 inference outputs",
                      wide ? 64 : 16);
        free(o0);
        ijepa_predictor_free(p0);
        ijepa_config_free(c0);
    }
    ref_pred_unbind(&r);
    free(pd); free(z); free(out); free(zd); free(want);
    ijepa_predictor_free(pred);
    ijepa_context_free(ctx);
    ijepa_config_free(cfg);
}

/* The bf16 predictor forward with head width 8 and 32 (the fused head
 * paths of the AMX kernel, the last block on the mask-token rows only),
 * and a predictor with trainable = 0 against the trainable one. */
START_TEST(test_predictor_forward)
{
    for (int wide = 0; wide < 2; wide++)
        predictor_forward_case(wide);
}
END_TEST

/* One TRAIN forward and backward of a bf16 predictor, targets from seed. */
static void pred_pass(ijepa_predictor *pred, const float *z, int32_t seed, float *out,
                      float *dctx)
{
    const int64_t B = 3, Kc = 6, Kt = 4, D = 32, ny = 2 * B * Kt * D;
    int32_t cidx[3 * 6], tidx[2 * 3 * 4];
    for (int i = 0; i < 18; i++) cidx[i] = (int32_t)((i * 3 + seed) % 16);
    for (int i = 0; i < 24; i++) tidx[i] = (int32_t)((i * 7 + 1 + seed) % 16);
    float *dy = rand_floats(ny, 520 + (uint64_t)seed, -1, 1);
    ck_assert_int_eq(ijepa_predictor_zero_grad(pred), IJEPA_OK);
    ck_assert_msg(ijepa_predictor_forward(pred, z, B, cidx, Kc, tidx, Kt, out,
                                          IJEPA_FORWARD_TRAIN) == IJEPA_OK &&
                      ijepa_predictor_backward(pred, dy, dctx) == IJEPA_OK,
                  "%s", ijepa_last_error());
    free(dy);
}

/* A second pass of a used bf16 predictor gives the bits of a fresh one's
 * first: nothing of the first pass (e.g. in the scratch the last block's
 * window leaves untouched) leaks into the second. Head width 8 and 32. */
START_TEST(test_predictor_second_pass)
{
    for (int wide = 0; wide < 2; wide++) {
        ijepa_config *cfg = pred_config(wide);
        ijepa_context *ctx = NULL;
        ijepa_predictor *p[2] = {NULL, NULL};
        ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
        float *P[2], *G[2], *out[2], *dctx[2];
        int64_t cnt = 0;
        const int64_t ny = 2 * 3 * 4 * 32, nz = 3 * 6 * 32;
        float *z = rand_floats(nz, 530, -2, 2);
        for (int i = 0; i < 2; i++) {
            ck_assert_msg(ijepa_predictor_create(&p[i], ctx, cfg) == IJEPA_OK, "%s",
                          ijepa_last_error());
            ck_assert_int_eq(ijepa_predictor_params(p[i], &P[i], &cnt), IJEPA_OK);
            ck_assert_int_eq(ijepa_predictor_grads(p[i], &G[i], &cnt), IJEPA_OK);
            randomize_table(ijepa_predictor_tensors(p[i]), P[i], 531);
            out[i] = ref_falloc(ny);
            dctx[i] = ref_falloc(nz);
        }
        pred_pass(p[0], z, 5, out[0], dctx[0]); /* other targets first */
        pred_pass(p[0], z, 0, out[0], dctx[0]);
        pred_pass(p[1], z, 0, out[1], dctx[1]);
        ck_assert_msg(!memcmp(out[0], out[1], (size_t)ny * sizeof *out[0]), "outputs, width %d",
                      wide ? 64 : 16);
        ck_assert_msg(!memcmp(dctx[0], dctx[1], (size_t)nz * sizeof *dctx[0]),
                      "context gradients, width %d", wide ? 64 : 16);
        ck_assert_msg(!memcmp(G[0], G[1], (size_t)cnt * sizeof *G[0]),
                      "parameter gradients, width %d", wide ? 64 : 16);
        for (int i = 0; i < 2; i++) {
            ijepa_predictor_free(p[i]);
            free(out[i]);
            free(dctx[i]);
        }
        free(z);
        ijepa_context_free(ctx);
        ijepa_config_free(cfg);
    }
}
END_TEST

/* One full step's gradients (target forward, context encoder and predictor
 * forward, L2 loss, both backwards) of the model_config pipeline in a
 * precision, from the same parameters, images and masks. */
typedef struct step_run {
    ijepa_context *ctx;
    ijepa_encoder *enc, *tgt;
    ijepa_predictor *pred;
    float *G[2];
    int64_t cnt[2];
    double loss;
} step_run;

static void step_run_open_b(step_run *s, int precision, uint64_t seed, int64_t bucket)
{
    memset(s, 0, sizeof *s);
    ijepa_config *cfg = model_config_b(precision, bucket), *tcfg = NULL;
    ck_assert_int_eq(ijepa_config_copy(&tcfg, cfg), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_int(tcfg, IJEPA_CFG_TRAINABLE, 0), IJEPA_OK);
    ijepa_mask_sampler *ms = NULL;
    ck_assert_int_eq(ijepa_context_create(&s->ctx), IJEPA_OK);
    ck_assert_msg(ijepa_encoder_create(&s->enc, s->ctx, cfg) == IJEPA_OK &&
                      ijepa_encoder_create(&s->tgt, s->ctx, tcfg) == IJEPA_OK &&
                      ijepa_predictor_create(&s->pred, s->ctx, cfg) == IJEPA_OK &&
                      ijepa_mask_sampler_create(&ms, cfg) == IJEPA_OK,
                  "%s", ijepa_last_error());
    float *P[2], *tp;
    int64_t n2;
    ck_assert_int_eq(ijepa_encoder_params(s->enc, &P[0], &s->cnt[0]), IJEPA_OK);
    ck_assert_int_eq(ijepa_predictor_params(s->pred, &P[1], &s->cnt[1]), IJEPA_OK);
    ck_assert_int_eq(ijepa_encoder_grads(s->enc, &s->G[0], &n2), IJEPA_OK);
    ck_assert_int_eq(ijepa_predictor_grads(s->pred, &s->G[1], &n2), IJEPA_OK);
    ck_assert_int_eq(ijepa_encoder_params(s->tgt, &tp, &n2), IJEPA_OK);
    randomize_table(ijepa_encoder_tensors(s->enc), P[0], seed);
    randomize_table(ijepa_predictor_tensors(s->pred), P[1], seed + 1);
    memcpy(tp, P[0], (size_t)s->cnt[0] * sizeof(float));
    const int64_t B = 3, N = 16, D = 32, M = 2, npix = B * 2 * 8 * 8;
    int32_t cidx[3 * 16], tidx[2 * 3 * 16];
    int64_t Kc, Kt;
    ck_assert_int_eq(ijepa_mask_sampler_sample(ms, B, 5, cidx, &Kc, tidx, &Kt), IJEPA_OK);
    float *im = rand_floats(npix, seed + 2, -1, 1), *h = ref_falloc(B * N * D);
    float *z = ref_falloc(B * Kc * D), *dz = ref_falloc(B * Kc * D);
    float *p = ref_falloc(M * B * Kt * D), *dp = ref_falloc(M * B * Kt * D);
    double eps;
    ck_assert_int_eq(ijepa_config_get_float(cfg, IJEPA_CFG_TARGET_LN_EPS, &eps), IJEPA_OK);
    int ok = ijepa_encoder_forward(s->tgt, im, B, NULL, 0, h, IJEPA_FORWARD_INFERENCE) == 0 &&
             ijepa_encoder_forward(s->enc, im, B, cidx, Kc, z, IJEPA_FORWARD_TRAIN) == 0 &&
             ijepa_predictor_forward(s->pred, z, B, cidx, Kc, tidx, Kt, p,
                                     IJEPA_FORWARD_TRAIN) == 0 &&
             ijepa_loss_compute(h, B, N, D, tidx, M, Kt, p, IJEPA_LOSS_L2, eps, dp,
                                &s->loss) == 0 &&
             ijepa_encoder_zero_grad(s->enc) == 0 && ijepa_predictor_zero_grad(s->pred) == 0 &&
             ijepa_predictor_backward(s->pred, dp, dz) == 0 &&
             ijepa_encoder_backward(s->enc, dz) == 0;
    ck_assert_msg(ok, "step: %s", ijepa_last_error());
    free(im); free(h); free(z); free(dz); free(p); free(dp);
    ijepa_mask_sampler_free(ms);
    ijepa_config_free(cfg);
    ijepa_config_free(tcfg);
}

static void step_run_open(step_run *s, int precision, uint64_t seed)
{
    step_run_open_b(s, precision, seed, 8);
}

static void step_run_close(step_run *s)
{
    ijepa_predictor_free(s->pred);
    ijepa_encoder_free(s->tgt);
    ijepa_encoder_free(s->enc);
    ijepa_context_free(s->ctx);
}

/*
 * The full-step gradient in bf16 against float32 (whose own gradient the
 * predictor suite checks against finite differences). Per tensor, the
 * relative L2 error |g16 - g32| / |g32| must stay below 6e-2. Why that much:
 * the backward rounds the incoming gradient to bf16 before every weight and
 * input gradient product (u16 = 4e-3 relative per operand, as the forward
 * rounds activations), through the predictor's 2 blocks and the encoder's
 * 2, and the forward errors (~1e-2, BF16_FWD_TOL's derivation) enter the
 * residual pred - target of the L2 loss, whose values are O(1): a relative
 * error of a few 1e-2 in dL/dpred, carried into every tensor; the
 * LayerNorm backwards read the normalised input kept in bf16. Measured: at
 * most 3.3e-2 over all tensors (blocks.0.norm1.weight, a LayerNorm gain
 * whose gradient is a cancelling sum, reached last by the backward),
 * cosine 0.99985 over the whole gradient, losses 1.6534 (bf16) and 1.6529
 * (f32). tol 8e-2: 2.4x that. A wrong gradient path gives O(1) on the
 * tensors it touches (planted: fc1's bias gradient dropped, relative error
 * 1). The loss must agree within 2e-2 relative, and the cosine of the whole
 * gradient vectors exceed 0.999.
 */
#define BF16_GRAD_TOL 8e-2

START_TEST(test_fullstep_grad_vs_f32)
{
    step_run a, b;
    step_run_open(&a, IJEPA_PRECISION_F32, 520);
    step_run_open(&b, IJEPA_PRECISION_BF16, 520);
    ck_assert_msg(fabs(a.loss - b.loss) <= 2e-2 * a.loss, "loss f32 %.9g bf16 %.9g", a.loss,
                  b.loss);
    const ijepa_tensor_table *tabs[2] = {ijepa_encoder_tensors(a.enc),
                                         ijepa_predictor_tensors(a.pred)};
    double worst = 0, dot = 0, na = 0, nb = 0;
    char worst_name[80] = "";
    for (int m = 0; m < 2; m++)
        for (int64_t i = 0; i < ijepa_tensor_table_count(tabs[m]); i++) {
            tinfo t = tensor_at(tabs[m], i);
            double e = 0, r = 0;
            for (int64_t j = 0; j < t.numel; j++) {
                const double x = a.G[m][t.off + j], y = b.G[m][t.off + j];
                e += (x - y) * (x - y);
                r += x * x;
                dot += x * y;
                na += x * x;
                nb += y * y;
            }
            if (t.flags & IJEPA_TENSOR_FROZEN) {
                ck_assert_msg(e == 0 && r == 0, "frozen %s has a gradient", t.name);
                continue;
            }
            const double rel = r > 0 ? sqrt(e / r) : sqrt(e);
            if (getenv("IJEPA_TEST_VERBOSE"))
                fprintf(stderr, "bf16 vs f32 gradient %s%s: relative L2 error %.3g\n",
                        m ? "predictor " : "", t.name, rel);
            if (rel > worst) {
                worst = rel;
                snprintf(worst_name, sizeof worst_name, "%s%s", m ? "predictor " : "", t.name);
            }
        }
    const double cosine = dot / sqrt(na * nb);
    if (getenv("IJEPA_TEST_VERBOSE"))
        fprintf(stderr, "bf16 vs f32 full step: loss %.6g / %.6g, worst %s %.3g, cosine %.6f\n",
                b.loss, a.loss, worst_name, worst, cosine);
    ck_assert_msg(worst <= BF16_GRAD_TOL, "bf16 gradient of %s off by %.3g (relative L2)",
                  worst_name, worst);
    ck_assert_msg(cosine > 0.999, "cosine of the bf16 and f32 gradients %.6f", cosine);
    step_run_close(&a);
    step_run_close(&b);
}
END_TEST

// --- trainer -------------------------------------------------------------------------

/* The tiny trainer of the trainer tests, in a precision: img 16, patch 4,
 * 3 channels, D 32, 2 blocks; predictor 16 x 1; batch 8; 40 steps. */
static ijepa_config *trainer_config(int precision, uint64_t seed)
{
    const cfg_int iv[] = {
        {IJEPA_CFG_IMG_SIZE, 16},       {IJEPA_CFG_PATCH_SIZE, 4},
        {IJEPA_CFG_IN_CHANS, 3},        {IJEPA_CFG_EMBED_DIM, 32},
        {IJEPA_CFG_DEPTH, 2},           {IJEPA_CFG_NUM_HEADS, 2},
        {IJEPA_CFG_PRED_EMBED_DIM, 16}, {IJEPA_CFG_PRED_DEPTH, 1},
        {IJEPA_CFG_BATCH_SIZE, 8},      {IJEPA_CFG_MIN_KEEP, 2},
        {IJEPA_CFG_NUM_TARGETS, 2},     {IJEPA_CFG_TOTAL_STEPS, 40},
        {IJEPA_CFG_WARMUP_STEPS, 5},    {IJEPA_CFG_SEED, (int64_t)seed},
        {IJEPA_CFG_PRECISION, precision},
    };
    const cfg_float fv[] = {
        {IJEPA_CFG_TARGET_SCALE_MIN, 0.25}, {IJEPA_CFG_TARGET_SCALE_MAX, 0.35},
        {IJEPA_CFG_LR_START, 6e-4},         {IJEPA_CFG_LR, 3e-3},
    };
    return config_with(iv, COUNT_OF(iv), fv, COUNT_OF(fv));
}

/* Smooth images: a few Gaussian blobs per image, shared by the channels. */
static float *blob_images(int64_t B, uint64_t seed)
{
    const int64_t C = 3, S = 16;
    float *im = ref_falloc(B * C * S * S);
    ck_assert_ptr_nonnull(im);
    ref_rng rng;
    ref_rng_seed(&rng, seed);
    for (int64_t b = 0; b < B; b++) {
        double cx[3], cy[3], w[3], a[3];
        for (int k = 0; k < 3; k++) {
            cx[k] = ref_rng_range(&rng, 0, S);
            cy[k] = ref_rng_range(&rng, 0, S);
            w[k] = ref_rng_range(&rng, 1.5, 4.5);
            a[k] = ref_rng_range(&rng, -1, 1);
        }
        for (int64_t c = 0; c < C; c++)
            for (int64_t y = 0; y < S; y++)
                for (int64_t x = 0; x < S; x++) {
                    double v = 0;
                    for (int k = 0; k < 3; k++) {
                        const double dx = (double)x - cx[k], dy = (double)y - cy[k];
                        v += a[k] * exp(-(dx * dx + dy * dy) / (2 * w[k] * w[k]));
                    }
                    im[((b * C + c) * S + y) * S + x] = (float)(v * (1.0 + 0.2 * (double)c));
                }
    }
    return im;
}

static ijepa_trainer *trainer_new(ijepa_context *ctx, ijepa_config *cfg)
{
    ijepa_trainer *tr = NULL;
    ck_assert_msg(ijepa_trainer_create(&tr, ctx, cfg) == IJEPA_OK, "%s", ijepa_last_error());
    return tr;
}

static void steps(ijepa_trainer *tr, const float *im, int n, double *loss)
{
    for (int k = 0; k < n; k++) {
        double l;
        ck_assert_msg(ijepa_trainer_step(tr, im, 8, &l) == IJEPA_OK, "step: %s",
                      ijepa_last_error());
        if (loss)
            loss[k] = l;
    }
}

static int all_bf16_exact(const float *p, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (ijepa__bf16_float(ijepa__bf16_round(p[i])) != p[i])
            return 0;
    return 1;
}

/* Two bf16 trainers of one config: bit-identical losses and parameters; the
 * loss falls over 30 steps as in float32; the master parameters are float32
 * (not bf16-rounded) after the updates. */
START_TEST(test_trainer_bf16)
{
    ijepa_context *ctx;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    ijepa_config *cfg = trainer_config(IJEPA_PRECISION_BF16, 41);
    ijepa_trainer *a = trainer_new(ctx, cfg), *b = trainer_new(ctx, cfg);
    float *im = blob_images(8, 42);
    double la[30], lb[30];
    steps(a, im, 30, la);
    steps(b, im, 30, lb);
    ck_assert(!memcmp(la, lb, sizeof la));
    float *pa, *pb;
    int64_t na, nb;
    ck_assert_int_eq(ijepa_encoder_params(ijepa_trainer_context_encoder(a), &pa, &na), 0);
    ck_assert_int_eq(ijepa_encoder_params(ijepa_trainer_context_encoder(b), &pb, &nb), 0);
    ck_assert(!memcmp(pa, pb, (size_t)na * sizeof *pa));
    ck_assert_msg(!all_bf16_exact(pa, na), "the master parameters were rounded to bf16");
    ck_assert_int_eq(ijepa_predictor_params(ijepa_trainer_predictor(a), &pa, &na), 0);
    ck_assert_int_eq(ijepa_predictor_params(ijepa_trainer_predictor(b), &pb, &nb), 0);
    ck_assert(!memcmp(pa, pb, (size_t)na * sizeof *pa));
    double first = (la[0] + la[1] + la[2]) / 3, last = (la[27] + la[28] + la[29]) / 3;
    if (getenv("IJEPA_TEST_VERBOSE"))
        fprintf(stderr, "bf16 trainer: loss %.4f -> %.4f\n", first, last);
    ck_assert_msg(last < 0.8 * first, "bf16 loss did not fall: %.4f -> %.4f", first, last);
    /* the same run in float32 learns alike */
    ijepa_config *c32 = trainer_config(IJEPA_PRECISION_F32, 41);
    ijepa_trainer *f = trainer_new(ctx, c32);
    double lf[30];
    steps(f, im, 30, lf);
    const double last32 = (lf[27] + lf[28] + lf[29]) / 3;
    ck_assert_msg(fabs(last - last32) <= 0.1 * last32, "loss after 30 steps bf16 %.4f f32 %.4f",
                  last, last32);
    ijepa_trainer_free(f);
    ijepa_config_free(c32);
    free(im);
    ijepa_trainer_free(a);
    ijepa_trainer_free(b);
    ijepa_config_free(cfg);
    ijepa_context_free(ctx);
}
END_TEST

/* Emulated bf16 (what a CPU without bf16 matmul hardware runs, forced here
 * on all three models): training works and follows the native run. The
 * values of each matmul agree up to float32 accumulation order (the test
 * above checks both against the reference), so over 10 steps the losses
 * agree to 1e-3 relative where bf16 against float32 differs by ~1e-2. */
START_TEST(test_trainer_emulated)
{
    ijepa_context *ctx;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    ijepa_config *cfg = trainer_config(IJEPA_PRECISION_BF16, 47);
    ijepa_trainer *a = trainer_new(ctx, cfg), *b = trainer_new(ctx, cfg);
    ijepa__ops *ops[3] = {ijepa__encoder_ops(ijepa_trainer_context_encoder(b)),
                          ijepa__encoder_ops(ijepa_trainer_target_encoder(b)),
                          ijepa__predictor_ops(ijepa_trainer_predictor(b))};
    for (int j = 0; j < 3; j++) ijepa__ops_set_bf16_native(ops[j], 0);
    float *im = blob_images(8, 48);
    double la[10], lb[10];
    steps(a, im, 10, la);
    steps(b, im, 10, lb);
    for (int k = 0; k < 10; k++)
        ck_assert_msg(fabs(la[k] - lb[k]) <= 1e-3 * la[k], "step %d: native %.9g emulated %.9g",
                      k, la[k], lb[k]);
    free(im);
    ijepa_trainer_free(a);
    ijepa_trainer_free(b);
    ijepa_config_free(cfg);
    ijepa_context_free(ctx);
}
END_TEST

/* Packed weights in the models: trainers with packing on (the default),
 * off, and forced through the unpack fallback follow each other (the
 * matmuls agree up to float32 accumulation order: test_matmul_packed), to
 * 1e-3 relative over 10 steps as test_trainer_emulated; with packing on, the
 * model shapes are packed and no matmul of any step (any bucketed row
 * count) fell back from brgemm. */
START_TEST(test_trainer_packed)
{
    ijepa_context *ctx;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    ijepa_config *cfg = trainer_config(IJEPA_PRECISION_BF16, 49);
    ijepa_trainer *t[3];
    ijepa__ops *ops[3][3];
    for (int i = 0; i < 3; i++) {
        t[i] = trainer_new(ctx, cfg);
        ops[i][0] = ijepa__encoder_ops(ijepa_trainer_context_encoder(t[i]));
        ops[i][1] = ijepa__encoder_ops(ijepa_trainer_target_encoder(t[i]));
        ops[i][2] = ijepa__predictor_ops(ijepa_trainer_predictor(t[i]));
        for (int j = 0; j < 3; j++) ijepa__ops_set_packing(ops[i][j], i == 0 ? 1 : i == 1 ? 0 : 2);
    }
    float *im = blob_images(8, 50);
    double l[3][10];
    for (int i = 0; i < 3; i++) steps(t[i], im, 10, l[i]);
    for (int i = 1; i < 3; i++)
        for (int k = 0; k < 10; k++)
            ck_assert_msg(fabs(l[0][k] - l[i][k]) <= 1e-3 * l[0][k],
                          "step %d: packed %.9g, %s %.9g", k, l[0][k],
                          i == 1 ? "plain" : "unpack fallback", l[i][k]);
    const int native = ijepa__ops_bf16_native(ops[0][0]);
    for (int j = 0; j < 3; j++) {
        ck_assert_int_eq(ijepa__ops_pack_fallbacks(ops[0][j]), 0);
        ck_assert_int_eq(ijepa__ops_pack_fallbacks(ops[1][j]), 0);
        ck_assert(!native || ijepa__ops_pack_fallbacks(ops[2][j]) > 0);
    }
    /* the encoder's qkv (D 32 -> 96) and the predictor's fc1 (16 -> 64) */
    ck_assert_int_eq(ijepa__pack_layout(ops[0][0], 32, 96), native);
    ck_assert_int_eq(ijepa__pack_layout(ops[0][2], 16, 64), native);
    ck_assert_int_eq(ijepa__pack_layout(ops[1][0], 32, 96), 0); /* packing off */
    free(im);
    for (int i = 0; i < 3; i++) ijepa_trainer_free(t[i]);
    ijepa_config_free(cfg);
    ijepa_context_free(ctx);
}
END_TEST

/*
 * The folds of the own AMX kernel (ijepa__matmul_fused: head split of qkv
 * and of the attention gradient, head merge before proj in inference, GELU
 * after fc1) change no value: with a head width of 32 (embed 64, 2 heads;
 * predictor the same) a trainer on the kernel and one on oneDNN with the
 * separate passes give the same loss at every step and the same
 * parameters, bit for bit: the kernel adds the same exact bf16 products in
 * the same 32-wide steps of K as oneDNN's brgemm (bit-identical on every
 * shape of test_matmul_amx), and every other operation is the same code.
 */
START_TEST(test_trainer_amx)
{
    ijepa_context *ctx;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    ijepa_config *cfg = trainer_config(IJEPA_PRECISION_BF16, 61);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_EMBED_DIM, 64), IJEPA_OK);
    ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_PRED_EMBED_DIM, 64), IJEPA_OK);
    ijepa_trainer *t[2];
    for (int i = 0; i < 2; i++) {
        t[i] = trainer_new(ctx, cfg);
        ijepa__ops *ops[3] = {ijepa__encoder_ops(ijepa_trainer_context_encoder(t[i])),
                              ijepa__encoder_ops(ijepa_trainer_target_encoder(t[i])),
                              ijepa__predictor_ops(ijepa_trainer_predictor(t[i]))};
        for (int j = 0; j < 3; j++) {
            ijepa__ops_set_amx(ops[j], i == 0);
            /* the folds need the own AMX kernel: native bf16 and AMX */
            const int amx = ijepa__ops_bf16_native(ops[j]) && ijepa__ops_amx(ops[j]);
            /* qkv, proj, fc1 of embed 64, heads of 32 */
            ck_assert_int_eq(ijepa__ops_fusable(ops[j], 64, 192, 32), amx && i == 0);
            ck_assert_int_eq(ijepa__ops_fusable(ops[j], 64, 64, 32), amx && i == 0);
            ck_assert_int_eq(ijepa__ops_fusable(ops[j], 64, 256, 0), amx && i == 0);
            ck_assert_int_eq(ijepa__ops_fusable(ops[j], 64, 64, 16), 0);
        }
    }
    float *im = blob_images(8, 62);
    double l[2][6];
    for (int i = 0; i < 2; i++) steps(t[i], im, 6, l[i]);
    for (int k = 0; k < 6; k++)
        ck_assert_msg(l[0][k] == l[1][k], "step %d: AMX kernel %.17g, oneDNN %.17g", k, l[0][k],
                      l[1][k]);
    int64_t n[2];
    float *p[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(ijepa_encoder_params(ijepa_trainer_context_encoder(t[i]), &p[i], &n[i]),
                         IJEPA_OK);
    ck_assert_int_eq(n[0], n[1]);
    ck_assert_msg(!memcmp(p[0], p[1], (size_t)n[0] * sizeof(float)),
                  "context encoder parameters differ after 6 steps");
    free(im);
    for (int i = 0; i < 2; i++) ijepa_trainer_free(t[i]);
    ijepa_config_free(cfg);
    ijepa_context_free(ctx);
}
END_TEST

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)sz);
    ck_assert(b && fread(b, 1, (size_t)sz, f) == (size_t)sz);
    fclose(f);
    *n = (size_t)sz;
    return b;
}

/* Exact resume in bf16: 6 steps straight and 3 + save + load + 3 write
 * byte-identical checkpoints (the bf16 weight copies are derived from the
 * float32 master parameters at each forward, so they need no saving); the
 * file records precision = 1. */
START_TEST(test_resume_bf16)
{
    char dir[] = "/tmp/ijepa-bf16-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char p_half[64], p_a[64], p_b[64];
    snprintf(p_half, sizeof p_half, "%s/half.safetensors", dir);
    snprintf(p_a, sizeof p_a, "%s/a.safetensors", dir);
    snprintf(p_b, sizeof p_b, "%s/b.safetensors", dir);
    ijepa_context *ctx;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    ijepa_config *cfg = trainer_config(IJEPA_PRECISION_BF16, 43);
    float *im = blob_images(8, 44);
    ijepa_trainer *a = trainer_new(ctx, cfg);
    steps(a, im, 3, NULL);
    ck_assert_msg(ijepa_trainer_save(a, p_half) == IJEPA_OK, "%s", ijepa_last_error());
    steps(a, im, 3, NULL);
    ck_assert_msg(ijepa_trainer_save(a, p_a) == IJEPA_OK, "%s", ijepa_last_error());
    ijepa_config *rcfg = NULL;
    ck_assert_msg(ijepa_checkpoint_read_config(p_half, &rcfg) == IJEPA_OK, "%s",
                  ijepa_last_error());
    int64_t prec = -1;
    ck_assert_int_eq(ijepa_config_get_int(rcfg, IJEPA_CFG_PRECISION, &prec), IJEPA_OK);
    ck_assert_int_eq(prec, IJEPA_PRECISION_BF16);
    ijepa_trainer *b = trainer_new(ctx, rcfg);
    ck_assert_msg(ijepa_trainer_load(b, p_half) == IJEPA_OK, "%s", ijepa_last_error());
    steps(b, im, 3, NULL);
    ck_assert_msg(ijepa_trainer_save(b, p_b) == IJEPA_OK, "%s", ijepa_last_error());
    size_t na, nb;
    unsigned char *ba = slurp(p_a, &na), *bb = slurp(p_b, &nb);
    ck_assert_msg(na == nb && !memcmp(ba, bb, na), "resumed bf16 checkpoint differs");
    size_t nh;
    unsigned char *bh = slurp(p_half, &nh);
    ck_assert(nh != na || memcmp(bh, ba, na) != 0); /* the last 3 steps changed things */
    free(ba); free(bb); free(bh);
    remove(p_half); remove(p_a); remove(p_b); rmdir(dir);
    free(im);
    ijepa_trainer_free(a);
    ijepa_trainer_free(b);
    ijepa_config_free(cfg);
    ijepa_config_free(rcfg);
    ijepa_context_free(ctx);
}
END_TEST

/*
 * Bucketed sequence lengths (seq_bucket). The same masked step with
 * seq_bucket 1 (no padding) and 8 (context and predictor sequences padded,
 * padding masked): the same loss and gradients up to float32 rounding
 * (1e-5 relative; padding changes only the blocking of the matmuls), in
 * both precisions. Then trainers over 80 steps: a step whose bucketed
 * shapes an earlier step had builds no primitive (once its shapes are
 * cached a step allocates nothing), with seq_bucket 8 and with 1; and 8
 * meets fewer distinct shapes.
 */
START_TEST(test_bucket_same_step)
{
    for (int prec = 0; prec < 2; prec++) {
        step_run a, b;
        step_run_open_b(&a, prec, 530, 1);
        step_run_open_b(&b, prec, 530, 8);
        ck_assert_msg(fabs(a.loss - b.loss) <= 1e-5 * a.loss, "precision %d: loss %.9g vs %.9g",
                      prec, a.loss, b.loss);
        for (int m = 0; m < 2; m++) {
            const int64_t n = a.cnt[m];
            const double S = ref_max_abs_f(a.G[m], n);
            double *want = ref_dalloc(n);
            ref_f2d(want, a.G[m], n);
            /* float32: 1e-5 of the largest gradient; bf16: the padded and
             * unpadded runs round different float32 values to bf16 now and
             * then, which moves a gradient by up to BF16_GRAD_TOL's scale */
            ref_cmp c = ref_compare_f(b.G[m], want, n, (prec ? 2e-2 : 1e-5) * S, 0, NULL);
            expect_close(&c, "precision %d: %s gradients, seq_bucket 8 vs 1", prec,
                         m ? "predictor" : "encoder");
            free(want);
        }
        step_run_close(&a);
        step_run_close(&b);
    }
}
END_TEST

START_TEST(test_bucket_steady_state)
{
    ijepa_context *ctx;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    float *im = blob_images(8, 45);
    int nkeys[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        const int64_t q = k ? 8 : 1;
        ijepa_config *cfg = trainer_config(IJEPA_PRECISION_BF16, 46);
        ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_SEQ_BUCKET, q), IJEPA_OK);
        ck_assert_int_eq(ijepa_config_set_int(cfg, IJEPA_CFG_TOTAL_STEPS, 100), IJEPA_OK);
        ijepa_trainer *tr = trainer_new(ctx, cfg);
        ijepa__ops *ops[3] = {ijepa__encoder_ops(ijepa_trainer_context_encoder(tr)),
                              ijepa__encoder_ops(ijepa_trainer_target_encoder(tr)),
                              ijepa__predictor_ops(ijepa_trainer_predictor(tr))};
        int64_t seen[80][3];
        for (int st = 0; st < 80; st++) {
            int64_t b0 = 0, b1 = 0, nc, nt;
            for (int j = 0; j < 3; j++) b0 += ijepa__ops_built(ops[j]);
            steps(tr, im, 1, NULL);
            for (int j = 0; j < 3; j++) b1 += ijepa__ops_built(ops[j]);
            ck_assert_int_eq(ijepa_trainer_masks(tr, NULL, &nc, NULL, &nt, NULL), IJEPA_OK);
            /* what the shapes of a step depend on: the bucketed context and
             * sequence lengths, and the target block size */
            const int64_t key[3] = {(nc + q - 1) / q, (nc + nt + q - 1) / q, nt};
            int old = 0;
            for (int i = 0; i < nkeys[k] && !old; i++)
                old = !memcmp(seen[i], key, sizeof key);
            if (old)
                ck_assert_msg(b1 == b0, "seq_bucket %lld, step %d (Kc %lld, Kt %lld, shapes "
                              "seen before): %lld primitives built", (long long)q, st,
                              (long long)nc, (long long)nt, (long long)(b1 - b0));
            else
                memcpy(seen[nkeys[k]++], key, sizeof key);
        }
        if (getenv("IJEPA_TEST_VERBOSE"))
            fprintf(stderr, "seq_bucket %lld: %d distinct step shapes in 80 steps\n",
                    (long long)q, nkeys[k]);
        ijepa_trainer_free(tr);
        ijepa_config_free(cfg);
    }
    ck_assert_msg(nkeys[1] < nkeys[0], "seq_bucket 8 met %d step shapes, 1 met %d", nkeys[1],
                  nkeys[0]);
    free(im);
    ijepa_context_free(ctx);
}
END_TEST

/* The key: bounds, names both ways, errors; the native query. */
START_TEST(test_precision_key)
{
    int32_t key;
    ck_assert_int_eq(ijepa_config_key_from_name("precision", &key), IJEPA_OK);
    ck_assert_int_eq(key, IJEPA_CFG_PRECISION);
    ck_assert_int_eq(ijepa_config_key_type(key), IJEPA_CFG_TYPE_INT);
    ijepa_config *cfg;
    ck_assert_int_eq(ijepa_config_create(&cfg), IJEPA_OK);
    int64_t v = -1;
    ck_assert_int_eq(ijepa_config_get_int(cfg, key, &v), IJEPA_OK);
    ck_assert_int_eq(v, IJEPA_PRECISION_F32);
    ck_assert_int_eq(ijepa_config_set_int(cfg, key, 2), IJEPA_ERR_INVALID_ARG);
    ck_assert_int_eq(ijepa_config_set_int(cfg, key, -1), IJEPA_ERR_INVALID_ARG);
    ck_assert_int_eq(ijepa_config_value_from_name(key, "bf16", &v), IJEPA_OK);
    ck_assert_int_eq(v, IJEPA_PRECISION_BF16);
    ck_assert_int_eq(ijepa_config_value_from_name(key, "f32", &v), IJEPA_OK);
    ck_assert_int_eq(v, IJEPA_PRECISION_F32);
    ck_assert_str_eq(ijepa_config_value_name(key, 1), "bf16");
    ck_assert_str_eq(ijepa_config_value_name(IJEPA_CFG_MASK_MODE, IJEPA_MASK_OFFICIAL), "official");
    ck_assert_str_eq(ijepa_config_value_name(IJEPA_CFG_LOSS, IJEPA_LOSS_L1), "l1");
    ck_assert_ptr_null(ijepa_config_value_name(key, 2));
    ck_assert_ptr_null(ijepa_config_value_name(key, -1));
    ck_assert_ptr_null(ijepa_config_value_name(IJEPA_CFG_EMBED_DIM, 0));
    ck_assert_ptr_null(ijepa_config_value_name(99999, 0));
    v = 7;
    expect_err(ijepa_config_value_from_name(key, "fp16", &v), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_config_value_from_name", "unknown value name");
    ck_assert_str_eq(ijepa_last_error(), "ijepa_config_value_from_name(): key 'precision' has "
                                         "no value named 'fp16' (its names: f32, bf16)");
    ck_assert_int_eq(v, 7);
    expect_err(ijepa_config_value_from_name(IJEPA_CFG_EMBED_DIM, "f32", &v),
               IJEPA_ERR_INVALID_ARG, ijepa_last_error(), "ijepa_config_value_from_name",
               "key without names");
    expect_err(ijepa_config_value_from_name(99999, "f32", &v), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_config_value_from_name", "unknown key");
    expect_err(ijepa_config_value_from_name(key, NULL, &v), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_config_value_from_name", "NULL name");
    ijepa_config_free(cfg);

    ijepa_context *ctx;
    ck_assert_int_eq(ijepa_context_create(&ctx), IJEPA_OK);
    ck_assert_int_eq(ijepa_context_precision_native(ctx, IJEPA_PRECISION_F32), 1);
    const int nat = ijepa_context_precision_native(ctx, IJEPA_PRECISION_BF16);
    ck_assert(nat == 0 || nat == 1);
    /* native exactly where the backend reports AVX512-BF16 or AMX */
    const char *isa = ijepa_context_cpu_isa(ctx);
    ck_assert_int_eq(nat, !strcmp(isa, "avx512_core_amx") || !strcmp(isa, "avx512_core_bf16"));
    expect_err(ijepa_context_precision_native(ctx, 5), IJEPA_ERR_INVALID_ARG, ijepa_last_error(),
               "ijepa_context_precision_native", "unknown precision");
    expect_err(ijepa_context_precision_native(NULL, 0), IJEPA_ERR_INVALID_ARG,
               ijepa_last_error(), "ijepa_context_precision_native", "NULL ctx");
    ijepa_context_free(ctx);
}
END_TEST

// --- suite -------------------------------------------------------------------------------

Suite *ijepa_bf16_suite(void)
{
    Suite *s = suite_create("bf16");
    TCase *tc = add_tcase(s, "convert", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_round_special);
    tcase_add_test(tc, test_round_random);
    tc = add_tcase(s, "kernels", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_layernorm_fwd);
    tcase_add_test(tc, test_layernorm_bwd);
    tcase_add_test(tc, test_layernorm_bwd_bf16);
    tcase_add_test(tc, test_softmax);
    tcase_add_test(tc, test_softmax_nan);
    tcase_add_test(tc, test_softmax_bwd);
    tcase_add_test(tc, test_gelu);
    tcase_add_test(tc, test_gelu_lookup);
    tcase_add_test(tc, test_colsums);
    tcase_add_test(tc, test_heads_bf16);
    tcase_add_test(tc, test_zero);
    tc = add_tcase(s, "matmul", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_matmul_bf16);
    tcase_add_test(tc, test_matmul_bf16_errors);
    tcase_add_test(tc, test_pack_kernel);
    tcase_add_test(tc, test_pack_exact);
    tcase_add_test(tc, test_matmul_packed);
    tcase_add_test(tc, test_matmul_amx);
    tcase_add_test(tc, test_matmul_wgrad);
    tcase_add_test(tc, test_amx_wgrad);
    tcase_add_test(tc, test_dpbf16_wgrad);
    tcase_add_test(tc, test_matmul_bmm);
    tcase_add_test(tc, test_matmul_bf16_to);
    tcase_add_test(tc, test_attention_fused);
    tcase_add_test(tc, test_amx_bmm);
    tcase_add_test(tc, test_dpbf16_bmm);
    tcase_add_test(tc, test_amx_layouts);
    tcase_add_test(tc, test_matmul_fused_errors);
    tcase_add_test(tc, test_matmul_heads);
    tcase_add_test(tc, test_pack_subnormal);
    tcase_add_test(tc, test_pack_errors);
    tc = add_tcase(s, "model", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_encoder_forward);
    tcase_add_test(tc, test_predictor_forward);
    tcase_add_test(tc, test_predictor_second_pass);
    tcase_add_test(tc, test_fullstep_grad_vs_f32);
    tc = add_tcase(s, "trainer", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_trainer_bf16);
    tcase_add_test(tc, test_resume_bf16);
    tcase_add_test(tc, test_trainer_emulated);
    tcase_add_test(tc, test_trainer_packed);
    tcase_add_test(tc, test_trainer_amx);
    tcase_add_test(tc, test_precision_key);
    tc = add_tcase(s, "bucket", IJEPA_TEST_TIMEOUT);
    tcase_add_test(tc, test_bucket_same_step);
    tcase_add_test(tc, test_bucket_steady_state);
    return s;
}
