/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: the image transforms of image.h: torchvision's
 * RandomResizedCrop box sampling on the library's RNG, PIL's bilinear
 * resampling (triangle filter, widened when shrinking), the evaluation
 * resize + centre crop, and normalisation.
 *
 * The resampler is separable: a horizontal pass over the source rows the
 * output window needs, into a float buffer, then a vertical pass. Only the
 * output window is computed (the centre crop of the evaluation transform
 * never resamples the pixels it would discard).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "image_internal.h"

int ijepa__xform_from_cfg(ijepa__err *e, ijepa__xform *xf, const ijepa_config *cfg)
{
    memset(xf, 0, sizeof *xf);
    xf->size = ijepa__cfg_int(cfg, IJEPA_CFG_IMG_SIZE);
    xf->mode = (int)ijepa__cfg_int(cfg, IJEPA_CFG_DATA_TRANSFORM);
    xf->smin = ijepa__cfg_float(cfg, IJEPA_CFG_DATA_CROP_SCALE_MIN);
    xf->smax = ijepa__cfg_float(cfg, IJEPA_CFG_DATA_CROP_SCALE_MAX);
    xf->rmin = ijepa__cfg_float(cfg, IJEPA_CFG_DATA_CROP_RATIO_MIN);
    xf->rmax = ijepa__cfg_float(cfg, IJEPA_CFG_DATA_CROP_RATIO_MAX);
    const int32_t mk[3] = {IJEPA_CFG_DATA_MEAN_R, IJEPA_CFG_DATA_MEAN_G, IJEPA_CFG_DATA_MEAN_B};
    const int32_t sk[3] = {IJEPA_CFG_DATA_STD_R, IJEPA_CFG_DATA_STD_G, IJEPA_CFG_DATA_STD_B};
    for (int c = 0; c < 3; c++) {
        xf->mean[c] = ijepa__cfg_float(cfg, mk[c]);
        xf->std[c] = ijepa__cfg_float(cfg, sk[c]);
    }
    xf->eval_resize = ijepa__cfg_int(cfg, IJEPA_CFG_DATA_EVAL_RESIZE);
    if (xf->eval_resize == 0)
        xf->eval_resize = (int64_t)nearbyint((double)xf->size * 8.0 / 7.0);
    if (xf->smin > xf->smax)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                           "data_crop_scale_min %g exceeds data_crop_scale_max %g", xf->smin,
                           xf->smax);
    if (xf->rmin > xf->rmax)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                           "data_crop_ratio_min %g exceeds data_crop_ratio_max %g", xf->rmin,
                           xf->rmax);
    if (xf->eval_resize < xf->size)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                           "data_eval_resize %lld is smaller than img_size %lld",
                           (long long)xf->eval_resize, (long long)xf->size);
    return IJEPA_OK;
}

// --- RandomResizedCrop.get_params ----------------------------------------------

/* Uniform integer in [0, n), n >= 1, without modulo bias. */
static int64_t randint(ijepa__rng *rng, int64_t n)
{
    const uint64_t un = (uint64_t)n;
    const uint64_t reject_below = (0 - un) % un;
    uint64_t x;
    do
        x = ijepa__rng_u64(rng);
    while (x < reject_below);
    return (int64_t)(x % un);
}

void ijepa__crop_box(int64_t H, int64_t W, const ijepa__xform *xf, uint64_t seed, int64_t box[4])
{
    ijepa__rng rng;
    ijepa__rng_seed(&rng, seed);
    const double area = (double)H * (double)W;
    const double lr0 = log(xf->rmin), lr1 = log(xf->rmax);
    for (int attempt = 0; attempt < 10; attempt++) {
        const double target = area * (xf->smin + (xf->smax - xf->smin) * ijepa__rng_uniform(&rng));
        const double ar = exp(lr0 + (lr1 - lr0) * ijepa__rng_uniform(&rng));
        /* nearbyint: round half to even, as Python's round() */
        const double wd = nearbyint(sqrt(target * ar));
        const double hd = nearbyint(sqrt(target / ar));
        if (wd > 0 && wd <= (double)W && hd > 0 && hd <= (double)H) {
            const int64_t w = (int64_t)wd, h = (int64_t)hd;
            box[0] = randint(&rng, H - h + 1);
            box[1] = randint(&rng, W - w + 1);
            box[2] = h;
            box[3] = w;
            return;
        }
    }
    /* fallback: centre crop */
    const double in_ratio = (double)W / (double)H;
    int64_t w, h;
    if (in_ratio < xf->rmin) {
        w = W;
        h = (int64_t)nearbyint((double)w / xf->rmin);
    } else if (in_ratio > xf->rmax) {
        h = H;
        w = (int64_t)nearbyint((double)h * xf->rmax);
    } else {
        w = W;
        h = H;
    }
    /* torchvision can round h (w) to 0 or past the side on extreme shapes */
    h = h < 1 ? 1 : h > H ? H : h;
    w = w < 1 ? 1 : w > W ? W : w;
    box[0] = (H - h) / 2;
    box[1] = (W - w) / 2;
    box[2] = h;
    box[3] = w;
}

// --- PIL bilinear resampling ---------------------------------------------------

/* Filter taps of one axis: output coordinate o (of out_size over in_size
 * source samples) reads count[o] samples from first[o] with weights
 * wt[o * ksize ...]. */
typedef struct taps {
    int64_t ksize;
    int64_t *first, *count;
    float *wt;
} taps;

static void taps_free(taps *t)
{
    free(t->first);
    free(t->count);
    free(t->wt);
}

static double tri(double x)
{
    x = x < 0 ? -x : x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Taps for output coordinates o0 .. o0 + n - 1 of a resize in_size -> out_size. */
static int taps_make(taps *t, int64_t in_size, int64_t out_size, int64_t o0, int64_t n)
{
    const double scale = (double)in_size / (double)out_size;
    const double fs = scale < 1.0 ? 1.0 : scale;
    const double support = 1.0 * fs;
    t->ksize = (int64_t)ceil(support) * 2 + 1;
    t->first = malloc((size_t)n * sizeof *t->first);
    t->count = malloc((size_t)n * sizeof *t->count);
    t->wt = malloc((size_t)(n * t->ksize) * sizeof *t->wt);
    if (!t->first || !t->count || !t->wt)
        return IJEPA_ERR_NOMEM;
    for (int64_t i = 0; i < n; i++) {
        const double center = ((double)(o0 + i) + 0.5) * scale;
        int64_t lo = (int64_t)(center - support + 0.5);
        int64_t hi = (int64_t)(center + support + 0.5);
        if (lo < 0)
            lo = 0;
        if (hi > in_size)
            hi = in_size;
        if (hi - lo > t->ksize)
            hi = lo + t->ksize;
        float *w = t->wt + i * t->ksize;
        double sum = 0.0;
        for (int64_t k = 0; k < hi - lo; k++)
            sum += tri(((double)(k + lo) - center + 0.5) / fs);
        for (int64_t k = 0; k < hi - lo; k++) {
            const double v = tri(((double)(k + lo) - center + 0.5) / fs);
            w[k] = (float)(sum != 0.0 ? v / sum : 0.0);
        }
        t->first[i] = lo;
        t->count[i] = hi - lo;
    }
    return IJEPA_OK;
}

/*
 * Resample the region (top, left, rh, rw) of img to an out_h x out_w image
 * and write its window of S x S pixels at (oy0, ox0), normalised, to out
 * [c, S, S].
 */
static int resample(const ijepa_image *img, int64_t top, int64_t left, int64_t rh, int64_t rw,
                    int64_t out_h, int64_t out_w, int64_t oy0, int64_t ox0, int64_t S,
                    const ijepa__xform *xf, float *out)
{
    taps tx = {0}, ty = {0};
    float *tmp = NULL;
    int rc = taps_make(&tx, rw, out_w, ox0, S);
    if (rc == IJEPA_OK)
        rc = taps_make(&ty, rh, out_h, oy0, S);
    if (rc < 0)
        goto done;
    /* region rows the vertical taps read */
    const int64_t r0 = ty.first[0];
    const int64_t r1 = ty.first[S - 1] + ty.count[S - 1];
    tmp = malloc((size_t)((r1 - r0) * S) * sizeof *tmp);
    if (!tmp) {
        rc = IJEPA_ERR_NOMEM;
        goto done;
    }
    const int64_t C = img->c;
    for (int64_t c = 0; c < C; c++) {
        for (int64_t r = r0; r < r1; r++) {
            /* interleaved [h, w, C] source, channel c */
            const uint8_t *row = img->px + ((top + r) * img->w + left) * C + c;
            float *t = tmp + (r - r0) * S;
            for (int64_t x = 0; x < S; x++) {
                const uint8_t *p = row + tx.first[x] * C;
                const float *w = tx.wt + x * tx.ksize;
                float acc = 0.0f;
                for (int64_t k = 0; k < tx.count[x]; k++)
                    acc += w[k] * (float)p[k * C];
                t[x] = acc;
            }
        }
        const int ci = c < 3 ? (int)c : 0;
        const float scale = (float)(1.0 / (255.0 * xf->std[ci]));
        const float shift = (float)(xf->mean[ci] / xf->std[ci]);
        float *o = out + c * S * S;
        for (int64_t y = 0; y < S; y++) {
            const float *w = ty.wt + y * ty.ksize;
            const float *t = tmp + (ty.first[y] - r0) * S;
            for (int64_t x = 0; x < S; x++)
                o[y * S + x] = 0.0f;
            for (int64_t k = 0; k < ty.count[y]; k++) {
                const float wk = w[k];
                const float *tr = t + k * S;
                for (int64_t x = 0; x < S; x++)
                    o[y * S + x] += wk * tr[x];
            }
            for (int64_t x = 0; x < S; x++)
                o[y * S + x] = o[y * S + x] * scale - shift;
        }
    }
done:
    taps_free(&tx);
    taps_free(&ty);
    free(tmp);
    return rc;
}

int ijepa__transform(ijepa__err *e, const ijepa_image *img, const ijepa__xform *xf, int mode,
                     uint64_t seed, float *out)
{
    const int64_t S = xf->size;
    int rc;
    if (mode == IJEPA_DATA_TRAIN) {
        int64_t box[4];
        ijepa__crop_box(img->h, img->w, xf, seed, box);
        rc = resample(img, box[0], box[1], box[2], box[3], S, S, 0, 0, S, xf, out);
    } else {
        /* torchvision Resize(R): shorter side R, longer int(R * long / short) */
        const int64_t R = xf->eval_resize;
        int64_t nh, nw;
        if (img->h <= img->w) {
            nh = R;
            nw = (int64_t)((double)R * (double)img->w / (double)img->h);
        } else {
            nw = R;
            nh = (int64_t)((double)R * (double)img->h / (double)img->w);
        }
        const int64_t oy0 = (int64_t)nearbyint((double)(nh - S) / 2.0);
        const int64_t ox0 = (int64_t)nearbyint((double)(nw - S) / 2.0);
        rc = resample(img, 0, 0, img->h, img->w, nh, nw, oy0, ox0, S, xf, out);
    }
    if (rc < 0)
        return ijepa__fail(e, rc, "cannot allocate the resampling buffers");
    return IJEPA_OK;
}

// --- public API ----------------------------------------------------------------

int ijepa_image_crop_box(int64_t height, int64_t width, const ijepa_config *cfg, uint64_t seed,
                         int64_t box[4])
{
    if (!cfg || !box)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "cfg and box must not be NULL");
    if (height < 1 || width < 1)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "image size %lldx%lld",
                                (long long)width, (long long)height);
    ijepa__err e = {__func__};
    ijepa__xform xf;
    int rc = ijepa__xform_from_cfg(&e, &xf, cfg);
    if (rc < 0)
        return rc;
    ijepa__crop_box(height, width, &xf, seed, box);
    return IJEPA_OK;
}

static int transform_api(const char *func, const ijepa_image *img, const ijepa_config *cfg,
                         int mode, uint64_t seed, float *out)
{
    if (!img || !cfg || !out)
        return ijepa__fail_func(func, IJEPA_ERR_INVALID_ARG, "image, cfg and out must not be NULL");
    ijepa__err e = {func};
    ijepa__xform xf;
    int rc = ijepa__xform_from_cfg(&e, &xf, cfg);
    if (rc < 0)
        return rc;
    return ijepa__transform(&e, img, &xf, mode, seed, out);
}

int ijepa_image_transform_train(const ijepa_image *img, const ijepa_config *cfg, uint64_t seed,
                                float *out)
{
    return transform_api(__func__, img, cfg, IJEPA_DATA_TRAIN, seed, out);
}

int ijepa_image_transform_eval(const ijepa_image *img, const ijepa_config *cfg, float *out)
{
    return transform_api(__func__, img, cfg, IJEPA_DATA_EVAL, 0, out);
}
