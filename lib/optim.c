/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: the AdamW optimizer handle (optim.h) with global-norm gradient
 * clipping, the EMA update of a target encoder, and the official lr,
 * weight-decay and momentum schedules.
 *
 * Every trainable tensor of every group is cut into chunks of at most CHUNK
 * elements when the group is registered. Reductions (the gradient norm) sum
 * each chunk serially in double into its own slot of opt->part and then add
 * the slots in chunk order: the result does not depend on the number of
 * threads or on which thread ran which chunk. Element-wise updates are
 * independent per element and so reproducible too.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "glue.h"
#include "ijepa/optim.h"
#include "optim_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define T512 __attribute__((target("avx512f")))
/* The AVX-512 loops below do the scalar loops' float32 (or double)
 * operations in the same order, each correctly rounded (no FMA): the same
 * bits, 16 (8) elements at a time. The sum of squares adds in 8 lanes. */
static int have_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}
#else
static int have_avx512(void) { return 0; }
#endif

#define CHUNK 16384
/* pi as Python's math.pi (M_PI is not in strict C11) */
#define PI 3.14159265358979323846
/* Parallelise a loop only when it touches at least this many floats. */
#define PAR_MIN 32768

// ---------------------------------------------------------------------------------------------

typedef struct group {
    float *p, *g;                      /* borrowed [total]: parameters, gradients */
    float *m, *v;                      /* owned [total]: AdamW moments */
    const ijepa_tensor_table *tab;     /* borrowed */
    int64_t total;                     /* floats per buffer, padding included */
    int64_t trainable;                 /* elements of non-frozen tensors */
} group;

typedef struct chunk {
    int64_t off, n;                    /* element range in its group's buffers */
    int32_t grp;                       /* group index */
    int32_t tensor;                    /* tensor index in the group's table */
    int32_t decay;                     /* 0 for NO_DECAY tensors */
} chunk;

struct ijepa_optimizer {
    ijepa__err err;
    double beta1, beta2, eps, clip;
    int64_t t;                         /* completed steps */
    int32_t ngroups;
    group grp[IJEPA_OPTIMIZER_MAX_GROUPS];
    chunk *chunks;                     /* [nchunks] over all groups, in group order */
    double *part;                      /* [nchunks] per-chunk partial sums */
    int64_t nchunks;
    int64_t trainable;                 /* sum of the groups' trainable elements */
};

// --- handle ----------------------------------------------------------------------------------

int ijepa_optimizer_create(ijepa_optimizer **out, const ijepa_config *cfg)
{
    if (!out)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!cfg)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "config is NULL");
    const double b1 = ijepa__cfg_float(cfg, IJEPA_CFG_ADAM_BETA1);
    const double b2 = ijepa__cfg_float(cfg, IJEPA_CFG_ADAM_BETA2);
    const double eps = ijepa__cfg_float(cfg, IJEPA_CFG_ADAM_EPS);
    const double clip = ijepa__cfg_float(cfg, IJEPA_CFG_CLIP_GRAD);
    if (!(b1 >= 0.0 && b1 < 1.0) || !(b2 >= 0.0 && b2 < 1.0))
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "adam_beta1 %g and adam_beta2 %g must be in [0, 1)", b1, b2);
    if (!(eps > 0.0))
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "adam_eps %g must be > 0", eps);
    if (!(clip >= 0.0) || !isfinite(clip))
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG,
                                "clip_grad %g must be finite and >= 0", clip);
    ijepa_optimizer *opt = calloc(1, sizeof *opt);
    if (!opt)
        return ijepa__fail_func(__func__, IJEPA_ERR_NOMEM, "cannot allocate the optimizer");
    opt->beta1 = b1;
    opt->beta2 = b2;
    opt->eps = eps;
    opt->clip = clip;
    *out = opt;
    return IJEPA_OK;
}

void ijepa_optimizer_free(ijepa_optimizer *opt)
{
    if (!opt)
        return;
    for (int32_t i = 0; i < opt->ngroups; i++) {
        ijepa__ffree(opt->grp[i].m);
        ijepa__ffree(opt->grp[i].v);
    }
    free(opt->chunks);
    free(opt->part);
    free(opt);
}

/* Do the byte ranges [a, a + na) and [b, b + nb) intersect? */
static int overlaps(const float *a, int64_t na, const float *b, int64_t nb)
{
    const uintptr_t a0 = (uintptr_t)a, a1 = a0 + (uintptr_t)na * sizeof(float);
    const uintptr_t b0 = (uintptr_t)b, b1 = b0 + (uintptr_t)nb * sizeof(float);
    return a0 < b1 && b0 < a1;
}

int ijepa_optimizer_add(ijepa_optimizer *opt, float *params, float *grads,
                        const ijepa_tensor_table *table)
{
    if (!opt)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "optimizer is NULL");
    ijepa__err *e = &opt->err;
    ijepa__enter(e, __func__);
    if (!params || !grads || !table)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "params, grads and table must not be NULL");
    if (opt->ngroups >= IJEPA_OPTIMIZER_MAX_GROUPS)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "already %d groups, the most allowed",
                           IJEPA_OPTIMIZER_MAX_GROUPS);
    const int64_t total = table->total;
    if (table->count < 1 || total < 1)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "the tensor table has no tensors");
    if (overlaps(params, total, grads, total))
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "params and grads overlap");
    for (int32_t i = 0; i < opt->ngroups; i++) {
        const group *o = &opt->grp[i];
        if (overlaps(params, total, o->p, o->total) || overlaps(params, total, o->g, o->total) ||
            overlaps(grads, total, o->p, o->total) || overlaps(grads, total, o->g, o->total))
            return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                               "params or grads overlap the buffers of group %d", (int)i);
    }
    if (table->count > INT32_MAX)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "the tensor table is too large");
    /* Count the new chunks and validate the table's spans. */
    int64_t add = 0, trainable = 0;
    for (int64_t k = 0; k < table->count; k++) {
        const ijepa__tensor *t = &table->t[k];
        if (t->offset < 0 || t->numel < 0 || t->offset > total - t->numel)
            return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                               "tensor '%s' lies outside its %lld-float buffer", t->name,
                               (long long)total);
        if (t->flags & IJEPA_TENSOR_FROZEN)
            continue;
        add += (t->numel + CHUNK - 1) / CHUNK;
        trainable += t->numel;
    }
    /* Allocate everything first: on failure nothing is registered. */
    const int64_t n = opt->nchunks + add;
    group g = {params, grads, ijepa__falloc(total), ijepa__falloc(total), table, total, trainable};
    chunk *chunks = malloc((size_t)(n > 0 ? n : 1) * sizeof *chunks);
    double *part = malloc((size_t)(n > 0 ? n : 1) * sizeof *part);
    if (!g.m || !g.v || !chunks || !part) {
        ijepa__ffree(g.m);
        ijepa__ffree(g.v);
        free(chunks);
        free(part);
        return ijepa__fail(e, IJEPA_ERR_NOMEM, "cannot allocate the moments of %lld floats",
                           (long long)total);
    }
    /* the moments come lazily mapped (ijepa__falloc), and AdamW's first
     * step reads them before it writes them: each page would be the
     * kernel's shared zero page first, then faulted again for the write
     * with a TLB shootdown to every thread (about 1 s of ViT-S/16's first
     * step, 43 M parameters). Written here, each page faults once. */
    ijepa__zero(g.m, total);
    ijepa__zero(g.v, total);
    if (opt->nchunks > 0)
        memcpy(chunks, opt->chunks, (size_t)opt->nchunks * sizeof *chunks);
    int64_t c = opt->nchunks;
    for (int64_t k = 0; k < table->count; k++) {
        const ijepa__tensor *t = &table->t[k];
        if (t->flags & IJEPA_TENSOR_FROZEN)
            continue;
        for (int64_t s = 0; s < t->numel; s += CHUNK) {
            chunks[c].off = t->offset + s;
            chunks[c].n = t->numel - s < CHUNK ? t->numel - s : CHUNK;
            chunks[c].grp = opt->ngroups;
            chunks[c].tensor = (int32_t)k;
            chunks[c].decay = !(t->flags & IJEPA_TENSOR_NO_DECAY);
            c++;
        }
    }
    free(opt->chunks);
    free(opt->part);
    opt->chunks = chunks;
    opt->part = part;
    opt->nchunks = n;
    opt->trainable += trainable;
    opt->grp[opt->ngroups] = g;
    return opt->ngroups++;
}

int64_t ijepa_optimizer_step_count(const ijepa_optimizer *opt) { return opt ? opt->t : 0; }

int ijepa_optimizer_set_step_count(ijepa_optimizer *opt, int64_t t)
{
    if (!opt)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "optimizer is NULL");
    ijepa__enter(&opt->err, __func__);
    if (t < 0)
        return ijepa__fail(&opt->err, IJEPA_ERR_INVALID_ARG, "step count %lld is negative",
                           (long long)t);
    opt->t = t;
    return IJEPA_OK;
}

int ijepa_optimizer_moments(ijepa_optimizer *opt, int32_t group, float **m, float **v,
                            int64_t *count)
{
    if (!opt)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "optimizer is NULL");
    ijepa__err *e = &opt->err;
    ijepa__enter(e, __func__);
    if (!m || !v || !count)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "m, v and count must not be NULL");
    if (group < 0 || group >= opt->ngroups)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "group %d is not registered (%d groups)",
                           (int)group, (int)opt->ngroups);
    *m = opt->grp[group].m;
    *v = opt->grp[group].v;
    *count = opt->grp[group].total;
    return IJEPA_OK;
}

// --- gradient norm ---------------------------------------------------------------------------

/* sum of g[i]^2 in double, 8 lanes then added in lane order */
static double sumsq_chunk(const float *g, int64_t n)
{
    double s[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            s[j] += (double)g[i + j] * (double)g[i + j];
    for (int j = 0; i < n; i++, j++)
        s[j] += (double)g[i] * (double)g[i];
    double r = 0.0;
    for (int j = 0; j < 8; j++)
        r += s[j];
    return r;
}

#if defined(__x86_64__)
T512 static double sumsq_chunk_512(const float *g, int64_t n)
{
    __m512d acc = _mm512_setzero_pd();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m512d v = _mm512_cvtps_pd(_mm256_loadu_ps(g + i));
        acc = _mm512_add_pd(acc, _mm512_mul_pd(v, v));
    }
    double s[8];
    _mm512_storeu_pd(s, acc);
    for (int j = 0; i < n; i++, j++)
        s[j] += (double)g[i] * (double)g[i];
    double r = 0.0;
    for (int j = 0; j < 8; j++)
        r += s[j];
    return r;
}
#endif

/* Sum of squared gradients over all chunks, in double, reproducible (see top). */
static double grad_sumsq(ijepa_optimizer *opt)
{
    const chunk *ch = opt->chunks;
    double *part = opt->part;
    const int64_t nc = opt->nchunks;
    const int v512 = have_avx512();
#pragma omp parallel for schedule(static) if (opt->trainable >= PAR_MIN)
    for (int64_t c = 0; c < nc; c++) {
        const float *g = opt->grp[ch[c].grp].g + ch[c].off;
#if defined(__x86_64__)
        part[c] = v512 ? sumsq_chunk_512(g, ch[c].n) : sumsq_chunk(g, ch[c].n);
#else
        (void)v512;
        part[c] = sumsq_chunk(g, ch[c].n);
#endif
    }
    double s = 0.0;
    for (int64_t c = 0; c < nc; c++)
        s += part[c];
    return s;
}

int ijepa_optimizer_grad_norm(ijepa_optimizer *opt, double *norm)
{
    if (!opt)
        return ijepa__fail_func(__func__, IJEPA_ERR_INVALID_ARG, "optimizer is NULL");
    ijepa__enter(&opt->err, __func__);
    if (!norm)
        return ijepa__fail(&opt->err, IJEPA_ERR_INVALID_ARG, "norm is NULL");
    *norm = sqrt(grad_sumsq(opt));
    return IJEPA_OK;
}

/* Name the first non-finite gradient (called only once grad_sumsq() said so). */
static int fail_nonfinite(ijepa_optimizer *opt)
{
    for (int64_t c = 0; c < opt->nchunks; c++) {
        if (isfinite(opt->part[c]))
            continue;
        const chunk *ch = &opt->chunks[c];
        const group *gr = &opt->grp[ch->grp];
        const ijepa__tensor *t = &gr->tab->t[ch->tensor];
        for (int64_t i = 0; i < ch->n; i++) {
            const float g = gr->g[ch->off + i];
            if (!isfinite(g))
                return ijepa__fail(&opt->err, IJEPA_ERR_NUMERIC,
                                   "gradient of '%s' (group %d, element %lld) is %s; "
                                   "nothing was updated",
                                   t->name, (int)ch->grp,
                                   (long long)(ch->off + i - t->offset),
                                   isnan(g) ? "NaN" : "infinite");
        }
    }
    return ijepa__fail(&opt->err, IJEPA_ERR_NUMERIC,
                       "the gradient norm is not finite; nothing was updated");
}

// --- AdamW step ------------------------------------------------------------------------------

/* The per-step constants of the element update. */
typedef struct adamw_k {
    float lr_wd, step, bc2_sqrt, b1, omb1, b2, omb2, eps, coef;
    int scale;
} adamw_k;

static void adamw_chunk(const adamw_k *k, float dec, float *P, float *G, float *M, float *V,
                        int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float g = G[i];
        if (k->scale) {
            g = g * k->coef;
            G[i] = g;
        }
        float p = P[i];
        p = p - dec * p;
        const float m = k->b1 * M[i] + k->omb1 * g;
        const float v = k->b2 * V[i] + k->omb2 * (g * g);
        const float denom = sqrtf(v) / k->bc2_sqrt + k->eps;
        M[i] = m;
        V[i] = v;
        P[i] = p - k->step * (m / denom);
    }
}

#if defined(__x86_64__)
T512 static void adamw_chunk_512(const adamw_k *k, float dec, float *P, float *G, float *M,
                                 float *V, int64_t n)
{
    const __m512 vdec = _mm512_set1_ps(dec), b1 = _mm512_set1_ps(k->b1);
    const __m512 omb1 = _mm512_set1_ps(k->omb1), b2 = _mm512_set1_ps(k->b2);
    const __m512 omb2 = _mm512_set1_ps(k->omb2), bc2 = _mm512_set1_ps(k->bc2_sqrt);
    const __m512 eps = _mm512_set1_ps(k->eps), step = _mm512_set1_ps(k->step);
    const __m512 coef = _mm512_set1_ps(k->coef);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 g = _mm512_loadu_ps(G + i);
        if (k->scale) {
            g = _mm512_mul_ps(g, coef);
            _mm512_storeu_ps(G + i, g);
        }
        __m512 p = _mm512_loadu_ps(P + i);
        p = _mm512_sub_ps(p, _mm512_mul_ps(vdec, p));
        const __m512 m = _mm512_add_ps(_mm512_mul_ps(b1, _mm512_loadu_ps(M + i)),
                                       _mm512_mul_ps(omb1, g));
        const __m512 v = _mm512_add_ps(_mm512_mul_ps(b2, _mm512_loadu_ps(V + i)),
                                       _mm512_mul_ps(omb2, _mm512_mul_ps(g, g)));
        const __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(v), bc2), eps);
        _mm512_storeu_ps(M + i, m);
        _mm512_storeu_ps(V + i, v);
        _mm512_storeu_ps(P + i, _mm512_sub_ps(p, _mm512_mul_ps(step, _mm512_div_ps(m, denom))));
    }
    adamw_chunk(k, dec, P + i, G + i, M + i, V + i, n - i);
}
#endif

/* The AdamW step; *gnorm (if not NULL) gets the norm of the gradients
 * before clipping, from the same pass that checks them. */
static int step_impl(ijepa_optimizer *opt, const char *func, double lr, double weight_decay,
                     double *gnorm)
{
    if (!opt)
        return ijepa__fail_func(func, IJEPA_ERR_INVALID_ARG, "optimizer is NULL");
    ijepa__err *e = &opt->err;
    ijepa__enter(e, func);
    if (!isfinite(lr) || lr < 0.0)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG, "lr %g must be finite and >= 0", lr);
    if (!isfinite(weight_decay) || weight_decay < 0.0)
        return ijepa__fail(e, IJEPA_ERR_INVALID_ARG,
                           "weight_decay %g must be finite and >= 0", weight_decay);
    if (opt->ngroups == 0)
        return ijepa__fail(e, IJEPA_ERR_STATE, "no parameter group is registered");
    if (opt->t == INT64_MAX)
        return ijepa__fail(e, IJEPA_ERR_STATE, "the step count is at its maximum");

    /* Check before touching anything: a non-finite gradient changes nothing.
     * In double the sum of squares of finite floats cannot overflow. */
    const double sumsq = grad_sumsq(opt);
    if (!isfinite(sumsq))
        return fail_nonfinite(opt);
    if (gnorm)
        *gnorm = sqrt(sumsq);
    int scale = 0;
    float coef = 1.0f;
    if (opt->clip > 0.0) {
        const double c = opt->clip / (sqrt(sumsq) + 1e-6);
        if (c < 1.0) {
            scale = 1;
            coef = (float)c;
        }
    }

    /* Per-step scalars in double (bias corrections precomputed once). */
    const int64_t t = opt->t + 1;
    const double bc1 = 1.0 - pow(opt->beta1, (double)t);
    const double bc2 = 1.0 - pow(opt->beta2, (double)t);
    adamw_k k;
    k.lr_wd = (float)(lr * weight_decay);
    k.step = (float)(lr / bc1);
    k.bc2_sqrt = (float)sqrt(bc2);
    k.b1 = (float)opt->beta1;
    k.omb1 = (float)(1.0 - opt->beta1);
    k.b2 = (float)opt->beta2;
    k.omb2 = (float)(1.0 - opt->beta2);
    k.eps = (float)opt->eps;
    k.coef = coef;
    k.scale = scale;

    const chunk *ch = opt->chunks;
    const int64_t nc = opt->nchunks;
    const int v512 = have_avx512();
#pragma omp parallel for schedule(static) if (opt->trainable >= PAR_MIN)
    for (int64_t c = 0; c < nc; c++) {
        const group *gr = &opt->grp[ch[c].grp];
        float *P = gr->p + ch[c].off, *G = gr->g + ch[c].off;
        float *M = gr->m + ch[c].off, *V = gr->v + ch[c].off;
        const float dec = ch[c].decay ? k.lr_wd : 0.0f;
#if defined(__x86_64__)
        if (v512)
            adamw_chunk_512(&k, dec, P, G, M, V, ch[c].n);
        else
            adamw_chunk(&k, dec, P, G, M, V, ch[c].n);
#else
        (void)v512;
        adamw_chunk(&k, dec, P, G, M, V, ch[c].n);
#endif
    }
    opt->t = t;
    return IJEPA_OK;
}

int ijepa_optimizer_step(ijepa_optimizer *opt, double lr, double weight_decay)
{
    return step_impl(opt, __func__, lr, weight_decay, NULL);
}

int ijepa__optimizer_step_norm(ijepa_optimizer *opt, const char *func, double lr,
                               double weight_decay, double *gnorm)
{
    return step_impl(opt, func, lr, weight_decay, gnorm);
}

// --- EMA -------------------------------------------------------------------------------------

#if defined(__x86_64__)
T512 static void ema_chunk_512(double m, double om, float *tp, const float *op, int64_t n)
{
    const __m512d vm = _mm512_set1_pd(m), vom = _mm512_set1_pd(om);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m512d t = _mm512_cvtps_pd(_mm256_loadu_ps(tp + i));
        const __m512d o = _mm512_cvtps_pd(_mm256_loadu_ps(op + i));
        const __m512d r = _mm512_add_pd(_mm512_mul_pd(vm, t), _mm512_mul_pd(vom, o));
        _mm256_storeu_ps(tp + i, _mm512_cvtpd_ps(r));
    }
    for (; i < n; i++)
        tp[i] = (float)(m * (double)tp[i] + om * (double)op[i]);
}
#endif

int ijepa_encoder_ema_update(ijepa_encoder *target, ijepa_encoder *online, double momentum)
{
    const char *F = __func__;
    if (!target || !online)
        return ijepa__fail_func(F, IJEPA_ERR_INVALID_ARG, "target and online must not be NULL");
    if (target == online)
        return ijepa__fail_func(F, IJEPA_ERR_INVALID_ARG,
                                "target and online are the same encoder");
    if (!(momentum >= 0.0 && momentum <= 1.0))
        return ijepa__fail_func(F, IJEPA_ERR_INVALID_ARG, "momentum %g is outside [0, 1]",
                                momentum);
    const ijepa_tensor_table *a = ijepa_encoder_tensors(target);
    const ijepa_tensor_table *b = ijepa_encoder_tensors(online);
    if (a->count != b->count || a->total != b->total)
        return ijepa__fail_func(F, IJEPA_ERR_INVALID_ARG,
                                "encoders differ: %lld tensors in %lld floats vs %lld in %lld",
                                (long long)a->count, (long long)a->total,
                                (long long)b->count, (long long)b->total);
    for (int64_t i = 0; i < a->count; i++) {
        const ijepa__tensor *x = &a->t[i], *y = &b->t[i];
        if (strcmp(x->name, y->name) != 0 || x->offset != y->offset || x->numel != y->numel)
            return ijepa__fail_func(F, IJEPA_ERR_INVALID_ARG,
                                    "encoders differ at tensor %lld: '%s' [%lld floats] vs "
                                    "'%s' [%lld floats]", (long long)i, x->name,
                                    (long long)x->numel, y->name, (long long)y->numel);
    }
    float *tp, *op;
    int64_t tn, on;
    if (ijepa_encoder_params(target, &tp, &tn) < 0 || ijepa_encoder_params(online, &op, &on) < 0)
        return ijepa__fail_func(F, IJEPA_ERR_INVALID_ARG, "cannot borrow the parameters");
    if (momentum == 1.0)
        return IJEPA_OK;
    /* target (n), online (n): t = m t + (1 - m) o, in double, one rounding */
    const double m = momentum, om = 1.0 - momentum;
    const int v512 = have_avx512();
    const int64_t nb = (tn + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static) if (tn >= PAR_MIN)
    for (int64_t b = 0; b < nb; b++) {
        const int64_t i0 = b * CHUNK, i1 = i0 + CHUNK < tn ? i0 + CHUNK : tn;
#if defined(__x86_64__)
        if (v512) {
            ema_chunk_512(m, om, tp + i0, op + i0, i1 - i0);
            continue;
        }
#else
        (void)v512;
#endif
        for (int64_t i = i0; i < i1; i++)
            tp[i] = (float)(m * (double)tp[i] + om * (double)op[i]);
    }
    return IJEPA_OK;
}

// --- schedules -------------------------------------------------------------------------------

static double sched_fail(const char *func, const char *why)
{
    ijepa__fail_func(func, IJEPA_ERR_INVALID_ARG, "%s", why);
    return NAN;
}

double ijepa_schedule_lr(int64_t step, int64_t warmup_steps, int64_t total_steps,
                         double start_lr, double ref_lr, double final_lr)
{
    if (step < 0 || warmup_steps < 0 || total_steps < 1)
        return sched_fail(__func__, "need step >= 0, warmup_steps >= 0 and total_steps >= 1");
    if (!isfinite(start_lr) || !isfinite(ref_lr) || !isfinite(final_lr))
        return sched_fail(__func__, "start_lr, ref_lr and final_lr must be finite");
    if (step < warmup_steps) {
        const double p = (double)step / (double)warmup_steps;
        return start_lr + p * (ref_lr - start_lr);
    }
    const int64_t tmax = total_steps - warmup_steps > 1 ? total_steps - warmup_steps : 1;
    double p = (double)(step - warmup_steps) / (double)tmax;
    if (p > 1.0)
        p = 1.0;
    const double lr = final_lr + (ref_lr - final_lr) * 0.5 * (1.0 + cos(PI * p));
    return lr > final_lr ? lr : final_lr;
}

double ijepa_schedule_weight_decay(int64_t step, int64_t total_steps, double ref_wd,
                                   double final_wd)
{
    if (step < 0 || total_steps < 1)
        return sched_fail(__func__, "need step >= 0 and total_steps >= 1");
    if (!isfinite(ref_wd) || !isfinite(final_wd))
        return sched_fail(__func__, "ref_wd and final_wd must be finite");
    double p = (double)step / (double)total_steps;
    if (p > 1.0)
        p = 1.0;
    const double wd = final_wd + (ref_wd - final_wd) * 0.5 * (1.0 + cos(PI * p));
    if (final_wd <= ref_wd)
        return wd > final_wd ? wd : final_wd;
    return wd < final_wd ? wd : final_wd;
}

double ijepa_schedule_momentum(int64_t step, int64_t total_steps, double start, double end)
{
    if (step < 0 || total_steps < 1)
        return sched_fail(__func__, "need step >= 0 and total_steps >= 1");
    if (!isfinite(start) || !isfinite(end))
        return sched_fail(__func__, "start and end must be finite");
    if (step > total_steps)
        return end;
    return start + (double)step * (end - start) / (double)total_steps;
}
