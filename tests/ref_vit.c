/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The libijepa authors */
/*
 * Implements: tests/ref_vit.h — the official ViT encoder forward in double,
 * bound to a parameter buffer through the public tensor table.
 */
#include "ref_vit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref.h"

int ref_vit_cfg_from_config(ref_vit_cfg *c, const ijepa_config *cfg)
{
    int64_t v[7];
    static const int32_t keys[7] = {IJEPA_CFG_IMG_SIZE, IJEPA_CFG_PATCH_SIZE,
                                    IJEPA_CFG_IN_CHANS, IJEPA_CFG_EMBED_DIM,
                                    IJEPA_CFG_DEPTH, IJEPA_CFG_NUM_HEADS,
                                    IJEPA_CFG_QKV_BIAS};
    double ratio, eps;
    for (int i = 0; i < 7; i++)
        if (ijepa_config_get_int(cfg, keys[i], &v[i]) != IJEPA_OK) return -1;
    if (ijepa_config_get_float(cfg, IJEPA_CFG_MLP_RATIO, &ratio) != IJEPA_OK ||
        ijepa_config_get_float(cfg, IJEPA_CFG_LN_EPS, &eps) != IJEPA_OK)
        return -1;
    c->img = v[0];
    c->patch = v[1];
    c->in_chans = v[2];
    c->D = v[3];
    c->depth = v[4];
    c->heads = v[5];
    c->qkv_bias = (int)v[6];
    c->hidden = (int64_t)((double)c->D * ratio); /* Python int(): truncation */
    /* the library stores eps as the LayerNorm primitive's float */
    c->eps = (double)(float)eps;
    return 0;
}

// --- binding by official names -------------------------------------------------

/* Find name, check its shape against dims[0..ndim-1], return its data. */
static const double *lookup(const ijepa_tensor_table *tab, const double *params,
                            const char *name, int32_t ndim, const int64_t *dims,
                            char *err, size_t errlen)
{
    int64_t idx, off, numel, got[IJEPA_TENSOR_MAX_DIMS];
    int32_t nd;
    if (ijepa_tensor_table_find(tab, name, &idx) != IJEPA_OK) {
        snprintf(err, errlen, "tensor '%s' not in the table", name);
        return NULL;
    }
    if (ijepa_tensor_table_info(tab, idx, &off, &numel, &nd, got, NULL) != IJEPA_OK) {
        snprintf(err, errlen, "tensor '%s': info failed", name);
        return NULL;
    }
    int ok = nd == ndim;
    int64_t want_numel = 1;
    for (int i = 0; i < ndim && ok; i++) {
        ok = got[i] == dims[i];
        want_numel *= dims[i];
    }
    if (!ok || numel != want_numel) {
        snprintf(err, errlen, "tensor '%s': ndim %d dims [%lld %lld %lld %lld] numel %lld "
                 "do not match the official shape", name, (int)nd, (long long)got[0],
                 (long long)got[1], (long long)got[2], (long long)got[3], (long long)numel);
        return NULL;
    }
    return params + off;
}

int ref_vit_bind(ref_vit *v, const ref_vit_cfg *cfg, const ijepa_tensor_table *tab,
                 const double *params, char *err, size_t errlen)
{
    memset(v, 0, sizeof *v);
    v->cfg = *cfg;
    const int64_t D = cfg->D, p = cfg->patch, Hd = cfg->hidden;
    v->G = cfg->img / p;
    v->N = v->G * v->G;
    v->cpp = cfg->in_chans * p * p;
    v->blocks = calloc((size_t)cfg->depth, sizeof *v->blocks);
    if (!v->blocks) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const int64_t d_pos[3] = {1, v->N, D}, d_pw[4] = {D, cfg->in_chans, p, p};
    const int64_t d_D[1] = {D};
    if (!(v->pos = lookup(tab, params, "pos_embed", 3, d_pos, err, errlen)) ||
        !(v->pw = lookup(tab, params, "patch_embed.proj.weight", 4, d_pw, err, errlen)) ||
        !(v->pb = lookup(tab, params, "patch_embed.proj.bias", 1, d_D, err, errlen)) ||
        !(v->nw = lookup(tab, params, "norm.weight", 1, d_D, err, errlen)) ||
        !(v->nb = lookup(tab, params, "norm.bias", 1, d_D, err, errlen)))
        goto fail;
    if (ref_vit_bind_blocks(v->blocks, cfg->depth, D, Hd, cfg->qkv_bias, "blocks", tab,
                            params, err, errlen) != 0)
        goto fail;
    return 0;
fail:
    ref_vit_unbind(v);
    return -1;
}

void ref_vit_unbind(ref_vit *v)
{
    free(v->blocks);
    v->blocks = NULL;
}

const double *ref_vit_lookup(const ijepa_tensor_table *tab, const double *params,
                             const char *name, int32_t ndim, const int64_t *dims,
                             char *err, size_t errlen)
{
    return lookup(tab, params, name, ndim, dims, err, errlen);
}

int ref_vit_bind_blocks(ref_vit_block *blocks, int64_t depth, int64_t D, int64_t Hd,
                        int qkv_bias, const char *prefix, const ijepa_tensor_table *tab,
                        const double *params, char *err, size_t errlen)
{
    const int64_t d_D[1] = {D}, d_qkv[2] = {3 * D, D}, d_3D[1] = {3 * D};
    const int64_t d_proj[2] = {D, D}, d_fc1[2] = {Hd, D}, d_H[1] = {Hd};
    const int64_t d_fc2[2] = {D, Hd};
    for (int64_t i = 0; i < depth; i++) {
        ref_vit_block *b = &blocks[i];
        memset(b, 0, sizeof *b);
        struct {
            const char *suffix;
            const double **slot;
            int32_t ndim;
            const int64_t *dims;
        } t[] = {
            {"norm1.weight", &b->n1w, 1, d_D},      {"norm1.bias", &b->n1b, 1, d_D},
            {"attn.qkv.weight", &b->qkvw, 2, d_qkv}, {"attn.qkv.bias", &b->qkvb, 1, d_3D},
            {"attn.proj.weight", &b->projw, 2, d_proj}, {"attn.proj.bias", &b->projb, 1, d_D},
            {"norm2.weight", &b->n2w, 1, d_D},      {"norm2.bias", &b->n2b, 1, d_D},
            {"mlp.fc1.weight", &b->fc1w, 2, d_fc1}, {"mlp.fc1.bias", &b->fc1b, 1, d_H},
            {"mlp.fc2.weight", &b->fc2w, 2, d_fc2}, {"mlp.fc2.bias", &b->fc2b, 1, d_D},
        };
        for (size_t j = 0; j < sizeof t / sizeof t[0]; j++) {
            char name[128];
            snprintf(name, sizeof name, "%s.%lld.%s", prefix, (long long)i, t[j].suffix);
            if (t[j].slot == &b->qkvb && !qkv_bias) {
                int64_t idx;
                if (ijepa_tensor_table_find(tab, name, &idx) == IJEPA_OK) {
                    snprintf(err, errlen, "'%s' present although qkv_bias = 0", name);
                    return -1;
                }
                continue;
            }
            *t[j].slot = lookup(tab, params, name, t[j].ndim, t[j].dims, err, errlen);
            if (!*t[j].slot) return -1;
        }
    }
    return 0;
}

// --- forward -------------------------------------------------------------------------

/* y [R, out] = x [R, in] W^T + b, W [out, in] (PyTorch Linear) */
static void linear(int64_t R, int64_t in, int64_t out, const double *x, const double *W,
                   const double *b, double *y)
{
    for (int64_t r = 0; r < R; r++)
        for (int64_t o = 0; o < out; o++) {
            double s = b ? b[o] : 0.0;
            for (int64_t i = 0; i < in; i++) s += x[r * in + i] * W[o * in + i];
            y[r * out + o] = s;
        }
}

/*
 * Multi-head self-attention of one sequence of T tokens:
 * qkv [T, 3D] (q | k | v, heads contiguous), o [T, D] heads concatenated.
 * s [T] scratch.
 */
static void attention(int64_t T, int64_t D, int64_t H, const double *qkv, double *o,
                      double *s)
{
    const int64_t hd = D / H;
    const double scale = 1.0 / sqrt((double)hd);
    for (int64_t h = 0; h < H; h++)
        for (int64_t t = 0; t < T; t++) {
            const double *q = qkv + t * 3 * D + h * hd;
            double mx = -INFINITY, sum = 0.0;
            for (int64_t u = 0; u < T; u++) {
                const double *k = qkv + u * 3 * D + D + h * hd;
                double dot = 0.0;
                for (int64_t e = 0; e < hd; e++) dot += q[e] * k[e];
                s[u] = dot * scale;
                if (s[u] > mx) mx = s[u];
            }
            for (int64_t u = 0; u < T; u++) {
                s[u] = exp(s[u] - mx);
                sum += s[u];
            }
            for (int64_t e = 0; e < hd; e++) {
                double acc = 0.0;
                for (int64_t u = 0; u < T; u++) acc += s[u] * qkv[u * 3 * D + 2 * D + h * hd + e];
                o[t * D + h * hd + e] = acc / sum;
            }
        }
}

int ref_vit_forward(const ref_vit *v, const double *images, int64_t B,
                    const int32_t *keep, int64_t K, double *out)
{
    const ref_vit_cfg *c = &v->cfg;
    const int64_t D = c->D, N = v->N, G = v->G, p = c->patch, img = c->img;
    const int64_t C = c->in_chans, Hd = c->hidden;
    const int64_t T = keep ? K : N, R = B * T;
    double *tok = ref_dalloc(B * N * D), *x = ref_dalloc(R * D);
    int rc = -1;
    if (!tok || !x) goto done;

    /* Conv2d with kernel = stride = p, then + pos_embed */
    for (int64_t b = 0; b < B; b++)
        for (int64_t n = 0; n < N; n++) {
            const int64_t pr = n / G, pc = n % G;
            for (int64_t d = 0; d < D; d++) {
                double acc = v->pb[d];
                for (int64_t ch = 0; ch < C; ch++)
                    for (int64_t i = 0; i < p; i++)
                        for (int64_t j = 0; j < p; j++)
                            acc += v->pw[((d * C + ch) * p + i) * p + j] *
                                   images[((b * C + ch) * img + pr * p + i) * img + pc * p + j];
                tok[(b * N + n) * D + d] = acc + v->pos[n * D + d];
            }
        }
    /* apply_masks: gather kept tokens */
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++) {
            const int64_t n = keep ? keep[b * K + t] : t;
            memcpy(x + (b * T + t) * D, tok + (b * N + n) * D, (size_t)D * sizeof(double));
        }

    if (ref_vit_blocks_forward(v->blocks, c->depth, D, c->heads, Hd, c->eps, B, T, x) != 0)
        goto done;
    ref_layernorm_fwd(R, D, c->eps, x, v->nw, v->nb, out, NULL, NULL);
    rc = 0;
done:
    free(tok); free(x);
    return rc;
}

int ref_vit_blocks_forward(const ref_vit_block *blocks, int64_t depth, int64_t D,
                           int64_t heads, int64_t Hd, double eps, int64_t S, int64_t T,
                           double *x)
{
    const int64_t R = S * T;
    double *h = ref_dalloc(R * D), *qkv = ref_dalloc(R * 3 * D), *o = ref_dalloc(R * D);
    double *y = ref_dalloc(R * D), *u = ref_dalloc(R * Hd), *s = ref_dalloc(T);
    int rc = -1;
    if (!h || !qkv || !o || !y || !u || !s) goto done;
    for (int64_t l = 0; l < depth; l++) {
        const ref_vit_block *w = &blocks[l];
        ref_layernorm_fwd(R, D, eps, x, w->n1w, w->n1b, h, NULL, NULL);
        linear(R, D, 3 * D, h, w->qkvw, w->qkvb, qkv);
        for (int64_t b = 0; b < S; b++)
            attention(T, D, heads, qkv + b * T * 3 * D, o + b * T * D, s);
        linear(R, D, D, o, w->projw, w->projb, y);
        for (int64_t i = 0; i < R * D; i++) x[i] += y[i];
        ref_layernorm_fwd(R, D, eps, x, w->n2w, w->n2b, h, NULL, NULL);
        linear(R, D, Hd, h, w->fc1w, w->fc1b, u);
        ref_gelu_fwd(R * Hd, u, u);
        linear(R, Hd, D, u, w->fc2w, w->fc2b, y);
        for (int64_t i = 0; i < R * D; i++) x[i] += y[i];
    }
    rc = 0;
done:
    free(h); free(qkv); free(o); free(y); free(u); free(s);
    return rc;
}

// --- positional embedding ------------------------------------------------------------

/*
 * MAE/I-JEPA get_2d_sincos_pos_embed: meshgrid(grid_w, grid_h) puts the
 * column first, so channels are [sin(c w) | cos(c w) | sin(r w) | cos(r w)],
 * w_k = 1 / 10000^(k / (D/4)), k < D/4, for the token at row r, column c.
 */
void ref_vit_sincos(int64_t G, int64_t D, double *pos)
{
    const int64_t Q = D / 4;
    for (int64_t r = 0; r < G; r++)
        for (int64_t c = 0; c < G; c++) {
            double *e = pos + (r * G + c) * D;
            for (int64_t k = 0; k < Q; k++) {
                double w = 1.0 / pow(10000.0, (double)k / ((double)D / 4.0));
                e[k] = sin((double)c * w);
                e[Q + k] = cos((double)c * w);
                e[2 * Q + k] = sin((double)r * w);
                e[3 * Q + k] = cos((double)r * w);
            }
        }
}
