/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: suite "mask" — include/ijepa/mask.h, the multi-block mask
 * sampler, in both modes.
 *
 * TCases:
 *   core    well-formed output (range, ascending, unique, lengths), context
 *           disjoint from every target, targets are h x w rectangles of a
 *           size the formulas can produce, determinism in (seed, step)
 *   layout  the official mode's known layout on 14x14 and 16x16 grids (never
 *           the last row/column, fixed context block, the derived target
 *           shape sets, recomputed here from the formulas); uniform mode
 *           reaching the last row/column; batch-minimum truncation and the
 *           acceptable-region relaxation, replayed exactly
 *   limits  tiny grids: unsatisfiable min_keep fails fast, never spins
 *   errors  documented status and a message naming the function for every
 *           misuse; _free(NULL) and getters on NULL
 */
#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_ijepa.h"
#include "ijepa/ijepa.h"
#include "ijepa/mask.h"
#include "helpers.h"

/* Every ck_assert reports its location to the parent process through a pipe
 * (one system call each), so loops over millions of patches test with a
 * plain `if` and call Check only when something is wrong. */
#define REQUIRE(cond, ...)               \
    do {                                 \
        if (!(cond))                     \
            ck_abort_msg(__VA_ARGS__);   \
    } while (0)

// --- configurations and buffers ---------------------------------------------------

typedef struct mcfg {
    int64_t img, patch, mode, batch, targets, min_keep, overlap, seed;
    double ts[2], ta[2], cs[2];
} mcfg;

/* The library defaults (official I-JEPA configs) on a 14x14 grid. */
static mcfg mcfg_default(int64_t mode)
{
    mcfg c = {224, 16, mode, 8, 4, 10, 0, 0, {0.15, 0.2}, {0.75, 1.5}, {0.85, 1.0}};
    return c;
}

static ijepa_config *make_config(const mcfg *c)
{
    const cfg_int iv[] = {
        {IJEPA_CFG_IMG_SIZE, c->img},       {IJEPA_CFG_PATCH_SIZE, c->patch},
        {IJEPA_CFG_MASK_MODE, c->mode},     {IJEPA_CFG_BATCH_SIZE, c->batch},
        {IJEPA_CFG_NUM_TARGETS, c->targets}, {IJEPA_CFG_MIN_KEEP, c->min_keep},
        {IJEPA_CFG_ALLOW_OVERLAP, c->overlap}, {IJEPA_CFG_SEED, c->seed},
    };
    const cfg_float fv[] = {
        {IJEPA_CFG_TARGET_SCALE_MIN, c->ts[0]},  {IJEPA_CFG_TARGET_SCALE_MAX, c->ts[1]},
        {IJEPA_CFG_TARGET_ASPECT_MIN, c->ta[0]}, {IJEPA_CFG_TARGET_ASPECT_MAX, c->ta[1]},
        {IJEPA_CFG_CONTEXT_SCALE_MIN, c->cs[0]}, {IJEPA_CFG_CONTEXT_SCALE_MAX, c->cs[1]},
    };
    return config_with(iv, COUNT_OF(iv), fv, COUNT_OF(fv));
}

static ijepa_mask_sampler *make_sampler(const mcfg *c)
{
    ijepa_config *cfg = make_config(c);
    ijepa_mask_sampler *ms = NULL;
    int rc = ijepa_mask_sampler_create(&ms, cfg);
    ck_assert_msg(rc == IJEPA_OK, "create: %s", ijepa_last_error());
    ck_assert_ptr_nonnull(ms);
    ijepa_config_free(cfg);
    ck_assert_int_eq(ijepa_mask_sampler_grid_size(ms), c->img / c->patch);
    return ms;
}

/* Output of one batch, buffers at the documented capacities. */
typedef struct batch_out {
    int64_t G, B, T;
    int32_t *ctx, *tgt;
    int64_t nc, nt;
} batch_out;

static void out_alloc(batch_out *o, const mcfg *c, int64_t B)
{
    o->G = c->img / c->patch;
    o->B = B;
    o->T = c->targets;
    o->ctx = calloc((size_t)(B * o->G * o->G), sizeof *o->ctx);
    o->tgt = calloc((size_t)(o->T * B * o->G * o->G), sizeof *o->tgt);
    ck_assert(o->ctx && o->tgt);
    o->nc = o->nt = -1;
}

static void out_free(batch_out *o)
{
    free(o->ctx);
    free(o->tgt);
}

static void sample_ok(ijepa_mask_sampler *ms, batch_out *o, uint64_t step)
{
    int rc = ijepa_mask_sampler_sample(ms, o->B, step, o->ctx, &o->nc, o->tgt, &o->nt);
    ck_assert_msg(rc == IJEPA_OK, "sample step %llu: %s", (unsigned long long)step,
                  ijepa_last_error());
}

static const int32_t *ctx_of(const batch_out *o, int64_t b) { return o->ctx + b * o->nc; }

static const int32_t *tgt_of(const batch_out *o, int64_t m, int64_t b)
{
    return o->tgt + (m * o->B + b) * o->nt;
}

/* The sampler of c and output buffers o for batches of B. */
static ijepa_mask_sampler *sampler_open(const mcfg *c, batch_out *o, int64_t B)
{
    ijepa_mask_sampler *ms = make_sampler(c);
    out_alloc(o, c, B);
    return ms;
}

static void sampler_close(ijepa_mask_sampler *ms, batch_out *o)
{
    out_free(o);
    ijepa_mask_sampler_free(ms);
}

// --- the block-size formulas, written independently of lib/mask.c ----------------
// Python's round() is rint() in the default round-to-nearest-even mode.

static int64_t py_round(double x) { return (int64_t)rint(x); }

/* Official _sample_block_size for draw r: h, w after `while h >= G: h -= 1`. */
static void official_size(int64_t G, const double s[2], const double a[2], double r,
                          int64_t *h, int64_t *w)
{
    volatile double span = s[1] - s[0], t = r * span, sc = s[0] + t;
    volatile double area = (double)(G * G) * sc;
    const int64_t k = (int64_t)area;
    volatile double aspan = a[1] - a[0], at = r * aspan, ar = a[0] + at;
    volatile double hk = (double)k * ar, wk = (double)k / ar;
    *h = py_round(sqrt(hk));
    *w = py_round(sqrt(wk));
    if (*h > G - 1) *h = G - 1;
    if (*w > G - 1) *w = G - 1;
}

/* Every (h, w) official mode can draw: r runs over all of torch.rand's float32
 * values k / 2^24, which the library uses too. set is [(G+1) * (G+1)]. */
static void official_reachable(int64_t G, const double s[2], const double a[2], uint8_t *set)
{
    ck_assert_int_eq(fegetround(), FE_TONEAREST);
    memset(set, 0, (size_t)((G + 1) * (G + 1)));
    for (uint32_t i = 0; i < (1u << 24); i++) {
        int64_t h, w;
        official_size(G, s, a, (double)i * 0x1.0p-24, &h, &w);
        set[h * (G + 1) + w] = 1;
    }
}

/* Uniform mode: can independent draws give (h, w)? k = int(G*G*s) ranges over
 * the integers of [int(G*G*smin), int(G*G*smax)]; for one k, round(sqrt(k a))
 * = h and round(sqrt(k/a)) = w each hold on an interval of a, to intersect
 * with [amin, amax]. A side equal to the clamp G stands for any larger value.
 * Interval ends are taken inclusive (ties), with a little slack. */
static double sq(double x) { return x * x; }

static int uniform_reachable(int64_t G, const double s[2], const double a[2],
                             int64_t h, int64_t w)
{
    const int64_t k0 = (int64_t)((double)(G * G) * s[0]);
    const int64_t k1 = (int64_t)((double)(G * G) * s[1]);
    for (int64_t k = k0 > 1 ? k0 : 1; k <= k1; k++) {
        const double dk = (double)k;
        double lo = a[0], hi = a[1];
        if (h < G) {
            if (h > 0) lo = fmax(lo, sq(h - 0.5) / dk);
            hi = fmin(hi, sq(h + 0.5) / dk);
        } else {
            lo = fmax(lo, sq(G - 0.5) / dk);
        }
        if (w < G) {
            lo = fmax(lo, dk / sq(w + 0.5));
            if (w > 0) hi = fmin(hi, dk / sq(w - 0.5));
        } else {
            hi = fmin(hi, dk / sq(G - 0.5));
        }
        if (hi >= lo * (1 - 1e-9))
            return 1;
    }
    return 0;
}

// --- checks on one batch -------------------------------------------------------------

/* Range, strictly ascending (so unique), and the documented lengths. */
static void check_well_formed(const batch_out *o, int64_t min_keep)
{
    const int64_t N = o->G * o->G;
    ck_assert_int_gt(o->nc, min_keep);
    ck_assert_int_le(o->nc, N);
    ck_assert_int_gt(o->nt, min_keep);
    ck_assert_int_le(o->nt, N);
    for (int64_t b = 0; b < o->B; b++) {
        const int32_t *c = ctx_of(o, b);
        for (int64_t j = 0; j < o->nc; j++) {
            REQUIRE(c[j] >= 0 && c[j] < N, "context patch %d out of range", (int)c[j]);
            REQUIRE(j == 0 || c[j - 1] < c[j], "context not strictly ascending at %d", (int)j);
        }
        for (int64_t m = 0; m < o->T; m++) {
            const int32_t *t = tgt_of(o, m, b);
            for (int64_t j = 0; j < o->nt; j++) {
                REQUIRE(t[j] >= 0 && t[j] < N, "target patch %d out of range", (int)t[j]);
                REQUIRE(j == 0 || t[j - 1] < t[j], "target not strictly ascending at %d",
                        (int)j);
            }
        }
    }
}

/* sample_ok(), then check_well_formed() */
static void sample_checked(ijepa_mask_sampler *ms, batch_out *o, uint64_t step, int64_t min_keep)
{
    sample_ok(ms, o, step);
    check_well_formed(o, min_keep);
}

/* A target mask must be exactly a filled rectangle; returns its h and w. */
static void rect_of(const int32_t *t, int64_t n, int64_t G, int64_t *h, int64_t *w)
{
    int64_t r0 = G, r1 = -1, c0 = G, c1 = -1;
    for (int64_t j = 0; j < n; j++) {
        const int64_t r = t[j] / G, c = t[j] % G;
        if (r < r0) r0 = r;
        if (r > r1) r1 = r;
        if (c < c0) c0 = c;
        if (c > c1) c1 = c;
    }
    *h = r1 - r0 + 1;
    *w = c1 - c0 + 1;
    /* n unique cells inside a box of n cells fill it */
    REQUIRE(*h * *w == n, "target of %d patches in a %dx%d box is no rectangle", (int)n,
            (int)*h, (int)*w);
}

/* The target shape of a batch (all blocks share it). */
static void batch_shape(const batch_out *o, int64_t *h, int64_t *w)
{
    rect_of(tgt_of(o, 0, 0), o->nt, o->G, h, w);
    for (int64_t m = 0; m < o->T; m++)
        for (int64_t b = 0; b < o->B; b++) {
            int64_t hh, ww;
            rect_of(tgt_of(o, m, b), o->nt, o->G, &hh, &ww);
            REQUIRE(hh == *h && ww == *w, "target shapes %dx%d and %dx%d in one batch",
                    (int)hh, (int)ww, (int)*h, (int)*w);
        }
}

static int same_output(const batch_out *x, const batch_out *y)
{
    return x->nc == y->nc && x->nt == y->nt &&
           memcmp(x->ctx, y->ctx, (size_t)(x->B * x->nc) * sizeof *x->ctx) == 0 &&
           memcmp(x->tgt, y->tgt, (size_t)(x->T * x->B * x->nt) * sizeof *x->tgt) == 0;
}

// --- core ----------------------------------------------------------------------------

/* With 2 targets the context can never need relaxation on 14x14: official
 * 13*13 - 2*40 = 89 > 10, uniform 13*13 - 2*(8*7) = 57 > 10 patches remain.
 * So the context must avoid every target. */
START_TEST(test_disjoint_and_well_formed)
{
    const int64_t modes[2] = {IJEPA_MASK_OFFICIAL, IJEPA_MASK_UNIFORM};
    const int64_t grids[2][2] = {{224, 16}, {224, 14}};
    for (int mi = 0; mi < 2; mi++)
        for (int gi = 0; gi < 2; gi++) {
            mcfg c = mcfg_default(modes[mi]);
            c.img = grids[gi][0];
            c.patch = grids[gi][1];
            c.targets = 2;
            batch_out o;
            ijepa_mask_sampler *ms = sampler_open(&c, &o, 8);
            const int64_t N = o.G * o.G;
            uint8_t *in_ctx = malloc((size_t)N);
            ck_assert_ptr_nonnull(in_ctx);
            for (uint64_t step = 0; step < 60; step++) {
                sample_checked(ms, &o, step, c.min_keep);
                for (int64_t b = 0; b < o.B; b++) {
                    memset(in_ctx, 0, (size_t)N);
                    for (int64_t j = 0; j < o.nc; j++)
                        in_ctx[ctx_of(&o, b)[j]] = 1;
                    for (int64_t m = 0; m < o.T; m++)
                        for (int64_t j = 0; j < o.nt; j++)
                            REQUIRE(!in_ctx[tgt_of(&o, m, b)[j]],
                                          "mode %d step %d image %d: patch %d in context "
                                          "and target %d", (int)c.mode, (int)step, (int)b,
                                          (int)tgt_of(&o, m, b)[j], (int)m);
                }
            }
            free(in_ctx);
            sampler_close(ms, &o);
        }
}
END_TEST

/* Targets are h x w rectangles of a size the formulas allow, in both modes;
 * in official mode (h, w) must come from one shared draw r. */
START_TEST(test_block_shapes)
{
    /* a wide aspect range makes the two modes' shape sets differ a lot */
    const double ts[2] = {0.1, 0.3}, ta[2] = {0.3, 3.0};
    for (int mode = 0; mode < 2; mode++) {
        mcfg c = mcfg_default(mode ? IJEPA_MASK_OFFICIAL : IJEPA_MASK_UNIFORM);
        c.img = 160; /* 10x10 */
        c.ts[0] = ts[0]; c.ts[1] = ts[1];
        c.ta[0] = ta[0]; c.ta[1] = ta[1];
        c.min_keep = 2;
        const int64_t G = 10;
        uint8_t set[11 * 11];
        official_reachable(G, c.ts, c.ta, set);
        batch_out o;
        ijepa_mask_sampler *ms = sampler_open(&c, &o, 4);
        int not_official = 0;
        for (uint64_t step = 0; step < 300; step++) {
            sample_checked(ms, &o, step, c.min_keep);
            int64_t h, w;
            batch_shape(&o, &h, &w);
            /* scale within what the formulas allow */
            const double scale = (double)(h * w) / (double)(G * G);
            ck_assert(scale > 0.0 && scale <= 1.0);
            if (c.mode == IJEPA_MASK_OFFICIAL) {
                ck_assert_msg(set[h * (G + 1) + w], "official shape %dx%d not reachable",
                              (int)h, (int)w);
                ck_assert(h <= G - 1 && w <= G - 1);
            } else {
                ck_assert_msg(uniform_reachable(G, c.ts, c.ta, h, w),
                              "uniform shape %dx%d not reachable", (int)h, (int)w);
                not_official += !set[h * (G + 1) + w];
            }
        }
        /* independent scale and aspect draws reach shapes the shared draw cannot */
        if (c.mode == IJEPA_MASK_UNIFORM)
            ck_assert_msg(not_official > 0, "uniform mode drew only official shapes");
        sampler_close(ms, &o);
    }
}
END_TEST

/* Scale 1, aspect 1: uniform mode allows a block spanning the grid (h > G
 * clamps to G), official mode clamps to G - 1. */
START_TEST(test_full_size_blocks)
{
    for (int mode = 0; mode < 2; mode++) {
        mcfg c = mcfg_default(mode ? IJEPA_MASK_OFFICIAL : IJEPA_MASK_UNIFORM);
        c.ts[0] = c.ts[1] = 1.0;
        c.ta[0] = c.ta[1] = 1.0;
        batch_out o;
        ijepa_mask_sampler *ms = sampler_open(&c, &o, 2);
        sample_checked(ms, &o, 3, c.min_keep);
        int64_t h, w, G = o.G;
        batch_shape(&o, &h, &w);
        ck_assert_int_eq(h, mode ? G - 1 : G);
        ck_assert_int_eq(w, mode ? G - 1 : G);
        sampler_close(ms, &o);
    }
}
END_TEST

START_TEST(test_determinism)
{
    for (int mode = 0; mode < 2; mode++) {
        mcfg c = mcfg_default(mode ? IJEPA_MASK_OFFICIAL : IJEPA_MASK_UNIFORM);
        c.seed = 1234;
        ijepa_mask_sampler *a = make_sampler(&c), *b = make_sampler(&c);
        batch_out x, y;
        out_alloc(&x, &c, 8);
        out_alloc(&y, &c, 8);

        /* same (seed, step), twice on one sampler and on two samplers */
        sample_ok(a, &x, 7);
        sample_ok(a, &y, 7);
        ck_assert(same_output(&x, &y));
        sample_ok(b, &y, 7);
        ck_assert(same_output(&x, &y));

        /* different step, different masks */
        sample_ok(a, &y, 8);
        ck_assert(!same_output(&x, &y));

        /* step 5 alone == step 5 after steps 0..4 (resumable) */
        ijepa_mask_sampler *fresh = make_sampler(&c);
        sample_ok(fresh, &x, 5);
        for (uint64_t s = 0; s < 5; s++)
            sample_ok(b, &y, s);
        sample_ok(b, &y, 5);
        ck_assert(same_output(&x, &y));
        ijepa_mask_sampler_free(fresh);

        /* another seed, other masks */
        mcfg c2 = c;
        c2.seed = 1235;
        ijepa_mask_sampler *s2 = make_sampler(&c2);
        sample_ok(s2, &y, 5);
        ck_assert(!same_output(&x, &y));
        ijepa_mask_sampler_free(s2);

        out_free(&x);
        out_free(&y);
        ijepa_mask_sampler_free(a);
        ijepa_mask_sampler_free(b);
    }
}
END_TEST

// --- layout --------------------------------------------------------------------------

static int shape_in(int64_t h, int64_t w, const int64_t (*set)[2], int n)
{
    for (int i = 0; i < n; i++)
        if (set[i][0] == h && set[i][1] == w)
            return 1;
    return 0;
}

/* Official mode, default config: context block always the top-left
 * (G-1) x (G-1) square, nothing ever in row or column G-1, target shapes
 * from the derived set (which must equal what the formula reaches). */
static void official_layout(int64_t patch, const int64_t (*expect)[2], int nexpect)
{
    mcfg c = mcfg_default(IJEPA_MASK_OFFICIAL);
    c.patch = patch;
    c.batch = 16;
    const int64_t G = c.img / c.patch;

    /* the derived sets of ijepa-official.md, against the formulas */
    uint8_t *set = malloc((size_t)((G + 1) * (G + 1)));
    ck_assert_ptr_nonnull(set);
    official_reachable(G, c.ts, c.ta, set);
    int nreach = 0;
    for (int64_t h = 0; h <= G; h++)
        for (int64_t w = 0; w <= G; w++)
            if (set[h * (G + 1) + w]) {
                nreach++;
                ck_assert_msg(shape_in(h, w, expect, nexpect),
                              "formula reaches %dx%d on %dx%d, not in the derived set",
                              (int)h, (int)w, (int)G, (int)G);
            }
    ck_assert_int_eq(nreach, nexpect);
    /* context block size: one draw, aspect 1 */
    for (int i = 0; i <= 1000; i++) {
        int64_t h, w;
        official_size(G, c.cs, (const double[2]){1.0, 1.0}, i / 1000.0 * (1 - 0x1.0p-24), &h, &w);
        ck_assert_int_eq(h, G - 1);
        ck_assert_int_eq(w, G - 1);
    }
    free(set);

    batch_out o;
    ijepa_mask_sampler *ms = sampler_open(&c, &o, 16);
    for (uint64_t step = 0; step < 150; step++) {
        sample_checked(ms, &o, step, c.min_keep);
        int64_t h, w;
        batch_shape(&o, &h, &w);
        ck_assert_msg(shape_in(h, w, expect, nexpect), "step %d: target %dx%d", (int)step,
                      (int)h, (int)w);
        for (int64_t b = 0; b < o.B; b++) {
            for (int64_t j = 0; j < o.nc; j++) {
                const int32_t p = ctx_of(&o, b)[j];
                REQUIRE(p / G < G - 1 && p % G < G - 1,
                              "context patch %d outside the top-left %dx%d", (int)p,
                              (int)(G - 1), (int)(G - 1));
            }
            for (int64_t m = 0; m < o.T; m++)
                for (int64_t j = 0; j < o.nt; j++) {
                    const int32_t p = tgt_of(&o, m, b)[j];
                    REQUIRE(p / G < G - 1 && p % G < G - 1,
                                  "target patch %d in the last row or column", (int)p);
                }
        }
    }
    sampler_close(ms, &o);
}

START_TEST(test_official_layout_14)
{
    static const int64_t expect[][2] = {{6, 5}, {5, 6}, {7, 5}, {6, 6}, {8, 5}};
    official_layout(16, expect, 5);
}
END_TEST

START_TEST(test_official_layout_16)
{
    static const int64_t expect[][2] = {{5, 7}, {6, 6}, {6, 7}, {7, 6}, {8, 6}, {9, 6}};
    official_layout(14, expect, 6);
}
END_TEST

/* Uniform mode reaches the last row and column, in targets and context. */
START_TEST(test_uniform_coverage)
{
    mcfg c = mcfg_default(IJEPA_MASK_UNIFORM);
    batch_out o;
    ijepa_mask_sampler *ms = sampler_open(&c, &o, 8);
    const int64_t G = o.G;
    int t_row = 0, t_col = 0, c_row = 0, c_col = 0, t_corner = 0;
    for (uint64_t step = 0; step < 100; step++) {
        sample_checked(ms, &o, step, c.min_keep);
        for (int64_t b = 0; b < o.B; b++) {
            for (int64_t j = 0; j < o.nc; j++) {
                c_row |= ctx_of(&o, b)[j] / G == G - 1;
                c_col |= ctx_of(&o, b)[j] % G == G - 1;
            }
            for (int64_t m = 0; m < o.T; m++)
                for (int64_t j = 0; j < o.nt; j++) {
                    const int32_t p = tgt_of(&o, m, b)[j];
                    t_row |= p / G == G - 1;
                    t_col |= p % G == G - 1;
                    t_corner |= p == G * G - 1;
                }
        }
    }
    ck_assert_msg(t_row && t_col && t_corner, "targets never reach the last row/column");
    ck_assert_msg(c_row && c_col, "context never reaches the last row/column");
    sampler_close(ms, &o);
}
END_TEST

/*
 * Truncation and relaxation, replayed. With context_scale (1, 1) the context
 * block is the whole grid (uniform) or the top-left (G-1)^2 square
 * (official), at the only possible corner (0, 0). Every draw of an image is
 * then the same, so the official rule gives: context = block minus the first
 * N targets, N the largest of num_targets, num_targets-1, ..., 0 that keeps
 * more than min_keep patches. Large targets on an 8x8 grid make N <
 * num_targets happen. Then the masks are cut to the batch minimum.
 */
static void replay_truncation(int64_t mode)
{
    mcfg c = mcfg_default(mode);
    c.img = 32;
    c.patch = 4;
    c.min_keep = 4;
    c.ts[0] = 0.3; c.ts[1] = 0.4;
    c.cs[0] = 1.0; c.cs[1] = 1.0;
    c.targets = mode == IJEPA_MASK_OFFICIAL ? 4 : 6;
    c.batch = 16;
    batch_out o;
    ijepa_mask_sampler *ms = sampler_open(&c, &o, 16);
    const int64_t G = o.G, N = G * G, side = mode == IJEPA_MASK_OFFICIAL ? G - 1 : G;
    uint8_t *cover = malloc((size_t)N), *kept = malloc((size_t)N);
    int32_t *pre = malloc((size_t)(o.B * N) * sizeof *pre);
    int64_t *npre = malloc((size_t)o.B * sizeof *npre);
    ck_assert(cover && kept && pre && npre);
    int relaxed = 0, shuffled = 0;
    /* rows of the dropped patches: observed sum, and its expectation if each
     * image dropped a uniformly random subset of its mask */
    double row_drop = 0, row_expect = 0;
    int64_t n_drop = 0;
    for (uint64_t step = 0; step < 60; step++) {
        sample_checked(ms, &o, step, c.min_keep);
        int64_t minlen = N;
        for (int64_t b = 0; b < o.B; b++) {
            /* N_b by the official rule */
            int64_t nreg;
            for (nreg = o.T; nreg >= 0; nreg--) {
                memset(cover, 0, (size_t)N);
                for (int64_t m = 0; m < nreg; m++)
                    for (int64_t j = 0; j < o.nt; j++)
                        cover[tgt_of(&o, m, b)[j]] = 1;
                npre[b] = 0;
                for (int64_t p = 0; p < N; p++)
                    if (p / G < side && p % G < side && !cover[p])
                        pre[b * N + npre[b]++] = (int32_t)p;
                if (npre[b] > c.min_keep)
                    break;
            }
            ck_assert_int_ge(nreg, 0);
            relaxed += nreg < o.T;
            if (npre[b] < minlen)
                minlen = npre[b];
        }
        ck_assert_int_eq(o.nc, minlen);
        for (int64_t b = 0; b < o.B; b++) {
            const int32_t *ctx = ctx_of(&o, b), *pb = pre + b * N;
            memset(kept, 0, (size_t)N);
            for (int64_t j = 0; j < o.nc; j++)
                kept[ctx[j]] = 1;
            int64_t hits = 0;
            double rows = 0;
            for (int64_t j = 0; j < npre[b]; j++) {
                hits += kept[pb[j]];
                rows += (double)(pb[j] / G);
                if (!kept[pb[j]])
                    row_drop += (double)(pb[j] / G);
            }
            ck_assert_int_eq(hits, o.nc); /* kept is a subset of the mask */
            const int64_t nd = npre[b] - o.nc;
            n_drop += nd;
            row_expect += (double)nd * rows / (double)npre[b];
            if (mode == IJEPA_MASK_OFFICIAL) /* keeps the first (lowest) indices */
                for (int64_t j = 0; j < o.nc; j++)
                    REQUIRE(ctx[j] == pb[j], "official context is not the mask's prefix");
            else if (nd > 0)
                shuffled += memcmp(ctx, pb, (size_t)o.nc * sizeof *ctx) != 0;
        }
    }
    ck_assert_msg(relaxed > 0, "the relaxation path was never exercised");
    ck_assert_int_gt(n_drop, 200);
    /* how many rows lower the dropped patches sit than a random drop's */
    const double bias = (row_drop - row_expect) / (double)n_drop;
    if (mode == IJEPA_MASK_UNIFORM) {
        ck_assert_msg(shuffled > 0, "uniform truncation always kept the lowest indices");
        ck_assert_msg(fabs(bias) < 0.3, "dropped patches sit %.3f rows low", bias);
    } else {
        ck_assert_msg(bias > 1.0, "official truncation should drop the bottom (bias %.3f)",
                      bias);
    }
    free(cover);
    free(kept);
    free(pre);
    free(npre);
    sampler_close(ms, &o);
}

START_TEST(test_truncation_official) { replay_truncation(IJEPA_MASK_OFFICIAL); }
END_TEST

START_TEST(test_truncation_uniform) { replay_truncation(IJEPA_MASK_UNIFORM); }
END_TEST

// --- limits --------------------------------------------------------------------------

/* Creating a sampler of c fails with IJEPA_ERR_INVALID_ARG, sets *out to
 * NULL, and the message names the function and contains needle (and also,
 * if not NULL). */
static void expect_create_fail(const mcfg *c, const char *needle, const char *also)
{
    ijepa_config *cfg = make_config(c);
    ijepa_mask_sampler *ms = (ijepa_mask_sampler *)cfg; /* poison */
    ck_assert_int_eq(ijepa_mask_sampler_create(&ms, cfg), IJEPA_ERR_INVALID_ARG);
    ck_assert_ptr_null(ms);
    const char *msg = ijepa_last_error();
    ck_assert_msg(strstr(msg, "ijepa_mask_sampler_create()") && strstr(msg, needle) &&
                  (!also || strstr(msg, also)), "message '%s' lacks '%s'%s%s", msg, needle,
                  also ? " or " : "", also ? also : "");
    ijepa_config_free(cfg);
}

/* 4x4 grid: targets have at most 4 patches, min_keep 10 can never hold. */
START_TEST(test_tiny_grid_unsatisfiable)
{
    for (int mode = 0; mode < 2; mode++) {
        mcfg c = mcfg_default(mode ? IJEPA_MASK_OFFICIAL : IJEPA_MASK_UNIFORM);
        c.img = 16;
        c.patch = 4;
        expect_create_fail(&c, "min_keep 10", NULL);

        /* the context bound: 8x8, context blocks of at most 2x2 */
        c.img = 32;
        c.min_keep = 4;
        c.cs[0] = 0.0;
        c.cs[1] = 0.05;
        expect_create_fail(&c, "min_keep 4", "context");
    }
}
END_TEST

/* 8x8, min_keep 4 works; min_keep 10 works for the steps that draw 4x3
 * targets and fails fast, naming min_keep, for those that draw 3x3. */
START_TEST(test_small_grid)
{
    for (int mode = 0; mode < 2; mode++) {
        mcfg c = mcfg_default(mode ? IJEPA_MASK_OFFICIAL : IJEPA_MASK_UNIFORM);
        c.img = 32;
        c.patch = 4;
        c.min_keep = 4;
        batch_out o;
        ijepa_mask_sampler *ms = sampler_open(&c, &o, 8);
        for (uint64_t step = 0; step < 100; step++) {
            sample_checked(ms, &o, step, c.min_keep);
            int64_t h, w;
            batch_shape(&o, &h, &w);
            if (c.mode == IJEPA_MASK_OFFICIAL) {
                ck_assert((h == 3 && w == 3) || (h == 4 && w == 3));
                for (int64_t b = 0; b < o.B; b++)
                    for (int64_t j = 0; j < o.nc; j++)
                        REQUIRE(ctx_of(&o, b)[j] / 8 < 7 && ctx_of(&o, b)[j] % 8 < 7,
                                "context outside the top-left 7x7");
            }
        }
        ijepa_mask_sampler_free(ms);

        c.min_keep = 10;
        ms = make_sampler(&c);
        int ok = 0, bad = 0;
        for (uint64_t step = 0; step < 100; step++) {
            int rc = ijepa_mask_sampler_sample(ms, o.B, step, o.ctx, &o.nc, o.tgt, &o.nt);
            if (rc == IJEPA_OK) {
                ok++;
                check_well_formed(&o, c.min_keep);
            } else {
                bad++;
                ck_assert_int_eq(rc, IJEPA_ERR_INVALID_ARG);
                const char *msg = ijepa_last_error();
                ck_assert_msg(strstr(msg, "ijepa_mask_sampler_sample()") &&
                              strstr(msg, "min_keep 10"), "message: %s", msg);
            }
        }
        ck_assert_msg(ok > 0 && bad > 0, "ok %d, failed %d", ok, bad);
        sampler_close(ms, &o);
    }
}
END_TEST

/* A draw too small for min_keep names the smallest target block the keys
 * can draw, so that the next min_keep holds on every step: the smallest
 * area of the sizes reachable by the formulas written here (every official
 * draw; the uniform intervals), which 3000 draws reach at least once on
 * these grids (4x4 is a fresh user's grid, whose 1x1 blocks only min_keep
 * 0 allows). */
START_TEST(test_smallest_block_named)
{
    static const struct { int64_t img, patch; double ts0, ts1, ta0, ta1; } cases[] = {
        {32, 8, 0.15, 0.2, 0.75, 1.5},  /* 4x4 */
        {32, 4, 0.15, 0.2, 0.75, 1.5},  /* 8x8 */
        {48, 4, 0.05, 0.3, 0.5, 2.0},   /* 12x12, wide ranges */
        {40, 4, 0.1, 0.2, 1.0, 1.0},    /* 10x10, square blocks */
    };
    for (int mode = 0; mode < 2; mode++)
        for (size_t i = 0; i < COUNT_OF(cases); i++) {
            mcfg c = mcfg_default(mode ? IJEPA_MASK_OFFICIAL : IJEPA_MASK_UNIFORM);
            c.img = cases[i].img;
            c.patch = cases[i].patch;
            c.ts[0] = cases[i].ts0;
            c.ts[1] = cases[i].ts1;
            c.ta[0] = cases[i].ta0;
            c.ta[1] = cases[i].ta1;
            c.cs[0] = c.cs[1] = 1.0;
            c.min_keep = 0;
            c.targets = 1;
            /* the reference: the smallest reachable area */
            const int64_t G = c.img / c.patch;
            int64_t floor_area = INT64_MAX;
            uint8_t *set = malloc((size_t)((G + 1) * (G + 1)));
            ck_assert_ptr_nonnull(set);
            if (c.mode == IJEPA_MASK_OFFICIAL)
                official_reachable(G, c.ts, c.ta, set);
            for (int64_t h = 1; h <= G; h++)
                for (int64_t w = 1; w <= G; w++)
                    if ((c.mode == IJEPA_MASK_OFFICIAL ? set[h * (G + 1) + w]
                                                        : uniform_reachable(G, c.ts, c.ta, h, w)) &&
                        h * w < floor_area)
                        floor_area = h * w;
            free(set);
            /* the smallest seen in 3000 draws, then min_keep at it: a draw fails */
            batch_out o;
            ijepa_mask_sampler *ms = sampler_open(&c, &o, 1);
            int64_t seen = INT64_MAX;
            for (uint64_t step = 0; step < 3000; step++) {
                sample_ok(ms, &o, step);
                if (o.nt < seen)
                    seen = o.nt;
            }
            ijepa_mask_sampler_free(ms);
            ck_assert_int_eq(seen, floor_area);
            c.min_keep = seen;
            ms = make_sampler(&c);
            int failed = 0;
            for (uint64_t step = 0; step < 3000 && !failed; step++) {
                if (ijepa_mask_sampler_sample(ms, o.B, step, o.ctx, &o.nc, o.tgt, &o.nt) == 0)
                    continue;
                failed = 1;
                const char *msg = ijepa_last_error();
                char want[96];
                snprintf(want, sizeof want, "patch%s): lower min_keep below %lld or raise "
                         "target_scale_min", floor_area == 1 ? "" : "es",
                         (long long)floor_area);
                ck_assert_msg(strstr(msg, "the smallest target blocks these keys draw are") &&
                              strstr(msg, want), "mode %d case %zu, smallest %lld: %s",
                              mode, i, (long long)floor_area, msg);
            }
            ck_assert_msg(failed, "mode %d case %zu: no draw of %lld patches", mode, i,
                          (long long)seen);
            sampler_close(ms, &o);
        }
}
END_TEST

/* Heavy relaxation (targets nearly cover the grid) still terminates. */
START_TEST(test_heavy_relaxation)
{
    for (int mode = 0; mode < 2; mode++) {
        mcfg c = mcfg_default(mode ? IJEPA_MASK_OFFICIAL : IJEPA_MASK_UNIFORM);
        c.img = 32;
        c.patch = 4;
        c.min_keep = 20;
        c.targets = 64;
        c.ts[0] = 0.5; c.ts[1] = 0.6;
        c.cs[0] = 0.5; c.cs[1] = 0.6;
        batch_out o;
        ijepa_mask_sampler *ms = sampler_open(&c, &o, 4);
        for (uint64_t step = 0; step < 20; step++)
            sample_checked(ms, &o, step, c.min_keep);
        sampler_close(ms, &o);
    }
}
END_TEST

// --- errors --------------------------------------------------------------------------

START_TEST(test_create_errors)
{
    ijepa_mask_sampler *ms = NULL;
    ck_assert_int_eq(ijepa_mask_sampler_create(&ms, NULL), IJEPA_ERR_INVALID_ARG);
    ck_assert_ptr_null(ms);
    ck_assert(strstr(ijepa_last_error(), "ijepa_mask_sampler_create()"));

    mcfg c = mcfg_default(IJEPA_MASK_UNIFORM);
    ijepa_config *cfg = make_config(&c);
    ck_assert_int_eq(ijepa_mask_sampler_create(NULL, cfg), IJEPA_ERR_INVALID_ARG);
    ck_assert(strstr(ijepa_last_error(), "ijepa_mask_sampler_create()"));
    ijepa_config_free(cfg);

    mcfg d = c;
    d.img = 225;
    expect_create_fail(&d, "patch_size", NULL);
    d = c;
    d.ts[0] = 0.3; d.ts[1] = 0.2;
    expect_create_fail(&d, "target_scale_min", NULL);
    d = c;
    d.ta[0] = 2.0; d.ta[1] = 1.0;
    expect_create_fail(&d, "target_aspect_min", NULL);
    d = c;
    d.cs[0] = 0.9; d.cs[1] = 0.8;
    expect_create_fail(&d, "context_scale_min", NULL);
}
END_TEST

START_TEST(test_sample_errors)
{
    mcfg c = mcfg_default(IJEPA_MASK_OFFICIAL);
    batch_out o;
    ijepa_mask_sampler *ms = sampler_open(&c, &o, c.batch + 1);
    int64_t nc = -7, nt = -7;

    ck_assert_int_eq(ijepa_mask_sampler_sample(NULL, 1, 0, o.ctx, &nc, o.tgt, &nt),
                     IJEPA_ERR_INVALID_ARG);
    ck_assert(strstr(ijepa_last_error(), "ijepa_mask_sampler_sample()"));

    struct { int64_t batch; int null_arg; } cases[] = {
        {1, 1}, {1, 2}, {1, 3}, {1, 4}, {0, 0}, {-1, 0}, {c.batch + 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = ijepa_mask_sampler_sample(ms, cases[i].batch, 0,
                                           cases[i].null_arg == 1 ? NULL : o.ctx,
                                           cases[i].null_arg == 2 ? NULL : &nc,
                                           cases[i].null_arg == 3 ? NULL : o.tgt,
                                           cases[i].null_arg == 4 ? NULL : &nt);
        ck_assert_int_eq(rc, IJEPA_ERR_INVALID_ARG);
        const char *msg = ijepa_last_error();
        ck_assert_msg(strstr(msg, "ijepa_mask_sampler_sample()") != NULL, "case %d: '%s'",
                      (int)i, msg);
        ck_assert_str_eq(ijepa_last_error(), msg);
        ck_assert_int_eq(nc, -7); /* nothing written */
        ck_assert_int_eq(nt, -7);
    }
    ck_assert(strstr(ijepa_last_error(), "batch_size"));

    /* still usable, and batch == batch_size is fine */
    ck_assert_int_eq(ijepa_mask_sampler_sample(ms, c.batch, 0, o.ctx, &nc, o.tgt, &nt),
                     IJEPA_OK);
    ck_assert_int_gt(nc, c.min_keep);
    ck_assert_int_gt(nt, c.min_keep);
    sampler_close(ms, &o);
}
END_TEST

START_TEST(test_null_handles)
{
    ijepa_mask_sampler_free(NULL);
    ck_assert_int_eq(ijepa_mask_sampler_grid_size(NULL), 0);
    mcfg c = mcfg_default(IJEPA_MASK_UNIFORM);
    ijepa_mask_sampler *ms = make_sampler(&c);
    ck_assert_int_eq(ijepa_mask_sampler_grid_size(ms), 14);
    ijepa_mask_sampler_free(ms);
}
END_TEST

// --- suite ---------------------------------------------------------------------------

Suite *ijepa_mask_suite(void)
{
    Suite *s = suite_create("mask");

    TCase *core = add_tcase(s, "core", IJEPA_TEST_TIMEOUT);
    tcase_add_test(core, test_disjoint_and_well_formed);
    tcase_add_test(core, test_block_shapes);
    tcase_add_test(core, test_full_size_blocks);
    tcase_add_test(core, test_determinism);

    TCase *layout = add_tcase(s, "layout", IJEPA_TEST_TIMEOUT);
    tcase_add_test(layout, test_official_layout_14);
    tcase_add_test(layout, test_official_layout_16);
    tcase_add_test(layout, test_uniform_coverage);
    tcase_add_test(layout, test_truncation_official);
    tcase_add_test(layout, test_truncation_uniform);

    TCase *limits = add_tcase(s, "limits", 0); /* Check's default timeout */
    tcase_add_test(limits, test_tiny_grid_unsatisfiable);
    tcase_add_test(limits, test_small_grid);
    tcase_add_test(limits, test_smallest_block_named);
    tcase_add_test(limits, test_heavy_relaxation);

    TCase *errors = add_tcase(s, "errors", 0); /* Check's default timeout */
    tcase_add_test(errors, test_create_errors);
    tcase_add_test(errors, test_sample_errors);
    tcase_add_test(errors, test_null_handles);

    return s;
}
