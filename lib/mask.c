/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: the multi-block mask sampler (mask.h), i.e. the official
 * I-JEPA MaskCollator (src/masks/multiblock.py) with our deterministic RNG,
 * and its "uniform" variant with the official biases removed.
 *
 * A batch is sampled in two passes. Pass 1 draws the two block sizes, then
 * per image the target corners and the context corner with the number of
 * target regions it was constrained by; only these few integers are kept.
 * Pass 2 writes the index lists from them once the batch-minimum context
 * length is known. So the working memory is O(batch_size * num_targets + G)
 * and a failure is detected before any output is written.
 *
 * Termination: the official retry loops never end when a block cannot keep
 * more than min_keep patches. Here a target block is valid at its first draw
 * iff h*w > min_keep, and a context block is valid once every target
 * constraint has been relaxed iff hc*wc > min_keep; both are checked per
 * batch before placing anything (and bounded at create for all draws), so
 * the context loop runs at most 20 * (num_targets + 1) times.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "ijepa/mask.h"

/* Official `timeout`: failed context draws before one more target region is
 * dropped from the acceptable regions. */
#define RELAX_EVERY 20

/* Domain separation of the mask stream from other users of the seed. */
#define MASK_DOMAIN 0x6d61736b2d736d70ULL /* "mask-smp" */

struct ijepa_mask_sampler {
    ijepa__err err;
    int64_t G;                 /* grid side, img_size / patch_size */
    int64_t batch_max;         /* batch_size */
    int64_t num_targets;       /* target blocks per image */
    int64_t min_keep;          /* a mask must keep > min_keep patches */
    int mode;                  /* IJEPA_MASK_OFFICIAL or IJEPA_MASK_UNIFORM */
    int allow_overlap;
    uint64_t seed;
    double ts_min, ts_max;     /* target scale */
    double ta_min, ta_max;     /* target aspect ratio */
    double cs_min, cs_max;     /* context scale */
    /* pass-1 state of the current batch */
    int32_t *t_top, *t_left;   /* [batch_max, num_targets] target corners */
    int32_t *c_top, *c_left;   /* [batch_max] context corner */
    int32_t *c_nreg;           /* [batch_max] targets removed from the context */
    int64_t *c_count;          /* [batch_max] context patches before truncation */
    uint8_t *row_mark;         /* [G] scratch: columns of one row hit by a target */
};

// --- block sizes ---------------------------------------------------------------
// Each rounding step is its own volatile statement: no FMA contraction, so
// the sizes are the same on every machine and equal Python's double results.

/* Python's round() of a finite x >= 0: to nearest, ties to even. */
static int64_t round_half_even(double x)
{
    const double f = floor(x);
    const double d = x - f; /* exact */
    int64_t i = (int64_t)f;
    if (d > 0.5 || (d == 0.5 && (i & 1)))
        i++;
    return i;
}

/* lo + r * (hi - lo), in the official evaluation order. */
static double lerp(double lo, double hi, double r)
{
    volatile double span = hi - lo;
    volatile double t = r * span;
    volatile double v = lo + t;
    return v;
}

/* max_keep = int(G*G * scale) */
static int64_t area_of(int64_t G, double scale)
{
    volatile double a = (double)(G * G) * scale;
    return (int64_t)a;
}

/* round(sqrt(k * a)) and round(sqrt(k / a)) */
static int64_t side_mul(int64_t k, double a)
{
    volatile double x = (double)k * a;
    return round_half_even(sqrt(x));
}

static int64_t side_div(int64_t k, double a)
{
    volatile double x = (double)k / a;
    return round_half_even(sqrt(x));
}

/* Official: `while h >= G: h -= 1`. Uniform: a full-size block is allowed. */
static int64_t clamp_side(int64_t s, int64_t G, int mode)
{
    const int64_t cap = mode == IJEPA_MASK_OFFICIAL ? G - 1 : G;
    return s > cap ? (cap > 0 ? cap : 0) : s;
}

/* Block size for scale draw rs and aspect draw ra (the same draw in official
 * mode), scale range [smin, smax), aspect range [amin, amax). */
static void block_size(const ijepa_mask_sampler *ms, double smin, double smax,
                       double amin, double amax, double rs, double ra,
                       int64_t *h, int64_t *w)
{
    const int64_t k = area_of(ms->G, lerp(smin, smax, rs));
    const double a = lerp(amin, amax, ra);
    *h = clamp_side(side_mul(k, a), ms->G, ms->mode);
    *w = clamp_side(side_div(k, a), ms->G, ms->mode);
}

/* The largest h and w any draw can give (each formula is non-decreasing in
 * the scale draw, h in the aspect draw and w in its inverse), hence a bound
 * on every block's area. */
static void block_bound(const ijepa_mask_sampler *ms, double smin, double smax,
                        double amin, double amax, int64_t *h, int64_t *w)
{
    const int64_t k = area_of(ms->G, lerp(smin, smax, 1.0));
    *h = clamp_side(side_mul(k, lerp(amin, amax, 1.0)), ms->G, ms->mode);
    *w = clamp_side(side_div(k, amin), ms->G, ms->mode);
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The points of [lo, hi) where side_mul(k, a) or side_div(k, a) steps, a
 * = lerp(amin, amax, r): sqrt(k a) or sqrt(k / a) crossing m + 1/2.
 * Appended to pts; the count, or -1 past cap. */
static int64_t side_steps(int64_t k, double amin, double amax, double lo, double hi,
                          double *pts, int64_t n, int64_t cap)
{
    if (!(amax > amin))
        return n;
    const int64_t mmax = (int64_t)sqrt((double)k * (amax > 1.0 / amin ? amax : 1.0 / amin)) + 2;
    for (int64_t m = 0; m <= mmax; m++) {
        const double q = ((double)m + 0.5) * ((double)m + 0.5);
        const double at[2] = {q / (double)k, (double)k / q}; /* a where a side steps */
        for (int i = 0; i < 2; i++) {
            const double r = (at[i] - amin) / (amax - amin);
            if (r > lo && r < hi) {
                if (n == cap)
                    return -1;
                pts[n++] = r;
            }
        }
    }
    return n;
}

/* The smallest block block_size() can give over every draw: *h x *w, or
 * 0 x 0 when finding it would take too long. The sides are constant
 * between the draws where k or a side steps, so block_size() is evaluated
 * once inside each such interval. Uniform mode draws scale and aspect
 * apart, and both sides grow with k: the smallest scale, every aspect.
 * Official mode draws them together: k steps along the one draw too, and
 * an interval of k is skipped once no block of its k can be smaller than
 * the smallest found. For the messages of a failed draw. */
static void block_floor(const ijepa_mask_sampler *ms, double smin, double smax, double amin,
                        double amax, int64_t *h, int64_t *w)
{
    enum { CAP = 1 << 16 };
    double *pts = malloc(CAP * sizeof *pts);
    int64_t best = INT64_MAX, budget = (int64_t)1 << 22; /* evaluations */
    *h = *w = 0;
    if (!pts)
        return;
    const int official = ms->mode == IJEPA_MASK_OFFICIAL;
    const double G2 = (double)(ms->G * ms->G);
    /* the draws where k steps (official only), then each of those intervals */
    double lo = 0.0;
    for (int64_t j = (int64_t)(G2 * smin) + 1; lo < 1.0; j++) {
        double hi = official && smax > smin ? ((double)j / G2 - smin) / (smax - smin) : 1.0;
        if (!(hi < 1.0))
            hi = 1.0;
        if (hi <= lo)
            continue;
        const int64_t k = area_of(ms->G, lerp(smin, smax, official ? (lo + hi) / 2 : 0.0));
        /* no block of this k or a larger one has sides below sqrt(k a) - 1/2
         * and sqrt(k / a) - 1/2, or the clamp's cap */
        const double cap = (double)clamp_side(ms->G, ms->G, ms->mode);
        double f = sqrt((double)k * amin) - 0.5, g = sqrt((double)k / amax) - 0.5;
        f = f < cap ? f : cap;
        g = g < cap ? g : cap;
        if (best != INT64_MAX && f > 0 && g > 0 && f * g > (double)best)
            break;
        pts[0] = lo;
        int64_t n = side_steps(k, amin, amax, lo, hi, pts, 1, CAP - 1);
        if (n < 0) {
            *h = *w = 0;
            break;
        }
        pts[n++] = hi;
        if ((budget -= n) < 0) {
            *h = *w = 0;
            break;
        }
        qsort(pts, (size_t)n, sizeof *pts, cmp_double);
        for (int64_t i = 0; i + 1 < n; i++) {
            const double r = (pts[i] + pts[i + 1]) / 2;
            int64_t bh, bw;
            block_size(ms, smin, smax, amin, amax, official ? r : 0.0, r, &bh, &bw);
            if (bh * bw < best) {
                best = bh * bw;
                *h = bh;
                *w = bw;
            }
        }
        lo = hi;
    }
    free(pts);
}

int64_t ijepa__mask_target_area_bound(const ijepa_config *cfg)
{
    ijepa_mask_sampler ms;
    memset(&ms, 0, sizeof ms);
    ms.G = ijepa__cfg_int(cfg, IJEPA_CFG_IMG_SIZE) / ijepa__cfg_int(cfg, IJEPA_CFG_PATCH_SIZE);
    ms.mode = (int)ijepa__cfg_int(cfg, IJEPA_CFG_MASK_MODE);
    int64_t h, w;
    block_bound(&ms, ijepa__cfg_float(cfg, IJEPA_CFG_TARGET_SCALE_MIN),
                ijepa__cfg_float(cfg, IJEPA_CFG_TARGET_SCALE_MAX),
                ijepa__cfg_float(cfg, IJEPA_CFG_TARGET_ASPECT_MIN),
                ijepa__cfg_float(cfg, IJEPA_CFG_TARGET_ASPECT_MAX), &h, &w);
    return h * w;
}

// --- random numbers ------------------------------------------------------------

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The generator of one batch: a bijective mix of (seed, step), so step k
 * never depends on what was sampled before. */
static void batch_rng(ijepa__rng *rng, uint64_t seed, uint64_t step)
{
    const uint64_t key = mix64(mix64(seed ^ MASK_DOMAIN) + step * 0x9e3779b97f4a7c15ULL);
    ijepa__rng_seed(rng, key);
}

/* A block-size draw in [0, 1). Official mode keeps torch.rand's float32
 * lattice (multiples of 2^-24) so the reachable sizes are exactly its own. */
static double draw_unit(ijepa__rng *rng, int mode)
{
    if (mode == IJEPA_MASK_OFFICIAL)
        return (double)(ijepa__rng_u64(rng) >> 40) * 0x1.0p-24;
    return ijepa__rng_uniform(rng);
}

/* Uniform integer in [0, n), n >= 1, without modulo bias. */
static int64_t randint(ijepa__rng *rng, int64_t n)
{
    const uint64_t un = (uint64_t)n;
    const uint64_t reject_below = (0 - un) % un; /* 2^64 mod n */
    uint64_t x;
    do
        x = ijepa__rng_u64(rng);
    while (x < reject_below);
    return (int64_t)(x % un);
}

/* Corner coordinate of a block of side s: official torch.randint(0, G - s)
 * (exclusive, the last row/column is never reached), uniform [0, G - s]. */
static int32_t place(const ijepa_mask_sampler *ms, ijepa__rng *rng, int64_t s)
{
    const int64_t n = ms->mode == IJEPA_MASK_OFFICIAL ? ms->G - s : ms->G - s + 1;
    return (int32_t)randint(rng, n);
}

// --- masks of one image --------------------------------------------------------

/* Mark in row_mark the columns of grid row `row` covered by the first nreg
 * target blocks (h x w) of image b, within [left, left + wc). */
static void mark_row(ijepa_mask_sampler *ms, int64_t b, int64_t nreg, int64_t h,
                     int64_t w, int64_t row, int64_t left, int64_t wc)
{
    uint8_t *mark = ms->row_mark;
    memset(mark + left, 0, (size_t)wc);
    const int32_t *tt = ms->t_top + b * ms->num_targets;
    const int32_t *tl = ms->t_left + b * ms->num_targets;
    for (int64_t m = 0; m < nreg; m++) {
        if (row < tt[m] || row >= tt[m] + h)
            continue;
        const int64_t c0 = tl[m] > left ? tl[m] : left;
        const int64_t c1 = tl[m] + w < left + wc ? tl[m] + w : left + wc;
        for (int64_t c = c0; c < c1; c++)
            mark[c] = 1;
    }
}

/* Patches of the hc x wc context block at (top, left) outside the first
 * nreg target blocks of image b. */
static int64_t context_count(ijepa_mask_sampler *ms, int64_t b, int64_t nreg,
                             int64_t h, int64_t w, int64_t top, int64_t left,
                             int64_t hc, int64_t wc)
{
    int64_t n = 0;
    for (int64_t r = top; r < top + hc; r++) {
        mark_row(ms, b, nreg, h, w, r, left, wc);
        for (int64_t c = left; c < left + wc; c++)
            n += !ms->row_mark[c];
    }
    return n;
}

/* Pass 1 for image b: target corners, then the context block with the
 * official acceptable-region relaxation. */
static int sample_image(ijepa_mask_sampler *ms, ijepa__rng *rng, int64_t b,
                        int64_t h, int64_t w, int64_t hc, int64_t wc)
{
    const int64_t T = ms->num_targets;
    for (int64_t m = 0; m < T; m++) {
        /* unconstrained: h*w > min_keep was checked, the first draw is valid */
        ms->t_top[b * T + m] = place(ms, rng, h);
        ms->t_left[b * T + m] = place(ms, rng, w);
    }
    const int64_t nreg_all = ms->allow_overlap ? 0 : T;
    const int64_t budget = RELAX_EVERY * (nreg_all + 1);
    int64_t tries = 0, timeout = RELAX_EVERY;
    for (int64_t it = 0; it < budget; it++) {
        const int32_t top = place(ms, rng, hc);
        const int32_t left = place(ms, rng, wc);
        /* the official constrain_mask keeps the first len - tries regions */
        const int64_t nreg = nreg_all - tries > 0 ? nreg_all - tries : 0;
        const int64_t n = context_count(ms, b, nreg, h, w, top, left, hc, wc);
        if (n > ms->min_keep) {
            ms->c_top[b] = top;
            ms->c_left[b] = left;
            ms->c_nreg[b] = (int32_t)nreg;
            ms->c_count[b] = n;
            return IJEPA_OK;
        }
        if (--timeout == 0) {
            tries++;
            timeout = RELAX_EVERY;
        }
    }
    /* Unreachable while hc*wc > min_keep: with no region left the block is
     * valid at once. Kept so that no change can make this loop endless. */
    return ijepa__fail(&ms->err, IJEPA_ERR_INVALID_ARG,
                       "no context block of %lldx%lld keeps more than min_keep %lld "
                       "patches after %lld draws (image %lld)",
                       (long long)hc, (long long)wc, (long long)ms->min_keep,
                       (long long)budget, (long long)b);
}

/* Pass 2 for image b: write `keep` of its context indices, ascending.
 * Official: the first (lowest) ones. Uniform: a uniformly random subset,
 * chosen by selection sampling (Knuth's Algorithm S) in index order. */
static void write_context(ijepa_mask_sampler *ms, ijepa__rng *rng, int64_t b,
                          int64_t h, int64_t w, int64_t hc, int64_t wc,
                          int64_t keep, int32_t *out)
{
    const int64_t G = ms->G, top = ms->c_top[b], left = ms->c_left[b];
    int64_t left_over = ms->c_count[b], need = keep, j = 0;
    for (int64_t r = top; r < top + hc && need > 0; r++) {
        mark_row(ms, b, ms->c_nreg[b], h, w, r, left, wc);
        for (int64_t c = left; c < left + wc && need > 0; c++) {
            if (ms->row_mark[c])
                continue;
            int take = 1;
            if (ms->mode != IJEPA_MASK_OFFICIAL && need < left_over)
                take = randint(rng, left_over) < need;
            left_over--;
            if (take) {
                out[j++] = (int32_t)(r * G + c);
                need--;
            }
        }
    }
}

// --- public API ------------------------------------------------------------------

void ijepa_mask_sampler_free(ijepa_mask_sampler *ms)
{
    if (!ms)
        return;
    free(ms->t_top);
    free(ms->t_left);
    free(ms->c_top);
    free(ms->c_left);
    free(ms->c_nreg);
    free(ms->c_count);
    free(ms->row_mark);
    free(ms);
}

int64_t ijepa_mask_sampler_grid_size(const ijepa_mask_sampler *ms)
{
    return ms ? ms->G : 0;
}

/* Read and cross-check the configuration. */
static int configure(ijepa_mask_sampler *ms, const ijepa_config *cfg, ijepa__err *e)
{
    const int64_t img = ijepa__cfg_int(cfg, IJEPA_CFG_IMG_SIZE);
    const int64_t patch = ijepa__cfg_int(cfg, IJEPA_CFG_PATCH_SIZE);
    if (img % patch != 0)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                           "img_size %lld is not a multiple of patch_size %lld",
                           (long long)img, (long long)patch);
    ms->G = img / patch;
    ms->batch_max = ijepa__cfg_int(cfg, IJEPA_CFG_BATCH_SIZE);
    ms->num_targets = ijepa__cfg_int(cfg, IJEPA_CFG_NUM_TARGETS);
    ms->min_keep = ijepa__cfg_int(cfg, IJEPA_CFG_MIN_KEEP);
    ms->mode = (int)ijepa__cfg_int(cfg, IJEPA_CFG_MASK_MODE);
    ms->allow_overlap = (int)ijepa__cfg_int(cfg, IJEPA_CFG_ALLOW_OVERLAP);
    ms->seed = (uint64_t)ijepa__cfg_int(cfg, IJEPA_CFG_SEED);
    ms->ts_min = ijepa__cfg_float(cfg, IJEPA_CFG_TARGET_SCALE_MIN);
    ms->ts_max = ijepa__cfg_float(cfg, IJEPA_CFG_TARGET_SCALE_MAX);
    ms->ta_min = ijepa__cfg_float(cfg, IJEPA_CFG_TARGET_ASPECT_MIN);
    ms->ta_max = ijepa__cfg_float(cfg, IJEPA_CFG_TARGET_ASPECT_MAX);
    ms->cs_min = ijepa__cfg_float(cfg, IJEPA_CFG_CONTEXT_SCALE_MIN);
    ms->cs_max = ijepa__cfg_float(cfg, IJEPA_CFG_CONTEXT_SCALE_MAX);

    const struct { const char *name; double lo, hi; } pairs[] = {
        {"target_scale", ms->ts_min, ms->ts_max},
        {"target_aspect", ms->ta_min, ms->ta_max},
        {"context_scale", ms->cs_min, ms->cs_max},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (pairs[i].lo > pairs[i].hi)
            return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "%s_min %g exceeds %s_max %g",
                               pairs[i].name, pairs[i].lo, pairs[i].name, pairs[i].hi);

    /* Refuse what can never keep more than min_keep patches: the official
     * sampler would retry forever. */
    const struct {
        const char *kind, *key;
        double smin, smax, amin, amax;
    } blocks[2] = {
        {"target", "target_scale_max", ms->ts_min, ms->ts_max, ms->ta_min, ms->ta_max},
        {"context", "context_scale_max", ms->cs_min, ms->cs_max, 1.0, 1.0},
    };
    for (int i = 0; i < 2; i++) {
        int64_t h, w;
        block_bound(ms, blocks[i].smin, blocks[i].smax, blocks[i].amin, blocks[i].amax, &h, &w);
        if (h * w <= ms->min_keep)
            return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                               "min_keep %lld can never be met: %s blocks on the "
                               "%lldx%lld grid have at most %lldx%lld = %lld patches "
                               "(%s %g); lower min_keep",
                               (long long)ms->min_keep, blocks[i].kind, (long long)ms->G,
                               (long long)ms->G, (long long)h, (long long)w, (long long)(h * w),
                               blocks[i].key, blocks[i].smax);
    }
    return IJEPA_OK;
}

int ijepa_mask_sampler_create(ijepa_mask_sampler **out, const ijepa_config *cfg)
{
    if (!out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!cfg)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "config is NULL");
    ijepa_mask_sampler *ms = calloc(1, sizeof *ms);
    if (!ms)
        return ijepa__fail_func(__func__, IJEPA_ERR_NOMEM, "cannot allocate the mask sampler");
    ijepa__err *e = &ms->err;
    ijepa__enter(e, __func__);
    int rc = configure(ms, cfg, e);
    if (rc < 0)
        goto fail;
    /* batch_size <= 65536 and num_targets <= 64 (config bounds): no overflow */
    const size_t nbt = (size_t)(ms->batch_max * ms->num_targets);
    const size_t nb = (size_t)ms->batch_max;
    ms->t_top = malloc(nbt * sizeof *ms->t_top);
    ms->t_left = malloc(nbt * sizeof *ms->t_left);
    ms->c_top = malloc(nb * sizeof *ms->c_top);
    ms->c_left = malloc(nb * sizeof *ms->c_left);
    ms->c_nreg = malloc(nb * sizeof *ms->c_nreg);
    ms->c_count = malloc(nb * sizeof *ms->c_count);
    ms->row_mark = malloc((size_t)ms->G);
    if (!ms->t_top || !ms->t_left || !ms->c_top || !ms->c_left || !ms->c_nreg ||
        !ms->c_count || !ms->row_mark) {
        rc = ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot allocate the sampler state");
        goto fail;
    }
    *out = ms;
    return IJEPA_OK;
fail:
    ijepa_mask_sampler_free(ms);
    return rc;
}

int ijepa_mask_sampler_sample(ijepa_mask_sampler *ms, int64_t batch, uint64_t step,
                              int32_t *context, int64_t *n_context,
                              int32_t *targets, int64_t *n_target)
{
    if (!ms)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "sampler is NULL");
    ijepa__err *e = &ms->err;
    ijepa__enter(e, __func__);
    if (!context || !n_context || !targets || !n_target)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                           "context, n_context, targets and n_target must not be NULL");
    if (batch < 1 || batch > ms->batch_max)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "batch %lld is outside [1, %lld] (batch_size)",
                           (long long)batch, (long long)ms->batch_max);

    ijepa__rng rng;
    batch_rng(&rng, ms->seed, step);

    /* One target size and one context size for the whole batch, drawn in the
     * official order. Official: one draw for scale and aspect. */
    int64_t h, w, hc, wc;
    const double rs = draw_unit(&rng, ms->mode);
    const double ra = ms->mode == IJEPA_MASK_OFFICIAL ? rs : draw_unit(&rng, ms->mode);
    block_size(ms, ms->ts_min, ms->ts_max, ms->ta_min, ms->ta_max, rs, ra, &h, &w);
    const double r_ctx = draw_unit(&rng, ms->mode); /* aspect is (1, 1): one draw */
    block_size(ms, ms->cs_min, ms->cs_max, 1.0, 1.0, r_ctx, r_ctx, &hc, &wc);
    if (h * w <= ms->min_keep || hc * wc <= ms->min_keep) {
        const int tgt = h * w <= ms->min_keep;
        const char *what = tgt ? "target" : "context";
        int64_t fh, fw;
        char fix[160];
        if (tgt)
            block_floor(ms, ms->ts_min, ms->ts_max, ms->ta_min, ms->ta_max, &fh, &fw);
        else
            block_floor(ms, ms->cs_min, ms->cs_max, 1.0, 1.0, &fh, &fw);
        if (fh * fw > 0)
            snprintf(fix, sizeof fix, "the smallest %s blocks these keys draw are %lldx%lld "
                     "(%lld patch%s): lower min_keep below %lld", what, (long long)fh,
                     (long long)fw, (long long)(fh * fw), fh * fw == 1 ? "" : "es",
                     (long long)(fh * fw));
        else
            snprintf(fix, sizeof fix, "lower min_keep");
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                           "step %llu drew %s%lldx%lld %s block%s (%lld patch%s), not more "
                           "than min_keep %lld; %s or raise %s_scale_min",
                           (unsigned long long)step, tgt ? "" : "a ", (long long)(tgt ? h : hc),
                           (long long)(tgt ? w : wc), what, tgt ? "s" : "",
                           (long long)(tgt ? h * w : hc * wc),
                           (tgt ? h * w : hc * wc) == 1 ? "" : "es", (long long)ms->min_keep,
                           fix, what);
    }

    int64_t keep = INT64_MAX;
    for (int64_t b = 0; b < batch; b++) {
        const int st = sample_image(ms, &rng, b, h, w, hc, wc);
        if (st < 0)
            return st;
        if (ms->c_count[b] < keep)
            keep = ms->c_count[b];
    }

    /* targets [num_targets, batch, h*w]: block rows, ascending */
    const int64_t G = ms->G, T = ms->num_targets, nt = h * w;
    for (int64_t m = 0; m < T; m++)
        for (int64_t b = 0; b < batch; b++) {
            int32_t *o = targets + (m * batch + b) * nt;
            const int64_t top = ms->t_top[b * T + m], left = ms->t_left[b * T + m];
            for (int64_t r = top; r < top + h; r++)
                for (int64_t c = left; c < left + w; c++)
                    *o++ = (int32_t)(r * G + c);
        }
    /* context [batch, keep] */
    for (int64_t b = 0; b < batch; b++)
        write_context(ms, &rng, b, h, w, hc, wc, keep, context + b * keep);
    *n_context = keep;
    *n_target = nt;
    return IJEPA_OK;
}
